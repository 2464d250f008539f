"""The diagram is the truth: records change because the process reached an element, so a changed
gateway in a diagram changes what happens to the records, with no change to the code."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from planflow import clock, resources
from planflow.db import Database
from planflow.engine import SpecLibrary
from planflow.models import Activity, ReviewOutcome, StatusReport
from planflow.services.chain import instances

from .chain import Chain


@pytest.fixture
def inverted_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy of workflows/ whose review gateway sends an accepted report back, a returned one on."""
    folder = tmp_path / "workflows"
    shutil.copytree(resources.folder("workflows"), folder)
    diagram = folder / "activity_report.bpmn"
    source = diagram.read_text(encoding="utf-8")
    assert source.count('outcome == "return"') == 1
    diagram.write_text(source.replace('outcome == "return"', 'outcome == "accept"'), encoding="utf-8")
    library = SpecLibrary(folder)
    monkeypatch.setattr(instances, "library", lambda: library)


def test_records_follow_a_changed_gateway(seeded: Database, inverted_review: None) -> None:
    clock.set_now(datetime(2026, 11, 2, 9, tzinfo=UTC))
    chain = Chain(seeded)
    chain.start_cycle()
    chain.do("anna.nilsson", "report_status", {"status": "red", "cause": "Inga besök."}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "accept"}, "1.1.1")  # now the way back
    with seeded.transaction() as session:
        (report,) = session.scalars(select(StatusReport)).all()
        assert report.review is ReviewOutcome.RETURNED
        assert session.scalar(select(Activity.status).where(Activity.code == "1.1.1")) is None
    chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Ok."}, "1.1.1")  # now the way on
    with seeded.transaction() as session:
        reviews = session.scalars(select(StatusReport.review).order_by(StatusReport.id)).all()
        assert reviews == [ReviewOutcome.RETURNED, ReviewOutcome.ACCEPTED]
        assert session.scalar(select(Activity.status).where(Activity.code == "1.1.1")) == "green"
