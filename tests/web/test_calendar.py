"""The calendar feed's steering meetings go to whoever may read the steering group's queue (the one
authority, access.UseCase.READ_STEERING_QUEUE): the people the steering page lets in, no others.
The feed had its own list of roles (steering group, chair, process leader): the board and the
administrators, who read the queue, had no meetings, and a chair's substitute had none either."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.models import Activity, User
from planflow.services.authority import access, people
from planflow.services.authority.access import UseCase
from planflow.services.outputs import calendar_feed
from planflow.services.records.audit import OPERATOR_ACTOR
from tests.services.chain import Chain
from tests.web.dialogue import open_dialogue
from tests.web.two_plans import B_PERIOD, B_TITLE, B, build


def test_the_feed_shows_meetings_to_whoever_may_read_the_steering_queue(
    app: Flask, web: Database, signed_in: Callable[[str], FlaskClient]
) -> None:
    chain = open_dialogue(web)
    dialogue = {"forums": ["Näringslivsrådet"], "held_on": "2026-12-01", "heard": "-"}
    chain.do("processledare", "business_dialogue", dialogue)
    meeting = chain.task("ordforande", "steering_meeting")
    with web.transaction() as session:  # lead1 stands in for the chair while the chair is away
        people.add_substitute(session, OPERATOR_ACTOR, "ordforande", "lead1", date(2026, 1, 1), None)
        usernames = session.scalars(select(User.username).order_by(User.username)).all()
        secrets = {u: calendar_feed.rotate_secret(session, OPERATOR_ACTOR, u) for u in usernames}
        may_read = {
            u
            for u in usernames
            if access.standing(session, people.get_user(session, u)).may(UseCase.READ_STEERING_QUEUE)
        }
    client = app.test_client()
    sees = {
        u
        for u in usernames
        if f"UID:meeting-{meeting.id}." in client.get(f"/calendar/{secrets[u]}.ics").get_data(as_text=True)
    }
    assert sees == may_read
    assert {"kommunstyrelsen", "admin", "lead1", "ordforande", "styrgrupp.nk", "processledare"} <= sees
    assert "anna.nilsson" not in sees and "naringslivsradet" not in sees and "lead2" not in sees
    let_in = {
        u
        for u in ("kommunstyrelsen", "admin", "lead1", "lead2")
        if signed_in(u).get("/steering").status_code == 200
    }
    assert let_in == {"kommunstyrelsen", "admin", "lead1"}  # the steering page's rule, the same one


def test_the_calendar_feed_can_be_one_plans_and_names_the_plan_of_a_meeting(
    app: Flask, web: Database, tmp_path: Path
) -> None:
    two = build(web, tmp_path)
    client = app.test_client()
    every = client.get(f"/calendar/{two.calendar_secret}.ics").get_data(as_text=True)
    b_only = client.get(f"/calendar/{two.calendar_secret}.ics?plan={B}").get_data(as_text=True)
    assert f"meeting-{two.b_meeting_task}" in every and f"meeting-{two.b_meeting_task}" in b_only
    a_decisions = {line for line in every.split("\r\n") if line.startswith("UID:task-")} - {
        line for line in b_only.split("\r\n") if line.startswith("UID:task-")
    }
    assert a_decisions, "plan A's decision task is in the chair's whole feed, not in plan B's"
    unfolded = every.replace("\r\n ", "")
    assert f"SUMMARY:Styrgruppsmöte {B_PERIOD}\\, {B_TITLE}" in unfolded
    assert f"URL:http://127.0.0.1:5000/steering?plan={B}" in unfolded  # the page its readers may open
    assert client.get(f"/calendar/{two.calendar_secret}.ics?plan=no-such-plan").status_code == 404
    assert f"DTSTART;VALUE=DATE:{two.b_meeting_due:%Y%m%d}" in b_only


def test_event_uids_stay_when_the_site_moves_and_titles_name_the_activity(app: Flask, web: Database) -> None:
    """Found: a UID held the site's host, so a site moved to a new address showed every event twice
    in its subscribers' calendars; and a deadline's title named the activity by its code alone.
    Read back with the icalendar package, a parser that is not ours."""
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    Chain(web).start_cycle()
    with web.transaction() as session:
        secret = calendar_feed.rotate_secret(session, OPERATOR_ACTOR, "anna.nilsson")
        titles = dict(
            session.execute(
                select(Activity.code, Activity.title)
                .join(User, User.id == Activity.owner_id)
                .where(User.username == "anna.nilsson")
            ).all()
        )
    client = app.test_client()

    def feed(base_url: str) -> list[icalendar.Event]:
        app.config["BASE_URL"] = base_url
        calendar = icalendar.Calendar.from_ical(client.get(f"/calendar/{secret}.ics").get_data())
        return list(calendar.walk("VEVENT"))

    before, after = feed("https://planflow.gamla-kommunen.se"), feed("https://plan.nya-kommunen.se/planflow")
    uids = [str(event["UID"]) for event in before]
    assert uids and uids == [str(event["UID"]) for event in after] and len(set(uids)) == len(uids)
    assert not any("kommunen" in uid for uid in uids)
    assert all(str(event["URL"]).startswith("https://plan.nya-kommunen.se/planflow/") for event in after)
    summaries = [str(event["SUMMARY"]) for event in after]
    for code, title in titles.items():
        assert f"Rapportera status {code} {title}" in summaries
