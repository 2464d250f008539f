"""The plan as its reader may read it, for the plan page and GET /api/v1/plan alike (read_plan):
filtered, paginated activities with their latest report, counts per colour per focus area, and a
status heatmap over the plan's periods. A few queries whatever the plan's size: the page slice is
read whole, the counts are aggregated in SQL.

And the plan as adopted, the public document anyone may read without signing in (public_plan):
its focus areas, intervention areas and activities with their offices and timelines, nothing
reported and no person named."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from ... import clock
from ...models import (
    Activity,
    ActivityState,
    CycleState,
    FocusArea,
    InterventionArea,
    OpenTask,
    Plan,
    ReportingCycle,
    ReviewOutcome,
    Status,
    StatusReport,
    User,
)
from ..authority import access
from ..authority.access import UseCase
from ..errors import Forbidden, NotFound
from ..plan import plans

STATUSES = ("green", "yellow", "red", "unreported")
PER_PAGE = 100
HEAT_PERIODS = 8


@dataclass(frozen=True)
class Filters:
    focus_area: int | None = None
    status: str | None = None  # green | yellow | red | unreported
    owner: str | None = None
    overdue: bool = False
    text: str | None = None

    @property
    def active(self) -> bool:
        return any((self.focus_area, self.status, self.owner, self.overdue, self.text))


@dataclass(frozen=True)
class LastReport:
    """An activity's latest report as the reader may see it (read_plan decides which)."""

    period: str | None
    status: str
    reported_at: datetime
    review: str  # pending | accepted | returned
    comment: str | None  # the owner's; never to someone from outside


@dataclass(frozen=True)
class Row:
    id: int
    code: str
    title: str
    focus_area: int
    focus_area_title: str
    intervention_number: int
    intervention_code: str
    intervention_title: str
    approach: str | None
    owner: str | None  # username
    owner_name: str | None
    office: str | None
    starts_on: date | None
    ends_on: date | None
    status: str | None
    closed: bool
    is_demo: bool
    overdue: bool
    last: LastReport | None = None
    heat: dict[str, str] = field(default_factory=dict)

    @property
    def status_key(self) -> str:
        return f"status.{self.status or 'unreported'}"

    @property
    def last_report(self) -> datetime | None:
        return self.last.reported_at if self.last else None


@dataclass(frozen=True)
class InterventionAreaEntry:
    focus_area: int
    number: int
    code: str
    title: str
    approach: str | None


@dataclass(frozen=True)
class PlanPage:
    slug: str
    title: str
    organisation: str
    adopted_on: date
    strategy_period: str
    focus_areas: list[tuple[int, str]]
    intervention_areas: list[InterventionAreaEntry]  # every one, those without activities too
    counts: dict[int, dict[str, int]]  # focus area number -> status -> count (whole plan, active)
    rows: list[Row]
    total: int  # activities matching the filters
    page: int
    pages: int
    periods: list[str]
    owners: list[tuple[str, str]]
    proposable: frozenset[int]  # focus areas (numbers) where the reader may propose an activity
    plans: list[tuple[str, str]]  # every plan loaded (slug, title), the default first
    outside: bool  # the reader is from outside the municipality: accepted reports only


def _conditions(filters: Filters, today: date) -> list[object]:
    where: list[object] = []
    if filters.focus_area:
        where.append(FocusArea.number == filters.focus_area)
    if filters.status == "unreported":
        where.append(Activity.status.is_(None))
    elif filters.status in ("green", "yellow", "red"):
        where.append(Activity.status == Status(filters.status))
    if filters.owner:
        where.append(User.username == filters.owner)
    if filters.overdue:
        where.append(exists().where(OpenTask.activity_id == Activity.id, OpenTask.due_on < today))
    if filters.text:
        pattern = f"%{filters.text.strip()[:100]}%"
        where.append(or_(Activity.title.ilike(pattern), Activity.code.ilike(pattern)))
    return where


