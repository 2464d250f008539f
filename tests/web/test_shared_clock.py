"""The web server keeps up with a demo's shared clock, and leaves the database alone on an
instance without demo data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from planflow import clock
from planflow.db import Database
from planflow.services import clockshift


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    real_demo, real_follow = clockshift.is_demo_instance, clockshift.follow
    monkeypatch.setattr(clockshift, "is_demo_instance", lambda s: asked.append("demo?") or real_demo(s))
    monkeypatch.setattr(clockshift, "follow", lambda s: asked.append("offset") or real_follow(s))
    return asked


def test_an_instance_without_demo_data_asks_the_database_once(
    app: Flask, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = _counting(monkeypatch)
    client = app.test_client()
    for _ in range(5):
        client.get("/login")
        app.extensions["planflow.clock"].last_read = float("-inf")  # as if the interval had passed
    assert asked == ["demo?"]


def test_a_demo_follows_a_moved_clock(app: Flask, seeded: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _counting(monkeypatch)
    with seeded.transaction() as session:
        clockshift.move(session, clock.now() + timedelta(days=40))
    asked.clear()
    try:
        app.test_client().get("/login")
        assert asked == ["demo?", "offset"]
        assert clock.now() - clockshift.datetime.now(clockshift.UTC) > timedelta(days=39)
    finally:
        clock.set_offset(timedelta(0))
