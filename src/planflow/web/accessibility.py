"""The accessibility statement (tillgänglighetsredogörelse, lag 2018:1937 om tillgänglighet till
digital offentlig service), read without signing in at a fixed address and linked from every
page's footer. What planflow itself knows about its accessibility (what its tests check, the gaps
it knows) is in the catalogs; who answers for the service, how to reach them and how well it
complies come from the configuration (PLANFLOW_ACCESSIBILITY_*)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, session, url_for
from flask_login import current_user

from .. import config

bp = Blueprint("accessibility", __name__)

# Where DIGG (Myndigheten för digital förvaltning), the supervising authority, takes complaints
# about a public body's digital service: the address DIGG's own guidance tells statements to use.
DIGG_COMPLAINTS = "https://www.digg.se/tdosanmalan"


@dataclass(frozen=True)
class Statement:
    """The organisation's own parts of the statement, as configured."""

    organisation: str
    service: str
    email: str
    phone: str
    response_days: int
    compliance: str  # config.COMPLIANCE_LEVELS
    assessed_on: date
    updated_on: date
    example: bool  # some of it is still the demo's example


def statement_of(settings: Mapping[str, Any]) -> Statement:
    """The statement the configuration makes (config.load has checked its values)."""
    return Statement(
        organisation=settings["ACCESSIBILITY_ORGANISATION"],
        service=settings["ACCESSIBILITY_SERVICE"],
        email=settings["ACCESSIBILITY_EMAIL"].strip(),
        phone=settings["ACCESSIBILITY_PHONE"].strip(),
        response_days=int(settings["ACCESSIBILITY_RESPONSE_DAYS"]),
        compliance=settings["ACCESSIBILITY_COMPLIANCE"],
        assessed_on=date.fromisoformat(str(settings["ACCESSIBILITY_ASSESSED_ON"])),
        updated_on=date.fromisoformat(str(settings["ACCESSIBILITY_UPDATED_ON"])),
        example=any(settings[key] == config.DEFAULTS[key] for key in config.ACCESSIBILITY_EXAMPLE_KEYS),
    )


@bp.get("/tillganglighet")
def statement() -> str:
    """The statement in the reader's language (Swedish unless they chose English)."""
    return render_template(
        "accessibility/statement.html", s=statement_of(current_app.config), digg=DIGG_COMPLAINTS
    )


@bp.get("/accessibility")
def statement_in_english() -> Any:
    """The statement's English address: in English for a visitor who has chosen no language; a
    reader who has (signed in, or by the language button) is sent to the statement's own address,
    shown in their language, so that the button works here too."""
    if current_user.is_authenticated or session.get("language"):
        return redirect(url_for(".statement"))
    g.language = "en"
    return statement()