def read_plan(
    session: Session,
    reader: User | access.Standing,
    slug: str | None = None,
    filters: Filters | None = None,
    page: int = 1,
    per_page: int | None = PER_PAGE,
) -> PlanPage | None:
    """The plan as `reader` may read it: the one read behind the plan page and GET /api/v1/plan.
    The plan is plans.get_plan's (the default unless `slug` names one; an unknown slug is
    NotFound); None when no plan is loaded at all. Every reader sees the traffic lights (an
    activity's status is its last accepted report's) and the heatmap of accepted reports. Each
    activity's latest report: a municipal reader's is the latest of any review, with the owner's
    comment; to someone from outside (access.OUTSIDE_ROLES, who may not read internal records) only
    the latest accepted one, its period, colour and date, never a comment. `per_page` None: every
    activity on one page (the API)."""
    standing = access.standing(session, reader)
    outside = _reader_outside(standing)
    try:
        plan = plans.get_plan(session, slug)
    except NotFound:
        if slug:
            raise
        return None
    today = clock.today()
    areas = _focus_areas(session, plan)
    listing = _listing(session, plan, filters or Filters(), today, page, per_page)
    periods = _periods(session, plan)
    ids = [r[0] for r in listing.rows]
    last = _last_reports(session, ids, outside)
    overdue = _overdue(session, ids, today)
    heat = _heat(session, ids, periods)
    proposing = standing.scopes(UseCase.PROPOSE_ACTIVITY)
    return PlanPage(
        slug=plan.slug,
        title=plan.title,
        organisation=plan.organisation,
        adopted_on=plan.adopted_on,
        strategy_period=f"{plan.strategy_start}–{plan.strategy_end}",
        focus_areas=[(number, title) for _, number, title in areas],
        intervention_areas=_intervention_areas(session, plan),
        counts=_counts(session, plan, [number for _, number, _ in areas]),
        rows=[_row(r, r[0] in overdue, last.get(r[0]), heat.get(r[0], {})) for r in listing.rows],
        total=listing.total,
        page=listing.page,
        pages=listing.pages,
        periods=periods,
        owners=_owners(session, plan),
        proposable=frozenset(number for area_id, number, _ in areas if area_id in proposing),
        plans=[
            (each, title) for each, title in session.execute(select(Plan.slug, Plan.title).order_by(Plan.id))
        ],
        outside=outside,
    )


def _reader_outside(standing: access.Standing) -> bool:
    """Whether the reader, who must be allowed to read the plan (else Forbidden), is from outside
    the municipality: one who may not read internal records."""
    if standing.may(UseCase.READ_PLAN) is None:
        raise Forbidden(
            "error.access.use_case",
            user=standing.user.username,
            use_case={"key": f"access.use_case.{UseCase.READ_PLAN}"},
        )
    return standing.may(UseCase.READ_INTERNAL) is None


def _focus_areas(session: Session, plan: Plan) -> list[tuple[int, int, str]]:
    """The plan's focus areas (id, number, title) in order."""
    return [
        (area_id, number, title)
        for area_id, number, title in session.execute(
            select(FocusArea.id, FocusArea.number, FocusArea.title)
            .where(FocusArea.plan_id == plan.id)
            .order_by(FocusArea.number)
        ).all()
    ]


def _intervention_areas(session: Session, plan: Plan) -> list[InterventionAreaEntry]:
    """Every intervention area of the plan, those without activities too."""
    return [
        InterventionAreaEntry(fa, number, f"{fa}.{number}", title, approach)
        for fa, number, title, approach in session.execute(
            select(
                FocusArea.number, InterventionArea.number, InterventionArea.title, InterventionArea.approach
            )
            .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
            .where(FocusArea.plan_id == plan.id)
            .order_by(FocusArea.number, InterventionArea.number)
        ).all()
    ]


def _counts(session: Session, plan: Plan, numbers: list[int]) -> dict[int, dict[str, int]]:
    """Active activities per focus area (number) per colour, over the whole plan, unfiltered."""
    counts: dict[int, dict[str, int]] = {number: dict.fromkeys(STATUSES, 0) for number in numbers}
    for number, status, count in session.execute(
        select(FocusArea.number, Activity.status, func.count())
        .join(InterventionArea, InterventionArea.id == Activity.intervention_area_id)
        .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
        .where(Activity.plan_id == plan.id, Activity.state == ActivityState.ACTIVE)
        .group_by(FocusArea.number, Activity.status)
    ).all():
        counts[number][status.value if status else "unreported"] = count
    return counts


@dataclass(frozen=True)
class _Listing:
    rows: list[Any]  # the page's rows, as _listing selects them
    total: int
    page: int
    pages: int


