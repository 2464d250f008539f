"""What the signed audit events say the archive's rows hold: one function per table, folding the
events in chain order into the row fields they vouch for (an event carries what its handler
recorded with it; fields no event carries are not here, and the README says so). `compare` then
holds a table's rows against them. Plain data in, plain data out: the same mapping can serve a
check of the database's records against its events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
# A field's value as the events say it, and the event that said it last.
Vouched = dict[str, tuple[Any, int]]


def _principal(event: Row) -> str:
    """Whose act the event records: the absent person a substitute acted for, or the actor."""
    return str(event["on_behalf_of"] or event["actor"])


@dataclass
class Expected:
    """Rows as the events say them, by table and key."""

    rows: dict[str, dict[Any, Vouched]] = field(default_factory=dict)
    decided: dict[tuple[str, int], int] = field(default_factory=dict)  # decisions so far by subject

    def vouch(self, table: str, key: Any, event: Row, **fields: Any) -> None:
        row = self.rows.setdefault(table, {}).setdefault(key, {})
        row.update({name: (value, event["seq"]) for name, value in fields.items()})

    def observe(self, event: Row) -> None:
        for fold in FOLDS:
            fold(self, event)


def status_reports(expected: Expected, event: Row) -> None:
    action, data = event["action"], event["data"]
    if "report" not in data:  # written before events named their report: it vouches for none
        return
    if action == "status.reported":
        expected.vouch(
            "status_reports",
            data["report"],
            event,
            activity=event["subject_id"],
            reporter=_principal(event),
            status=data["status"],
            comment=data.get("comment"),
            cause=data.get("cause"),
            review="pending",
        )
    elif action in ("status.accepted", "status.returned"):
        expected.vouch(
            "status_reports",
            data["report"],
            event,
            review=action.removeprefix("status."),
            review_comment=event["reason"],
            reviewed_by=_principal(event),
        )


# A deviation's state after each event about it (deviation.decided is followed, in the same
# transaction, by deviation.decision_returned when the group returned it).
_DEVIATION_STATE = {
    "deviation.opened": "open",
    "deviation.recommended": "recommended",
    "deviation.recommendation_returned": "open",
    "deviation.recommendation_agreed": "agreed",
    "deviation.decided": "decided",
    "deviation.decision_returned": "open",
}


def deviations(expected: Expected, event: Row) -> None:
    action, data = event["action"], event["data"]
    if action not in _DEVIATION_STATE:
        return
    key = int(event["subject_id"])
    expected.vouch("deviations", key, event, state=_DEVIATION_STATE[action])
    if action == "deviation.opened":
        expected.vouch(
            "deviations", key, event, activity=data["activity"], level=data["level"], cause=data["cause"]
        )
    elif action == "deviation.recommended":
        expected.vouch("deviations", key, event, recommendation=data["recommendation"])


def decisions(expected: Expected, event: Row) -> None:
    """Decisions are keyed by subject and their order on it (the events do not carry a decision's
    own number): the n-th decision on a deviation is the n-th deviation.decided event about it."""
    action, data = event["action"], event["data"]
    if action in ("deviation.decided", "proposal.decided"):
        subject = (action.partition(".")[0], int(event["subject_id"]))
        body, decision, rationale = data["body"], data["decision"], event["reason"]
    elif action == "annual_report.noted":
        subject = ("annual_report", int(data["report"]))
        body, decision, rationale = "board", "noted", event["reason"] or ""
    else:
        return
    order = expected.decided[subject] = expected.decided.get(subject, -1) + 1
    expected.vouch(
        "decisions",
        (*subject, order),
        event,
        body=body,
        subject_type=subject[0],
        subject_id=subject[1],
        decision=decision,
        rationale=rationale,
        recorded_by=event["actor"],
        on_behalf_of=event["on_behalf_of"],
    )


def decision_key(row: Row, order: int) -> tuple[Any, ...]:
    return (row["subject_type"], row["subject_id"], order)


def decision_is_vouched(row: Row) -> bool:
    """Whether an event vouches for this decision: not the steering group's answer on an annual
    report, whose event names the year but not the report."""
    return row["subject_type"] in ("deviation", "proposal") or row["body"] == "board"


_PROPOSAL_STATE = {
    "proposal.submitted": "proposed",
    "proposal.returned": "drafting",
    "proposal.forwarded": "checked",
    "proposal.sent_back": "drafting",
}


def proposals(expected: Expected, event: Row) -> None:
    action, data = event["action"], event["data"]
    if action == "activity.added" and data.get("proposal") is not None:
        expected.vouch(
            "proposals", int(data["proposal"]), event, state="approved", activity=event["subject_id"]
        )
        return
    if action not in _PROPOSAL_STATE and action != "proposal.decided":
        return
    key = int(event["subject_id"])
    if action == "proposal.decided":
        if data["decision"] == "reject":
            expected.vouch("proposals", key, event, state="rejected")
        return  # approve: activity.added follows; return: proposal.sent_back follows
    expected.vouch("proposals", key, event, state=_PROPOSAL_STATE[action])
    if action == "proposal.submitted":
        expected.vouch(
            "proposals",
            key,
            event,
            title=data["title"],
            owner=data["owner"],
            starts_on=data["start"],
            ends_on=data["end"],
            why=data["why"],
        )


def issued_reports(expected: Expected, event: Row) -> None:
    if event["action"] != "report.issued":
        return
    data = event["data"]
    expected.vouch(
        "issued_reports",
        int(event["subject_id"]),
        event,
        plan=data["plan"],
        kind=data["kind"],
        subject=data["subject"],
        number=data["number"],
        content_sha256=data["sha256"],
        files=data["files"],
        checkpoint=data["checkpoint"],
        issued_by=event["actor"],
        on_behalf_of=event["on_behalf_of"],
    )


FOLDS: tuple[Callable[[Expected, Row], None], ...] = (
    status_reports,
    deviations,
    decisions,
    proposals,
    issued_reports,
)
# The key each table's rows are found by (decisions: decision_key, by order on their subject).
KEYS = {"status_reports": "id", "deviations": "id", "proposals": "id", "issued_reports": "id"}


def issued_row(report: Row) -> Row:
    """An issued_reports.json entry as the event vouches for it: each file by its SHA-256."""
    return {**report, "files": {fmt: entry["sha256"] for fmt, entry in report["files"].items()}}


def compare(expected: Expected, table: str, rows: Iterable[Row]) -> str | None:
    """The first way `rows` (a table's, in order) differ from what the events say, or None: a row
    the events vouch for that is missing or says otherwise, or a row no event vouches for."""
    vouched = dict(expected.rows.get(table, {}))
    seen: dict[tuple[str, int], int] = {}
    for row in rows:
        if table == "decisions":
            if not decision_is_vouched(row):
                continue
            subject = (row["subject_type"], row["subject_id"])
            order = seen[subject] = seen.get(subject, -1) + 1
            key: Any = decision_key(row, order)
            name = f"decision {row['id']}"
        else:
            key = row[KEYS[table]]
            name = f"{table} {key}"
        fields = vouched.pop(key, None)
        if fields is None:
            return f"{table}: {name} has no signed audit event"
        for column, (value, seq) in fields.items():
            if row.get(column) != value:
                return f"{table}: {name}'s {column} is not what signed event {seq} says"
    for fields in vouched.values():
        seq = min(seq for _, seq in fields.values())
        return f"{table}: the row signed event {seq} records is missing"
    return None
