"""The database wrapper: writers queue, readers do not wait for them."""

from __future__ import annotations

from sqlalchemy import select, text

from planflow.db import Database
from planflow.models import Plan


def test_reading_sees_the_last_commit_while_a_writer_holds_the_lock(seeded: Database) -> None:
    with seeded.transaction() as writer:
        writer.execute(text("UPDATE plan SET title = 'ändrad'"))
        writer.flush()
        with seeded.reading() as reader:  # would wait for the writer on a locking BEGIN
            assert reader.scalar(select(Plan.title)) != "ändrad"
    with seeded.reading() as reader:
        assert reader.scalar(select(Plan.title)) == "ändrad"


def test_what_a_reading_session_writes_is_rolled_back(seeded: Database) -> None:
    with seeded.reading() as reader:
        reader.execute(text("UPDATE plan SET title = 'tillfällig'"))
    with seeded.reading() as reader:
        assert reader.scalar(select(Plan.title)) != "tillfällig"
