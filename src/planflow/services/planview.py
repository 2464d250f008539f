"""The plan page's read side: filtered, paginated activities with their last report, counts per
colour per focus area, and a status heatmap over the plan's periods. A few queries whatever the
plan's size: the page slice is read whole, the counts are aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from ..models import (
    Activity,
    ActivityState,
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
    owner_name: str | None
    office: str | None
    starts_on: date | None
    ends_on: date | None
    status: str | None
    closed: bool
    is_demo: bool
    overdue: bool
    last_report: datetime | None = None
    heat: dict[str, str] = field(default_factory=dict)

    @property
    def status_key(self) -> str:
        return f"status.{self.status or 'unreported'}"


@dataclass(frozen=True)
class PlanPage:
    slug: str
    title: str
    organisation: str
    adopted_on: date
    strategy_period: str
    focus_areas: list[tuple[int, str]]
    counts: dict[int, dict[str, int]]  # focus area number -> status -> count (whole plan)
    rows: list[Row]
    total: int  # activities matching the filters
    page: int
    pages: int
    periods: list[str]
    owners: list[tuple[str, str]]


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


def plan_page(
    session: Session, slug: str | None, filters: Filters, today: date, page: int = 1, per_page: int = PER_PAGE
) -> PlanPage | None:
    query = select(Plan).order_by(Plan.id).limit(1)
    plan = session.scalar(query.where(Plan.slug == slug) if slug else query)
    if plan is None:
        return None
    areas = session.execute(
        select(FocusArea.number, FocusArea.title)
        .where(FocusArea.plan_id == plan.id)
        .order_by(FocusArea.number)
    ).all()
    counts: dict[int, dict[str, int]] = {number: dict.fromkeys(STATUSES, 0) for number, _ in areas}
    for number, status, count in session.execute(
        select(FocusArea.number, Activity.status, func.count())
        .join(InterventionArea, InterventionArea.id == Activity.intervention_area_id)
        .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
        .where(Activity.plan_id == plan.id, Activity.state == ActivityState.ACTIVE)
        .group_by(FocusArea.number, Activity.status)
    ).all():
        counts[number][status.value if status else "unreported"] = count
    base = (
        select(Activity.id)
        .join(InterventionArea, InterventionArea.id == Activity.intervention_area_id)
        .join(FocusArea, FocusArea.id == InterventionArea.focus_area_id)
        .outerjoin(User, User.id == Activity.owner_id)
        .where(Activity.plan_id == plan.id, *_conditions(filters, today))  # type: ignore[arg-type]
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = session.execute(
        base.add_columns(
            Activity.code,
            Activity.title,
            FocusArea.number,
            FocusArea.title,
            InterventionArea.number,
            InterventionArea.title,
            InterventionArea.approach,
            User.display_name,
            Activity.office,
            Activity.starts_on,
            Activity.ends_on,
            Activity.status,
            Activity.state,
            Activity.is_demo,
        )
        .order_by(FocusArea.number, InterventionArea.number, Activity.number)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    periods = list(
        reversed(
            session.scalars(
                select(ReportingCycle.period)
                .where(ReportingCycle.plan_id == plan.id)
                .order_by(ReportingCycle.started_at.desc(), ReportingCycle.id.desc())
                .limit(HEAT_PERIODS)
            ).all()
        )
    )
    ids = [r[0] for r in rows]
    last: dict[int, datetime] = {}
    heat: dict[int, dict[str, str]] = {}
    overdue: set[int] = set()
    if ids:  # asked for the page's activities only, not for every activity the sort passes
        overdue = set(
            session.scalars(
                select(OpenTask.activity_id).where(OpenTask.activity_id.in_(ids), OpenTask.due_on < today)
            )
        )
        for activity_id, reported_at in session.execute(
            select(StatusReport.activity_id, func.max(StatusReport.reported_at))
            .where(StatusReport.activity_id.in_(ids))
            .group_by(StatusReport.activity_id)
        ).all():
            last[activity_id] = reported_at
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
    owners = session.execute(
        select(User.username, User.display_name)
        .where(exists().where(Activity.owner_id == User.id, Activity.plan_id == plan.id))
        .order_by(User.display_name)
    ).all()
    return PlanPage(
        slug=plan.slug,
        title=plan.title,
        organisation=plan.organisation,
        adopted_on=plan.adopted_on,
        strategy_period=f"{plan.strategy_start}–{plan.strategy_end}",
        focus_areas=[(n, title) for n, title in areas],
        counts=counts,
        rows=[
            Row(
                id=r[0],
                code=r[1],
                title=r[2],
                focus_area=r[3],
                focus_area_title=r[4],
                intervention_number=r[5],
                intervention_code=f"{r[3]}.{r[5]}",
                intervention_title=r[6],
                approach=r[7],
                owner_name=r[8],
                office=r[9],
                starts_on=r[10],
                ends_on=r[11],
                status=r[12].value if r[12] else None,
                closed=r[13] is ActivityState.CLOSED,
                is_demo=r[14],
                overdue=r[0] in overdue,
                last_report=_aware(last.get(r[0])),
                heat=heat.get(r[0], {}),
            )
            for r in rows
        ],
        total=total,
        page=page,
        pages=pages,
        periods=periods,
        owners=[(u, n) for u, n in owners],
    )


def _aware(value: datetime | None) -> datetime | None:
    """SQLite's aggregates come back without the column type's zone: they are UTC."""
    from datetime import UTC

    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
