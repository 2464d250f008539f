"""The first page: the plan's focus areas with their activities."""

from __future__ import annotations

from flask import Flask

from planflow.db import Database


def test_plan_page_lists_focus_areas_and_activities(app: Flask, seeded: Database) -> None:
    page = app.test_client().get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for number in range(1, 6):
        assert f"Fokusområde {number}:" in html
    assert "Företagsbesök politiker" in html
    assert "Synliggöra lediga lokaler" in html
    assert "demodata" in html  # invented owners are marked


def test_plan_page_without_a_plan_says_how_to_load_one(app: Flask) -> None:
    html = app.test_client().get("/").get_data(as_text=True)
    assert "planflow init" in html
