"""What the reports say, as plain data: the steering group's report for a period and the board's
report for a year, and the issue that froze one. Small frozen dataclasses, built by the queries in
planflow.services.reports and read by the composers (planflow.documents.compose); nothing here
queries, words or lays out.

Statuses are the keys green / yellow / red, or None for an activity that has not reported; the
composers word them from the catalogs and never show a colour alone."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

STATUSES = ("green", "yellow", "red")
COUNT_KEYS = (*STATUSES, "unreported")


@dataclass(frozen=True)
class PlanHeading:
    slug: str
    title: str
    organisation: str


@dataclass(frozen=True)
class ActivityLine:
    """An activity in a period: its status then, the one before, and how it changed."""

    code: str
    title: str
    owner: str | None
    office: str | None
    status: str | None
    previous: str | None
    change: str  # new | unchanged | better | worse | unreported
    comment: str | None
    closed: bool


@dataclass(frozen=True)
class AreaLines:
    number: int
    title: str
    summary: str | None  # the focus-area lead's summary of the period, when given
    activities: list[ActivityLine]
    counts: dict[str, int]


@dataclass(frozen=True)
class DeviationLine:
    activity_code: str
    activity_title: str
    focus_area: int
    period: str | None
    level: str
    cause: str
    recommendation: str | None
    state: str
    escalated: bool
    decision: str | None  # the steering group's latest decision (a decision.* key), if any
    rationale: str | None
    decided_on: date | None
    decided_by: str | None
    # Left open to the next meeting by the meeting of the report's period (its minutes list it).
    left_open: bool = False
    case_number: str | None = None  # the decision's diarienummer, once the process leader set it


@dataclass(frozen=True)
class LeftOpen:
    """A deviation a steering meeting left open to the next meeting, as it stood then."""

    activity_code: str
    activity_title: str
    stands: str  # awaiting (the group's decision) | returned (to the process leader) | preparing


@dataclass(frozen=True)
class Feedback:
    author: str
    text: str
    given_on: date


@dataclass(frozen=True)
class Dialogue:
    forums: list[str]
    held_on: date | None  # None: feedback came in, but the dialogue is not recorded yet
    heard: str | None
    ideas: str | None
    feedback: list[Feedback]


@dataclass(frozen=True)
class ProposalLine:
    title: str | None
    focus_area: int
    intervention_area: str | None
    state: str
    proposed_by: str
    why: str | None
    decision: str | None
    rationale: str | None
    activity_code: str | None


@dataclass(frozen=True)
class SteeringReport:
    """The steering group's status report for one period (chain step 4)."""

    plan: PlanHeading
    period: str
    first_day: date
    last_day: date
    previous_period: str | None
    generated_at: datetime
    areas: list[AreaLines]
    totals: dict[str, int]
    deviations: list[DeviationLine]
    dialogue: Dialogue | None
    proposals: list[ProposalLine]
    meeting_notes: str | None
    priorities: str | None
    left_open: list[LeftOpen] = dataclasses.field(default_factory=list)  # by the meeting's minutes
    case_number: str | None = None  # the cycle's diarienummer, once the process leader set it
    kind: str = "steering"

    @property
    def subject(self) -> str:
        return self.period


@dataclass(frozen=True)
class YearActivity:
    code: str
    title: str
    owner: str | None
    status: str | None  # the last accepted status of the year
    closed: bool


@dataclass(frozen=True)
class YearArea:
    number: int
    title: str
    activities: list[YearActivity]
    counts: dict[str, int]


@dataclass(frozen=True)
class PeriodCounts:
    period: str
    counts: dict[str, int]


@dataclass(frozen=True)
class CompletedActivity:
    code: str
    title: str
    how: str  # closed (by the steering group's decision) | timeline_ended
    on: date | None
    status: str | None


@dataclass(frozen=True)
class NewActivity:
    code: str
    title: str
    focus_area: int
    owner: str | None
    decided_on: date
    rationale: str


@dataclass(frozen=True)
class AnnualReportContent:
    """December's status of all decided and completed activities, for the board (chain step 5)."""

    plan: PlanHeading
    year: int
    generated_at: datetime
    summary: str | None  # the process leader's summary, once compiled
    state: str | None  # the annual report process's state, when started
    areas: list[YearArea]
    totals: dict[str, int]
    periods: list[PeriodCounts]
    deviations: list[DeviationLine]
    completed: list[CompletedActivity]
    new_activities: list[NewActivity]
    decisions: int = 0
    # The board's decision to take note, as its minutes record it (once the board has noted it).
    board_decided_on: date | None = None
    board_paragraph: str | None = None
    approved_on: date | None = None  # the steering group's approval (the date it was recorded)
    case_number: str | None = None  # the report's diarienummer, once the process leader set it
    kind: str = "annual"

    @property
    def subject(self) -> str:
        return str(self.year)


Content = SteeringReport | AnnualReportContent


def as_json(content: Content) -> dict[str, Any]:
    """The content as plain JSON data (dates as ISO text): what an issued report freezes."""
    data = dataclasses.asdict(content)
    data["kind"] = content.kind
    result: dict[str, Any] = json.loads(json.dumps(data, default=_iso, ensure_ascii=False, sort_keys=True))
    return result


T = TypeVar("T")


def from_json(kind: type[T], data: Any) -> T:
    """Content read back from `as_json`: the frozen JSON of an approved annual report becomes the
    dataclasses the composers read, every field as it was (a field added since reads its default)."""
    return typing.cast(T, _read(kind, data))


def _read(kind: Any, data: Any) -> Any:
    if data is None:
        return None
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(
            **{f.name: _read(hints[f.name], data[f.name]) for f in dataclasses.fields(kind) if f.name in data}
        )
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):  # X | None
        return _read(next(a for a in args if a is not type(None)), data)
    if origin is list:
        return [_read(args[0], item) for item in data]
    if origin is dict:
        return {key: _read(args[1], value) for key, value in data.items()}
    if kind is datetime:
        return datetime.fromisoformat(data)
    if kind is date:
        return date.fromisoformat(data)
    return data


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _iso(value: Any) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@dataclass(frozen=True)
class Issue:
    """What an issued report's documents say about their issue: which one, when, by whom, and the
    signed audit checkpoint they anchor."""

    number: int
    issued_at: datetime
    issued_by: str
    checkpoint_seq: int
    checkpoint_hash: str
    checkpoint_made_at: datetime
    key_id: str

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(self), default=_iso))
        return data
