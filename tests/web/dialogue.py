"""A cycle brought quickly to its business dialogue, for the pages that need the dialogue open."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from planflow.db import Database
from planflow.models import Activity
from tests.services.chain import Chain


def open_dialogue(db: Database, period: str = "2026-Q4", deadline: date = date(2026, 12, 15)) -> Chain:
    """A cycle of `period` whose business dialogue is open: no activity runs in it (their timelines
    are moved to 2020), so every area goes straight to its summary, which the leads write and the
    process leader confirms."""
    with db.transaction() as session:
        for activity in session.scalars(select(Activity)):
            activity.starts_on, activity.ends_on = date(2020, 1, 1), date(2020, 12, 31)
    chain = Chain(db)
    chain.start_cycle(period, deadline)
    for area in range(1, 6):
        chain.do(f"lead{area}", "area_summary", {"summary": f"Fokusområde {area}: inget att rapportera."})
        chain.do("processledare", "confirm_area", {"outcome": "confirm"})
    assert [t.name for t in chain.inbox("processledare")] == ["business_dialogue"]
    return chain
