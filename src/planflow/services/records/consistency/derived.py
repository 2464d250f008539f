"""The records as their audit events say they are: every status report, deviation, decision,
proposal, annual report, area review, steering meeting, business dialogue and issued report holds,
field by field, what the events its handlers wrote with it say (the latest event for a state). Someone who
edits a record in the database, past the use cases, changes what every page and report says; the
events are hash-chained and signed, the records are not: this is where the two are held together.

One mapping per record kind (TABLES): an event's action → which record it is about (its key) and
what it says of the record's fields. It works on plain dicts, so the same mapping checks the
database (`check`, reading in batches of BATCH) and an archive package's rows (archive/verify.py
folds its events into a Fold as it streams them, then `compare`s its rows). A field an event does
not carry is not expected: events written before a field was added to their payload are checked on
what they have.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ....models import (
    Activity,
    ActivityProposal,
    AnnualReport,
    AreaReview,
    AuditEvent,
    BusinessDialogue,
    Decision,
    Deviation,
    FocusArea,
    InterventionArea,
    IssuedReport,
    IssuedReportFile,
    Plan,
    ReportingCycle,
    StatusReport,
    SteeringMeeting,
    User,
)
from ....models.base import canonical_json
from .. import audit
from .reading import Problem, batches

Event = dict[str, Any]  # as audit.event_fields gives it, and an archive's audit/events.json holds it
Row = dict[str, Any]  # a record's fields by the archive's column names: people by username, …
Expected = dict[str, dict[str, Row]]  # table → record key → the fields its events say


@dataclass
class Fold:
    """The events read so far, in chain order, folded into what the records must hold (`expected`),
    one event at a time (`observe`): a reader that streams its events keeps only this. Beside the
    rows it keeps how many decisions each subject has had, and which record each subject's events
    last named."""

    expected: Expected = field(default_factory=lambda: {table: {} for table in TABLES})
    decisions: Counter[tuple[str, str]] = field(default_factory=Counter)
    named: dict[tuple[str, ...], str] = field(default_factory=dict)

    def observe(self, event: Event) -> None:
        """Fold in the next event: each record it speaks of takes the fields it says."""
        for table, spec in TABLES.items():
            says = spec.says.get(event["action"])
            if says is not None and (said := says(event, self)) is not None:
                key, row = said
                self.expected[table].setdefault(key, {}).update(row)

    def record(self, event: Event, name: str, *subject: str) -> str | None:
        """The record an event is about: the id it names as `name`, else the one the last event
        about the same `subject` named. Events written before they named their record (an annual
        report's approval by its year, an area's summary by its period) are found so."""
        named = event["data"].get(name)
        if named is None:
            return self.named.get(subject)
        self.named[subject] = str(named)
        return str(named)

    def annual_report(self, event: Event) -> str | None:
        return self.record(event, "report", "annual_report", str(event["subject_id"]))

    def area_review(self, event: Event) -> str | None:
        return self.record(
            event, "review", "area", str(event["data"].get("period")), str(event["subject_id"])
        )


# An expected value no event says any more (a field an older event set, a later one changed
# without carrying it): not compared.
UNSAID = "\x00unsaid"

# What an event says of a record: its key and the fields it sets, or None when it names none.
Says = Callable[[Event, Fold], tuple[str, Row] | None]


def _principal(event: Event) -> str:
    """The person whose act the event is (the absent one when a substitute acted)."""
    return str(event["on_behalf_of"] or event["actor"])


def _picked(data: Mapping[str, Any], *names: str, **renamed: str) -> Row:
    """The fields of `data` that are there, by their own name or as `column=name`."""
    row = {name: data[name] for name in names if name in data}
    row.update({column: data[name] for column, name in renamed.items() if name in data})
    return row


def _named(name: str) -> Callable[[Event], str | None]:
    def key(event: Event) -> str | None:
        value = event["data"].get(name)
        return None if value is None else str(value)

    return key


def _subject(event: Event) -> str:
    return str(event["subject_id"])


# ---- status reports: the owner's report and the lead's review ----------------------------------


def _reported(event: Event, fold: Fold) -> tuple[str, Row] | None:
    if (key := _named("report")(event)) is None:
        return None
    data = event["data"]
    row = {"activity": event["subject_id"], "reporter": _principal(event), "review": "pending"}
    return key, row | _picked(data, "status", "comment", "cause", "reported_at")


def _reviewed(outcome: str) -> Says:
    def says(event: Event, fold: Fold) -> tuple[str, Row] | None:
        if (key := _named("report")(event)) is None:
            return None
        row = {"review": outcome, "review_comment": event["reason"], "reviewed_by": _principal(event)}
        return key, row | _picked(event["data"], "status", "reviewed_at")

    return says


# ---- deviations: each handler leaves it in one state --------------------------------------------

DEVIATION_STATES = {
    "deviation.opened": "open",
    "deviation.recommended": "recommended",
    "deviation.recommendation_returned": "open",
    "deviation.recommendation_agreed": "agreed",
    "deviation.decision_returned": "open",
    "deviation.escalated": None,  # changes no state
    "deviation.owner_informed": "decided",  # the diagram informs the owner once the group decided
}


def _deviation(event: Event, fold: Fold) -> tuple[str, Row] | None:
    row = _picked(
        event["data"],
        "activity",
        "level",
        "cause",
        "recommendation",
        "opened_at",
        "escalated_at",
        "decided_at",
        status_report="report",
    )
    if (state := DEVIATION_STATES[event["action"]]) is not None:
        row["state"] = state
    return _subject(event), row


# ---- decisions: the steering group's and the board's, n-th on their subject ---------------------


def _decision(body: str | None = None, outcome: str | None = None) -> Says:
    """A decision event: the decision on its subject that comes next, with its outcome (the event's
    `decision`, else `outcome`) and body (the event's `body`, else `body`)."""

    def says(event: Event, fold: Fold) -> tuple[str, Row] | None:
        kind = event["subject_type"]
        subject = fold.annual_report(event) if kind == "annual_report" else _subject(event)
        if subject is None:
            return None
        fold.decisions[kind, subject] += 1
        data = event["data"]
        row = {
            "body": data.get("body", body),
            "subject_type": kind,
            "subject_id": subject,
            "decision": data.get("decision", outcome),
            "rationale": event["reason"] or "",
            "recorded_by": event["actor"],
            "on_behalf_of": event["on_behalf_of"],
        }
        return decision_key(kind, subject, fold.decisions[kind, subject]), row | _picked(data, "decided_at")

    return says


def decision_key(subject_type: str, subject_id: object, nth: int) -> str:
    """Decisions are keyed by what they decide and their place among its decisions (the events do
    not know the decision's row id)."""
    return f"{subject_type} {subject_id} #{nth}"


# ---- proposals ---------------------------------------------------------------------------------

PROPOSAL_STATES = {
    "proposal.submitted": "proposed",
    "proposal.returned": "drafting",
    "proposal.forwarded": "checked",
    "proposal.sent_back": "drafting",
    "proposal.decided": None,  # by its decision: rejected here, the others by the events that follow
}


def _proposal(event: Event, fold: Fold) -> tuple[str, Row] | None:
    data = event["data"]
    row = _picked(data, "title", "owner", "why", "intervention_area", starts_on="start", ends_on="end")
    if (state := PROPOSAL_STATES[event["action"]]) is not None:
        row["state"] = state
    elif data.get("decision") == "reject":
        row["state"] = "rejected"
    return _subject(event), row


def _activity_added(event: Event, fold: Fold) -> tuple[str, Row] | None:
    key = _named("proposal")(event)
    return None if key is None else (key, {"state": "approved", "activity": event["subject_id"]})


# ---- annual reports ----------------------------------------------------------------------------

ANNUAL_STATES = {
    "annual_report.compiled": "compiled",
    "annual_report.returned": "compiling",
    "annual_report.approved": "approved",
    "annual_report.noted": "noted",
}


def _annual(event: Event, fold: Fold) -> tuple[str, Row] | None:
    if (key := fold.annual_report(event)) is None:
        return None
    row: Row = {"state": ANNUAL_STATES[event["action"]]}
    if event["action"] == "annual_report.returned":
        row["approved_at"] = None
    elif event["action"] == "annual_report.approved":
        row["approved_at"] = (
            UNSAID  # set again, to a time an event written before it was carried does not say
        )
    said = _picked(
        event["data"],
        *("summary", "snapshot_sha256", "compiled_at", "approved_at", "noted_at"),
        board_decided_on="decided_on",
        board_paragraph="paragraph",
    )
    return key, row | said


# ---- a cycle's steps: area reviews, the business dialogue, the steering meeting -----------------

AREA_STATES = {"area.summarised": "summarised", "area.returned": "summarising", "area.confirmed": "confirmed"}


def _area(event: Event, fold: Fold) -> tuple[str, Row] | None:
    if (key := fold.area_review(event)) is None:
        return None
    row: Row = {"state": AREA_STATES[event["action"]], "focus_area": event["subject_id"]}
    if event["action"] == "area.summarised":
        row["summarised_by"] = _principal(event)
    else:
        row["comment"] = event["reason"]
    return key, row | _picked(event["data"], "period", "summary", "confirmed_at")


def _cycle_step(*names: str, by: str) -> Says:
    """A step recorded once per cycle, keyed by the cycle's id: the fields `names`, and who (`by`)."""

    def says(event: Event, fold: Fold) -> tuple[str, Row] | None:
        if (key := _named("cycle")(event)) is None:
            return None
        return key, {by: _principal(event)} | _picked(event["data"], *names)

    return says


# ---- issued reports: the report.issued event holds each hash ------------------------------------


def _issued(event: Event, fold: Fold) -> tuple[str, Row] | None:
    data = event["data"]
    row = {"issued_by": event["actor"], "on_behalf_of": event["on_behalf_of"]}
    said = _picked(data, "plan", "kind", "subject", "number", "files", "checkpoint", content_sha256="sha256")
    return _subject(event), row | said


# ---- the mapping -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A kind of record: the events it comes from, the column(s) its key is read from in its rows,
    and whether every row has an event (else rows no event names yet are not compared)."""

    says: dict[str, Says]
    key: str  # the column its rows are keyed by; decisions: by decision_key, in id order
    every_row_has_events: bool


TABLES: dict[str, Table] = {
    "status_report": Table(
        {
            "status.reported": _reported,
            "status.accepted": _reviewed("accepted"),
            "status.returned": _reviewed("returned"),
        },
        "id",
        True,
    ),
    "deviation": Table(dict.fromkeys(DEVIATION_STATES, _deviation), "id", True),
    "decision": Table(
        {
            "deviation.decided": _decision(),
            "proposal.decided": _decision(),
            "annual_report.approved": _decision("steering_group", "approve"),
            "annual_report.returned": _decision("steering_group", "return"),
            "annual_report.noted": _decision("board", "noted"),
        },
        "subject",
        True,
    ),
    "proposal": Table(
        {**dict.fromkeys(PROPOSAL_STATES, _proposal), "activity.added": _activity_added}, "id", True
    ),
    "annual_report": Table(dict.fromkeys(ANNUAL_STATES, _annual), "id", False),
    "area_review": Table(dict.fromkeys(AREA_STATES, _area), "id", False),
    "steering_meeting": Table(
        {
            "steering.meeting_closed": _cycle_step(
                "notes", "priorities", "left_open", "closed_at", by="closed_by"
            )
        },
        "cycle",
        False,
    ),
    "business_dialogue": Table(
        {
            "dialogue.recorded": _cycle_step(
                "forums", "held_on", "heard", "ideas", "recorded_at", by="recorded_by"
            )
        },
        "cycle",
        False,
    ),
    "issued_report": Table({"report.issued": _issued}, "id", True),
}
# Every action some record comes from: the events `check` reads.
ACTIONS = frozenset(action for table in TABLES.values() for action in table.says)


def expected_rows(events: Iterable[Event]) -> Expected:
    """What the records must hold by their events (`events` in chain order): table → key → field →
    value, later events overriding earlier ones."""
    fold = Fold()
    for event in events:
        fold.observe(event)
    return fold.expected


def keyed(table: str, rows: Iterable[Row]) -> Iterator[tuple[str, Row]]:
    """The rows of `table` (decisions in id order) with the keys `expected_rows` gives them."""
    column = TABLES[table].key
    if column != "subject":
        for row in rows:
            yield str(row[column]), row
        return
    seen: Counter[tuple[str, str]] = Counter()
    for row in rows:
        subject = (str(row["subject_type"]), str(row["subject_id"]))
        seen[subject] += 1
        yield decision_key(*subject, seen[subject]), row


def compare(expected: Expected, actual: Mapping[str, Iterable[Row]]) -> list[Problem]:
    """Where the records `actual` (table → rows, each with its key column and `id`) differ from what
    their events say: a field that differs, a record the events name that is not there, and, in the
    tables every row of which has events, a record no event names. A table `actual` does not give,
    and a field its rows do not carry, are not compared."""
    return [problem for table, rows in actual.items() for problem in _compare(table, expected, rows)]


def _compare(table: str, expected: Expected, rows: Iterable[Row]) -> Iterator[Problem]:
    wanted = dict(expected.get(table, {}))
    for key, row in keyed(table, rows):
        subject = _naming(table, key, row)
        said = wanted.pop(key, None)
        if said is None:
            if TABLES[table].every_row_has_events:
                yield Problem("record.events", subject, "no audit event says it was made")
            continue
        for name, value in said.items():
            if value != UNSAID and name in row and _text(name, row[name]) != _text(name, value):
                yield Problem(
                    "record.events",
                    subject,
                    f"{name} is {_text(name, row[name])!r}; its audit events say {_text(name, value)!r}",
                )
    for key in wanted:
        yield Problem("record.events", f"{table} {key}", "its audit events say it was made; it is not there")


def _naming(table: str, key: str, row: Row) -> str:
    if "id" in row and TABLES[table].key != "id":
        return f"{table} {row['id']} ({key})"
    return f"{table} {key}"


def _text(name: str, value: Any) -> str:
    """A value as compared: the same whether read from the database, an event's JSON or a CSV
    cell (no value and an empty text alike; times as UTC instants, in a field named …_at)."""
    if value is None:
        return ""
    if isinstance(value, str) and name.endswith("_at") and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return canonical_json(value)
    return str(value)


# ---- the database ------------------------------------------------------------------------------


def check(session: Session) -> list[Problem]:
    """Every record of TABLES against its events, read in batches of BATCH. What it keeps is what
    the events say of each record, the records themselves only a batch at a time."""
    return compare(expected_rows(_events(session)), records(session))


def records(session: Session) -> dict[str, Iterator[Row]]:
    """Every record of TABLES as a Row, table by table, read in batches of BATCH as consumed."""
    return {table: _rows(session, reader) for table, reader in READERS.items()}


def _events(session: Session) -> Iterator[Event]:
    query = select(
        AuditEvent.seq,
        AuditEvent.actor,
        AuditEvent.on_behalf_of,
        AuditEvent.action,
        AuditEvent.subject_type,
        AuditEvent.subject_id,
        AuditEvent.data,
        AuditEvent.reason,
    ).where(AuditEvent.action.in_(ACTIONS))
    for batch in batches(session, query, AuditEvent.seq):
        for row in batch:
            yield dict(row._mapping)


def _rows(session: Session, reader: Callable[[], Any]) -> Iterator[Row]:
    query, shape = reader()
    for batch in batches(session, query, query.selected_columns[0]):
        for row in batch:
            yield shape(dict(row._mapping))


def _as_is(row: Row) -> Row:
    return row


def _status_reports() -> Any:
    reporter, reviewer = aliased(User), aliased(User)
    return (
        select(
            StatusReport.id,
            Activity.code.label("activity"),
            reporter.username.label("reporter"),
            StatusReport.status,
            StatusReport.comment,
            StatusReport.cause,
            StatusReport.reported_at,
            StatusReport.review,
            StatusReport.review_comment,
            reviewer.username.label("reviewed_by"),
            StatusReport.reviewed_at,
        )
        .join(Activity, Activity.id == StatusReport.activity_id)
        .join(reporter, reporter.id == StatusReport.reporter_id)
        .outerjoin(reviewer, reviewer.id == StatusReport.reviewed_by_id)
    ), _as_is


def _deviations() -> Any:
    return (
        select(
            Deviation.id,
            Activity.code.label("activity"),
            Deviation.status_report_id.label("status_report"),
            Deviation.level,
            Deviation.cause,
            Deviation.recommendation,
            Deviation.state,
            Deviation.opened_at,
            Deviation.escalated_at,
            Deviation.decided_at,
        ).join(Activity, Activity.id == Deviation.activity_id)
    ), _as_is


def _decisions() -> Any:
    recorder, absent = aliased(User), aliased(User)
    return (
        select(
            Decision.id,
            Decision.body,
            Decision.subject_type,
            Decision.subject_id,
            Decision.decision,
            Decision.rationale,
            recorder.username.label("recorded_by"),
            absent.username.label("on_behalf_of"),
            Decision.decided_at,
        )
        .join(recorder, recorder.id == Decision.decided_by_id)
        .outerjoin(absent, absent.id == Decision.on_behalf_of_id)
    ), _as_is


def _proposals() -> Any:
    owner = aliased(User)

    def shape(row: Row) -> Row:
        focus, number = row.pop("focus_area"), row.pop("area_number")
        return row | {"intervention_area": f"{focus}.{number}" if number is not None else None}

    return (
        select(
            ActivityProposal.id,
            ActivityProposal.title,
            owner.username.label("owner"),
            ActivityProposal.starts_on,
            ActivityProposal.ends_on,
            ActivityProposal.why,
            ActivityProposal.state,
            Activity.code.label("activity"),
            FocusArea.number.label("focus_area"),
            InterventionArea.number.label("area_number"),
        )
        .outerjoin(owner, owner.id == ActivityProposal.owner_id)
        .outerjoin(Activity, Activity.id == ActivityProposal.activity_id)
        .outerjoin(InterventionArea, InterventionArea.id == ActivityProposal.intervention_area_id)
        .outerjoin(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
    ), shape


def _annual_reports() -> Any:
    def shape(row: Row) -> Row:
        return row | {"snapshot_sha256": audit.content_sha256(row.pop("snapshot"))}

    return (
        select(
            AnnualReport.id,
            AnnualReport.state,
            AnnualReport.summary,
            AnnualReport.snapshot,
            AnnualReport.compiled_at,
            AnnualReport.approved_at,
            AnnualReport.noted_at,
            AnnualReport.board_decided_on,
            AnnualReport.board_paragraph,
        )
    ), shape


def _area_reviews() -> Any:
    lead = aliased(User)
    return (
        select(
            AreaReview.id,
            ReportingCycle.period,
            FocusArea.number.label("focus_area"),
            AreaReview.state,
            AreaReview.summary,
            lead.username.label("summarised_by"),
            AreaReview.comment,
            AreaReview.confirmed_at,
        )
        .join(ReportingCycle, ReportingCycle.id == AreaReview.cycle_id)
        .join(FocusArea, FocusArea.id == AreaReview.focus_area_id)
        .outerjoin(lead, lead.id == AreaReview.summarised_by_id)
    ), _as_is


def _steering_meetings() -> Any:
    def shape(row: Row) -> Row:
        return row | {"left_open": [item["activity"] for item in row["left_open"] or []]}

    chair = aliased(User)
    return (
        select(
            SteeringMeeting.id,
            SteeringMeeting.cycle_id.label("cycle"),
            SteeringMeeting.notes,
            SteeringMeeting.priorities,
            SteeringMeeting.left_open,
            chair.username.label("closed_by"),
            SteeringMeeting.closed_at,
        ).join(chair, chair.id == SteeringMeeting.closed_by_id)
    ), shape


def _business_dialogues() -> Any:
    leader = aliased(User)
    return (
        select(
            BusinessDialogue.id,
            BusinessDialogue.cycle_id.label("cycle"),
            BusinessDialogue.forums,
            BusinessDialogue.held_on,
            BusinessDialogue.heard,
            BusinessDialogue.ideas,
            leader.username.label("recorded_by"),
            BusinessDialogue.recorded_at,
        ).join(leader, leader.id == BusinessDialogue.recorded_by_id)
    ), _as_is


def _issued_reports() -> Any:
    def shape(row: Row) -> Row:
        seq, hash_ = row.pop("checkpoint_seq"), row.pop("checkpoint_hash")
        files = dict(entry.split(":") for entry in (row["files"] or "").split())
        return row | {"checkpoint": {"seq": seq, "hash": hash_}, "files": files}

    files = (
        select(func.aggregate_strings(IssuedReportFile.format + ":" + IssuedReportFile.sha256, " "))
        .where(IssuedReportFile.report_id == IssuedReport.id)
        .scalar_subquery()
    )
    return (
        select(
            IssuedReport.id,
            Plan.slug.label("plan"),
            IssuedReport.kind,
            IssuedReport.subject,
            IssuedReport.number,
            IssuedReport.sha256.label("content_sha256"),
            files.label("files"),
            IssuedReport.checkpoint_seq,
            IssuedReport.checkpoint_hash,
            IssuedReport.issued_by,
            IssuedReport.on_behalf_of,
        ).join(Plan, Plan.id == IssuedReport.plan_id)
    ), shape


# Each table's query (its id first: the batches walk it) and how a row of it becomes a Row.
READERS: dict[str, Callable[[], Any]] = {
    "status_report": _status_reports,
    "deviation": _deviations,
    "decision": _decisions,
    "proposal": _proposals,
    "annual_report": _annual_reports,
    "area_review": _area_reviews,
    "steering_meeting": _steering_meetings,
    "business_dialogue": _business_dialogues,
    "issued_report": _issued_reports,
}
