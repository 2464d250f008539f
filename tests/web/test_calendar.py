"""The calendar feed's steering meetings go to whoever may read the steering group's queue (the one
authority, access.UseCase.READ_STEERING_QUEUE): the people the steering page lets in, no others.
The feed had its own list of roles (steering group, chair, process leader): the board and the
administrators, who read the queue, had no meetings, and a chair's substitute had none either."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow.db import Database
from planflow.models import User
from planflow.services.authority import access, people
from planflow.services.authority.access import UseCase
from planflow.services.outputs import calendar_feed
from planflow.services.records.audit import OPERATOR_ACTOR
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
