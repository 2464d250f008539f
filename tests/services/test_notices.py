"""Notices: a template key with parameters, worded in the recipient's language when read; queued
once per event and person, however often and from however many processes it is queued."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from planflow.db import Database
from planflow.models import Notice
from planflow.services.authority import people
from planflow.services.outputs import notices


def _count(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(Notice)) or 0


def test_queuing_an_event_twice_notifies_once(seeded: Database) -> None:
    params = {"activity": "1.1.1", "title": "T", "days": 14, "cause": "c"}
    with seeded.transaction() as session:
        chair = people.get_user(session, "ordforande")
        assert notices.queue(session, [chair, chair], "notice.escalation", params, "deviation-1") == 1
    with seeded.transaction() as session:
        chair = people.get_user(session, "ordforande")
        assert notices.queue(session, [chair], "notice.escalation", params, "deviation-1") == 0
    assert _count(seeded) == 1


def test_two_transactions_queuing_the_same_event_at_once_both_succeed_once(seeded: Database) -> None:
    """Found: check-then-insert made the second of two racing processes fail its whole job."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def queue() -> None:
        try:
            barrier.wait(10)
            with seeded.transaction() as session:
                chair = people.get_user(session, "ordforande")
                notices.queue(session, [chair], "notice.escalation", {"activity": "1.1.1"}, "deviation-7")
        except BaseException as exc:  # the test reports any failure of either side
            errors.append(exc)

    threads = [threading.Thread(target=queue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and _count(seeded) == 1


def test_a_notice_is_worded_in_its_recipients_language(seeded: Database) -> None:
    params = {"activity": "1.1.1", "title": "Företagsbesök", "days": 14, "cause": "Ingen tid."}
    with seeded.transaction() as session:
        chair = people.get_user(session, "ordforande")
        notices.queue(session, [chair], "notice.escalation", params, "deviation-3")
    with seeded.transaction() as session:
        chair = people.get_user(session, "ordforande")
        (swedish,) = notices.for_user(session, chair)
        chair.language = "en"
        (english,) = notices.for_user(session, chair)
    assert swedish.subject == "Röd avvikelse utan beslut: 1.1.1 Företagsbesök"
    assert english.subject == "Red deviation without a decision: 1.1.1 Företagsbesök"
    assert "14 days" in english.body and "14 dagar" in swedish.body