def _listing(
    session: Session, plan: Plan, filters: Filters, today: date, page: int, per_page: int | None
) -> _Listing:
    """The activities matching the filters: how many, and the page's slice of them in plan order
    (the page clamped to those there are)."""
    base = (
        select(Activity.id)
        .join(InterventionArea, InterventionArea.id == Activity.intervention_area_id)
        .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
        .outerjoin(User, User.id == Activity.owner_id)
        .where(Activity.plan_id == plan.id, *_conditions(filters, today))  # type: ignore[arg-type]
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // per_page)) if per_page else 1
    page = min(max(1, page), pages)
    listed = base.add_columns(
        Activity.code,
        Activity.title,
        FocusArea.number,
        FocusArea.title,
        InterventionArea.number,
        InterventionArea.title,
        InterventionArea.approach,
        User.username,
        User.display_name,
        Activity.office,
        Activity.starts_on,
        Activity.ends_on,
        Activity.status,
        Activity.state,
        Activity.is_demo,
    ).order_by(FocusArea.number, InterventionArea.number, Activity.number)
    if per_page:
        listed = listed.limit(per_page).offset((page - 1) * per_page)
    return _Listing(list(session.execute(listed).all()), total, page, pages)


def _row(r: Any, overdue: bool, last: LastReport | None, heat: dict[str, str]) -> Row:
    """One listed activity (a row as _listing selects it) as the page shows it."""
    return Row(
        id=r[0],
        code=r[1],
        title=r[2],
        focus_area=r[3],
        focus_area_title=r[4],
        intervention_number=r[5],
        intervention_code=f"{r[3]}.{r[5]}",
        intervention_title=r[6],
        approach=r[7],
        owner=r[8],
        owner_name=r[9],
        office=r[10],
        starts_on=r[11],
        ends_on=r[12],
        status=r[13].value if r[13] else None,
        closed=r[14] is ActivityState.CLOSED,
        is_demo=r[15],
        overdue=overdue,
        last=last,
        heat=heat,
    )


def _periods(session: Session, plan: Plan) -> list[str]:
    """The heatmap's periods: the plan's last HEAT_PERIODS cycles' (not cancelled), oldest first."""
    return list(
        reversed(
            session.scalars(
                select(ReportingCycle.period)
                .where(ReportingCycle.plan_id == plan.id, ReportingCycle.state != CycleState.CANCELLED)
                .order_by(ReportingCycle.started_at.desc(), ReportingCycle.id.desc())
                .limit(HEAT_PERIODS)
            ).all()
        )
    )


def _overdue(session: Session, ids: list[int], today: date) -> set[int]:
    """Those of the page's activities with an open task past due (asked for the page's activities
    only, not for every activity the sort passes)."""
    if not ids:
        return set()
    return set(
        session.scalars(
            select(OpenTask.activity_id).where(OpenTask.activity_id.in_(ids), OpenTask.due_on < today)
        )
    )


def _heat(session: Session, ids: list[int], periods: list[str]) -> dict[int, dict[str, str]]:
    """The heatmap of the page's activities: activity -> period -> colour of its accepted report
    (the latest one of the period when there are several)."""
    heat: dict[int, dict[str, str]] = {}
    if not ids:
        return heat
    for activity_id, period, status in session.execute(
        select(StatusReport.activity_id, ReportingCycle.period, StatusReport.status)
        .join(ReportingCycle, ReportingCycle.id == StatusReport.cycle_id)
        .where(
            StatusReport.activity_id.in_(ids),
            StatusReport.review == ReviewOutcome.ACCEPTED,
            ReportingCycle.period.in_(periods or [""]),
        )
        .order_by(StatusReport.reported_at)
    ).all():
        heat.setdefault(activity_id, {})[period] = status.value
    return heat


def _owners(session: Session, plan: Plan) -> list[tuple[str, str]]:
    """Everyone who owns an activity of the plan (username, display name), by name: the owner filter."""
    return [
        (u, n)
        for u, n in session.execute(
            select(User.username, User.display_name)
            .where(exists().where(Activity.owner_id == User.id, Activity.plan_id == plan.id))
            .order_by(User.display_name)
        ).all()
    ]


def _last_reports(session: Session, ids: list[int], outside: bool) -> dict[int, LastReport]:
    """Each activity's latest report (the highest id: reports are numbered as they come), the
    latest accepted one for a reader from outside, without its comment."""
    if not ids:
        return {}
    latest = select(func.max(StatusReport.id)).where(StatusReport.activity_id.in_(ids))
    if outside:
        latest = latest.where(StatusReport.review == ReviewOutcome.ACCEPTED)
    found: dict[int, LastReport] = {}
    for report, period in session.execute(
        select(StatusReport, ReportingCycle.period)
        .outerjoin(ReportingCycle, ReportingCycle.id == StatusReport.cycle_id)
        .where(StatusReport.id.in_(latest.group_by(StatusReport.activity_id)))
    ):
        found[report.activity_id] = LastReport(
            period=period,
            status=report.status.value,
            reported_at=_aware(report.reported_at),
            review=report.review.value,
            comment=None if outside else report.comment,
        )
    return found


def _aware(value: datetime) -> datetime:
    """A time SQLite gives back without its zone (an aggregate's, an old row's) is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class PublicActivity:
    code: str
    title: str
    office: str | None  # the office responsible: the plan names offices, not people, to the public
    starts_on: date | None
    ends_on: date | None
    closed: bool
    is_demo: bool


@dataclass(frozen=True)
class PublicInterventionArea:
    code: str
    title: str
    approach: str | None
    activities: tuple[PublicActivity, ...]


@dataclass(frozen=True)
class PublicFocusArea:
    number: int
    title: str
    intervention_areas: tuple[PublicInterventionArea, ...]


@dataclass(frozen=True)
class PublicPlan:
    """The plan as adopted: what anyone may read, signed in or not (access's module docstring)."""

    slug: str
    title: str
    organisation: str
    adopted_on: date
    strategy_period: str
    focus_areas: tuple[PublicFocusArea, ...]
    activities: int  # active ones
    plans: tuple[tuple[str, str], ...]  # every plan loaded (slug, title), the default first


def public_plan(session: Session, slug: str | None = None) -> PublicPlan | None:
    """The plan as adopted, for anyone, signed in or not: its areas and activities with their
    offices and timelines (plans.get_plan's plan: the default unless `slug` names one; an unknown
    slug is NotFound; None when no plan is loaded). No status, report or person: those are for
    the signed-in (read_plan)."""
    try:
        plan = plans.get_plan(session, slug)
    except NotFound:
        if slug:
            raise
        return None
    activities: dict[int, list[PublicActivity]] = {}
    for area_id, code, title, office, starts_on, ends_on, state, is_demo in session.execute(
        select(
            Activity.intervention_area_id,
            Activity.code,
            Activity.title,
            Activity.office,
            Activity.starts_on,
            Activity.ends_on,
            Activity.state,
            Activity.is_demo,
        )
        .where(Activity.plan_id == plan.id)
        .order_by(Activity.intervention_area_id, Activity.number)
    ):
        activities.setdefault(area_id, []).append(
            PublicActivity(code, title, office, starts_on, ends_on, state is ActivityState.CLOSED, is_demo)
        )
    areas: dict[int, list[PublicInterventionArea]] = {}
    for area_id, focus_area_id, fa_number, number, title, approach in session.execute(
        select(
            InterventionArea.id,
            InterventionArea.focus_area_id,
            FocusArea.number,
            InterventionArea.number,
            InterventionArea.title,
            InterventionArea.approach,
        )
        .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
        .where(FocusArea.plan_id == plan.id)
        .order_by(FocusArea.number, InterventionArea.number)
    ):
        areas.setdefault(focus_area_id, []).append(
            PublicInterventionArea(
                f"{fa_number}.{number}", title, approach, tuple(activities.get(area_id, ()))
            )
        )
    focus_areas = tuple(
        PublicFocusArea(number, title, tuple(areas.get(area_id, ())))
        for area_id, number, title in _focus_areas(session, plan)
    )
    return PublicPlan(
        slug=plan.slug,
        title=plan.title,
        organisation=plan.organisation,
        adopted_on=plan.adopted_on,
        strategy_period=f"{plan.strategy_start}–{plan.strategy_end}",
        focus_areas=focus_areas,
        activities=sum(1 for listed in activities.values() for activity in listed if not activity.closed),
        plans=tuple(
            (each, title) for each, title in session.execute(select(Plan.slug, Plan.title).order_by(Plan.id))
        ),
    )
