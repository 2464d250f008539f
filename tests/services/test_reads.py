"""The services the API added: token checks with expiry and slowing down, completion with an
idempotency key, the inbox page with filters and cursor, where a cycle stands, an activity's
history, the audit query."""

from __future__ import annotations

from datetime import timedelta

import pytest

from planflow import clock
from planflow.db import Database
from planflow.services.authority import people, tokens
from planflow.services.chain import idempotency, tasks
from planflow.services.errors import Conflict, Forbidden, InvalidInput
from planflow.services.records import trail
from planflow.services.records.audit import OPERATOR_ACTOR
from planflow.services.views import cycleview, history

from .chain import START, Chain


def test_an_expired_token_opens_nothing_and_last_use_is_kept_to_the_minute(seeded: Database) -> None:
    clock.set_now(START)
    with seeded.transaction() as session:
        token = people.issue_token(session, OPERATOR_ACTOR, "lead1", expires_in_days=1)
    with seeded.reading() as session:
        check = tokens.check_token(session, token, "10.0.0.1")
    assert check.user_id is not None and check.touch
    with seeded.transaction() as session:
        tokens.settle(session, check, "10.0.0.1")
    with seeded.reading() as session:
        assert not tokens.check_token(session, token, "10.0.0.1").touch
    clock.set_now(START + timedelta(days=1, seconds=1))
    with seeded.reading() as session:
        assert tokens.check_token(session, token, "10.0.0.1").user_id is None
        assert people.user_for_token(session, token) is None


def test_repeated_bad_tokens_from_one_address_must_wait_and_a_good_one_is_never_refused(
    seeded: Database,
) -> None:
    clock.set_now(START)
    with seeded.transaction() as session:
        good = people.issue_token(session, OPERATOR_ACTOR, "lead1")
    waits = []
    for _ in range(tokens.FREE_TRIES + 2):
        with seeded.reading() as session:
            check = tokens.check_token(session, "pf_wrong", "10.0.0.2")
        if check.retry_after is not None:
            waits.append(("blocked", check.retry_after))
            continue
        with seeded.transaction() as session:
            waits.append(("counted", tokens.settle(session, check, "10.0.0.2")))
    assert waits[: tokens.FREE_TRIES] == [("counted", None)] * tokens.FREE_TRIES
    assert waits[tokens.FREE_TRIES] == ("counted", 1)
    assert waits[tokens.FREE_TRIES + 1] == ("blocked", 1)
    with seeded.reading() as session:  # another address is not slowed down
        assert tokens.check_token(session, good, "10.0.0.3").failures == 0
        # A good token from the waiting address (a town hall's NAT) is looked at and accepted.
        check = tokens.check_token(session, good, "10.0.0.2")
    assert check.user_id is not None and check.retry_after is None and check.failures > 0
    with seeded.transaction() as session:
        tokens.settle(session, check, "10.0.0.2")
    with seeded.reading() as session:  # and it does not clear the count a guesser has run up
        assert tokens.check_token(session, "pf_wrong", "10.0.0.2").retry_after == 1


def test_a_retried_completion_with_its_key_answers_the_first_result(chain: Chain) -> None:
    task = chain.task("anna.nilsson", "report_status", "1.1.1")
    with chain.db.transaction() as session:
        user = people.get_user(session, "anna.nilsson")
        first = idempotency.complete_once(session, user, task.id, {"status": "green"}, "key-1")
    with chain.db.transaction() as session:
        user = people.get_user(session, "anna.nilsson")
        assert idempotency.complete_once(session, user, task.id, {"status": "green"}, "key-1") == first
        with pytest.raises(InvalidInput):  # the same key for another request
            idempotency.complete_once(session, user, task.id, {"status": "red", "cause": "x"}, "key-1")
        with pytest.raises(Conflict):  # without the key: already done
            idempotency.complete_once(session, user, task.id, {"status": "green"}, None)


def test_inbox_page_filters_and_continues_after_its_cursor(chain: Chain) -> None:
    everything = chain.inbox("lead1") + chain.inbox("anna.nilsson")
    with chain.db.reading() as session:
        owner = people.get_user(session, "anna.nilsson")
        seen: list[str] = []
        cursor = None
        while True:
            page = tasks.inbox_page(session, owner, "sv", cursor=cursor, limit=2)
            seen += [t.id for t in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == [t.id for t in tasks.inbox(session, owner)]
        assert len(seen) > 2
        assert [t.activity_code for t in tasks.inbox_page(session, owner, "sv", q="1.1.1").items] == ["1.1.1"]
        assert tasks.inbox_page(session, owner, "en", q="report status").items
        assert tasks.inbox_page(session, owner, "sv", role="board").items == []
        assert tasks.inbox_page(session, owner, "sv", overdue=True).items == []
        assert len(tasks.inbox_page(session, owner, "sv", period="2026-Q4").items) == len(seen)
        with pytest.raises(InvalidInput):
            tasks.inbox_page(session, owner, "sv", cursor="not-a-cursor")
    assert everything


def test_inbox_search_by_activity_whether_it_names_none_few_or_many(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    with chain.db.reading() as session:
        owner = people.get_user(session, "anna.nilsson")

        def codes(q: str) -> list[str]:
            return sorted(str(t.activity_code) for t in tasks.inbox_page(session, owner, "sv", q=q).items)

        mine = sorted(str(t.activity_code) for t in tasks.inbox(session, owner))
        assert codes("ingen sådan aktivitet") == []
        few = codes("1.1.")
        assert few == [c for c in mine if "1.1." in c] and few
        monkeypatch.setattr(tasks, "SEARCH_FEW_ACTIVITIES", 1)  # "1.1." names more: read as a subquery
        assert codes("1.1.") == few
        assert codes("Rapportera") == mine  # a task's title, not an activity's


def test_cycle_progress_and_activity_history_follow_the_chain(chain: Chain) -> None:
    chain.report_and_accept("1.1.1", "red", cause="Ingen budget.")
    with chain.db.reading() as session:
        leader = people.get_user(session, "processledare")
        state = cycleview.cycle_progress(session, leader, "2026-Q4")
        area = state.focus_areas[0]
        assert area.reports_accepted == 1 and area.reports_due >= 1
        assert state.areas_confirmed == 0 and state.dialogue_held is None
        record = history.activity_history(session, leader, "1.1.1")
        assert record["reports"][0]["status"] == "red"
        assert record["deviations"][0]["cause"] == "Ingen budget."
        assert {e["action"] for e in record["events"]} >= {"status.reported", "deviation.opened"}
        page = trail.search(session, leader, trail.AuditQuery(activity="1.1.1", limit=1))
        assert len(page.items) == 1 and page.next_cursor is not None
        more = trail.search(session, leader, trail.AuditQuery(activity="1.1.1", cursor=page.next_cursor))
        assert all(e.seq < page.items[0].seq for e in more.items)
        dialogue = people.get_user(session, "naringslivsradet")
        with pytest.raises(Forbidden):
            history.activity_history(session, dialogue, "1.1.1")
