"""The case view's shape: one frozen dataclass made of optional sections, so that pages, the API
(plain.to_json, its schema from views.schema_of) and mail read the same thing. A builder per task
kind (the modules beside this one) fills in the sections its decision needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ....models import Status
from ...chain.counsel import CommentView
from ...chain.deviations import AwaitingDecision
from ..history import DecisionView, DeviationView, ReportView


@dataclass(frozen=True)
class Returned:
    """Who sent a task back, when and why (the reason stands first on the page)."""

    by: str  # the person's name, never a username
    at: datetime
    reason: str | None
    step: str  # the task that returned it (review_report, confirm_area, steering_decision…)


@dataclass(frozen=True)
class FormValue:
    """A field of the form as it was sent before a return: what the form is filled with again."""

    field: str
    value: str


@dataclass(frozen=True)
class ActivitySection:
    """The activity a task is about, with its last reports and its last deviations (each with
    its decisions)."""

    code: str
    title: str  # plan text: Swedish only
    description: str | None
    owner_name: str | None
    office: str | None
    starts_on: date | None
    ends_on: date | None
    state: str
    status: str | None  # its traffic light as last accepted
    reports: tuple[ReportView, ...]  # newest first
    deviations: tuple[DeviationView, ...]  # newest first


@dataclass(frozen=True)
class ReportSection:
    """The report under review: its colour, comment and cause, beside the status it would replace
    and the activity's deviations still open."""

    period: str | None
    status: str
    comment: str | None
    cause: str | None
    reporter_name: str
    reported_at: datetime
    previous_status: str | None  # the activity's accepted status before this report
    open_deviations: tuple[DeviationView, ...]


@dataclass(frozen=True)
class AreaReportRow:
    """One activity's accepted report of the period, as the area's summary reads it."""

    code: str
    title: str
    status: str | None  # None: not reported in the period
    comment: str | None
    cause: str | None
    reporter_name: str | None


@dataclass(frozen=True)
class AreaSection:
    """A focus area in a period: every activity's report, the lead's summary and the process
    leader's comment."""

    number: int
    title: str
    period: str
    state: str  # summarising | summarised | confirmed
    reports: tuple[AreaReportRow, ...]  # in plan order
    summary: str | None
    summarised_by: str | None  # the lead's name
    comment: str | None  # the process leader's last comment (a return's reason)


@dataclass(frozen=True)
class ReturnView:
    """A return on a deviation, a proposal or an annual report: who, when, at which step, why."""

    by: str
    at: datetime
    step: str
    reason: str | None


@dataclass(frozen=True)
class DeviationSection:
    """The deviation a task decides on: cause, level, the recommendation, every return with its
    reason and the decisions taken on it before."""

    id: int
    period: str | None
    level: Status
    cause: str
    recommendation: str | None
    state: str
    opened_at: datetime
    escalated_at: datetime | None
    returns: tuple[ReturnView, ...]  # oldest first
    decisions: tuple[DecisionView, ...]  # oldest first


@dataclass(frozen=True)
class ProposalSection:
    """A proposed activity in full, with its returns and the decisions taken on it."""

    id: int
    title: str | None  # plan text: Swedish only
    focus_area: int
    intervention_area: str | None  # its code, 3.4
    intervention_area_title: str | None
    owner_name: str | None
    starts_on: date | None
    ends_on: date | None
    why: str | None
    state: str
    proposed_by: str  # the lead's name
    created_at: datetime
    returns: tuple[ReturnView, ...]  # oldest first
    decisions: tuple[DecisionView, ...]  # oldest first


@dataclass(frozen=True)
class FeedbackView:
    author: str  # the representative's name
    feedback: str
    given_at: datetime


@dataclass(frozen=True)
class FeedbackSection:
    """The business dialogue of a period: every feedback given, with who and when."""

    period: str
    feedback: tuple[FeedbackView, ...]  # oldest first
    more: bool  # more were given than are shown


@dataclass(frozen=True)
class MeetingDecision:
    """A decision the steering group took on a deviation of the period."""

    activity_code: str
    activity_title: str
    decision: str
    rationale: str
    decided_by: str  # name
    decided_at: datetime


@dataclass(frozen=True)
class StillOpen:
    """A deviation the meeting must still account for that is not in the steering group's queue:
    returned to the process leader or still being prepared (meetings.to_account_for)."""

    activity_code: str
    activity_title: str
    level: Status
    state: str
    returned: bool  # the steering group sent it back


@dataclass(frozen=True)
class MeetingSection:
    """What a steering meeting closes over: the queue, the decisions of the period and what is
    still returned or pending."""

    period: str
    queue: tuple[AwaitingDecision, ...]
    decisions: tuple[MeetingDecision, ...]  # oldest first
    still_open: tuple[StillOpen, ...]


@dataclass(frozen=True)
class AnnualSection:
    """The annual report being approved: the report itself (its page and figures), who did what
    when, and the board's note with its date and paragraph."""

    year: int
    plan: str  # slug
    page: str  # the report's page, /reports/annual/<year>
    state: str
    summary: str | None
    activities: int
    green: int
    yellow: int
    red: int
    unreported: int
    completed: int
    decisions: int  # decisions on deviations in the year
    compiled_at: datetime | None
    compiled_by: str | None
    approved_at: datetime | None
    noted_at: datetime | None
    board_decided_on: date | None
    board_paragraph: str | None
    approvals: tuple[DecisionView, ...]  # the steering group's and the board's, oldest first
    returns: tuple[ReturnView, ...]


@dataclass(frozen=True)
class Case:
    """A task's case: what the person deciding it needs to see beside its form. Every section is
    optional; a task kind's builder fills the ones its decision needs (workflows/README.md, "What
    each decision needs")."""

    task_id: str
    name: str  # the task's form
    lane: str
    due_on: date | None
    plan: str | None  # slug
    subject_code: str | None  # 1.1.1, 2 (a focus area), 2026-Q4, 2026
    subject_title: str | None  # plan text (Swedish only): the activity's, area's or proposal's title
    returned: Returned | None = None
    sent_before: tuple[FormValue, ...] = ()
    activity: ActivitySection | None = None
    report: ReportSection | None = None
    area: AreaSection | None = None
    deviation: DeviationSection | None = None
    proposal: ProposalSection | None = None
    feedback: FeedbackSection | None = None
    meeting: MeetingSection | None = None
    annual: AnnualSection | None = None
    # The steering group members' comments, beside the chair's decision on what awaits the group.
    comments: tuple[CommentView, ...] | None = None

    def prefill(self) -> dict[str, str]:
        """The form's fields as sent before a return (empty when none was)."""
        return {value.field: value.value for value in self.sent_before}
