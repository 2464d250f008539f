"""The calendar feed: /calendar/<secret>.ics, iCalendar (RFC 5545) that Outlook can subscribe to;
`?plan=<slug>` narrows it to one plan."""

from __future__ import annotations

from datetime import UTC, timedelta

from flask import Blueprint, Response, abort, current_app

from .. import clock
from ..db import get_db
from ..services.outputs import calendar_feed
from .plan import named_plan

bp = Blueprint("calendar", __name__)


@bp.get("/calendar/<secret>.ics")
def feed(secret: str) -> Response:
    base_url = current_app.config["BASE_URL"].rstrip("/")
    with get_db().reading() as session:
        user = calendar_feed.user_for_secret(session, secret)
        if user is None:
            abort(404)
        events = calendar_feed.events(session, user, base_url, named_plan())
        name = user.display_name
    body = to_ics(events, f"planflow – {name}")
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Cache-Control": "private, max-age=300",
            "Content-Disposition": 'inline; filename="planflow.ics"',
        },
    )


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> list[str]:
    """Lines of at most 75 octets, continued with a leading space (RFC 5545 3.1)."""
    out: list[str] = []
    current = ""
    for char in line:
        if len((current + char).encode("utf-8")) > (75 if not out else 74):
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return [out[0], *(" " + part for part in out[1:])]


def to_ics(events: list[calendar_feed.Event], title: str) -> str:
    stamp = clock.now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//planflow//calendar feed//SV",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(title)}",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{event.day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{event.day + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(event.summary)}",
            f"DESCRIPTION:{_escape(event.description)}",
            "TRANSP:TRANSPARENT",
        ]
        if event.url:
            lines.append(f"URL:{event.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))
