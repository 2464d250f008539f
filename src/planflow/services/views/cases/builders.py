"""The registry of case builders, one per task kind (form), and what they share: reading people's
names, an activity's section, bounded lists."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ....models import Activity, Deviation, OpenTask, ProcessInstance, ReportingCycle, User
from .. import history
from .model import ActivitySection, Case

REPORTS_SHOWN = 5  # an activity's last reports beside a form
DEVIATIONS_SHOWN = 5  # and its last deviations, each with its decisions


@dataclass(frozen=True)
class Task:
    """The open task a case is built for, and the process instance it belongs to."""

    task: OpenTask
    instance: ProcessInstance

    @property
    def subject_id(self) -> int:
        assert self.instance.subject_id is not None, f"instance {self.instance.id} is about nothing"
        return self.instance.subject_id


Builder = Callable[[Session, Task, Case], Case]
BUILDERS: dict[str, Builder] = {}


def builds(*names: str) -> Callable[[Builder], Builder]:
    """Register a builder for the task kinds `names` (form names)."""

    def register(builder: Builder) -> Builder:
        for name in names:
            assert name not in BUILDERS, f"two case builders for {name}"
            BUILDERS[name] = builder
        return builder

    return register


def names_of(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """People's names by username (a username not found stands for itself: "system")."""
    wanted = set(usernames)
    if not wanted:
        return {}
    rows = session.execute(select(User.username, User.display_name).where(User.username.in_(wanted)))
    found: dict[str, str] = {username: name for username, name in rows}
    return {username: found.get(username, username) for username in wanted}


def name_of(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return session.scalar(select(User.display_name).where(User.id == user_id))


def period_of(session: Session, cycle_id: int | None) -> str | None:
    if cycle_id is None:
        return None
    return session.scalar(select(ReportingCycle.period).where(ReportingCycle.id == cycle_id))


def activity_section(session: Session, activity_id: int | None) -> ActivitySection | None:
    """The activity with its last REPORTS_SHOWN reports and DEVIATIONS_SHOWN deviations."""
    if activity_id is None:
        return None
    activity = session.get(Activity, activity_id)
    if activity is None:
        return None
    rows = session.execute(
        select(Deviation, ReportingCycle.period)
        .outerjoin(ReportingCycle, ReportingCycle.id == Deviation.cycle_id)
        .where(Deviation.activity_id == activity.id)
        .order_by(Deviation.id.desc())
        .limit(DEVIATIONS_SHOWN)
    ).all()
    owner = activity.owner
    return ActivitySection(
        code=activity.code,
        title=activity.title,
        description=activity.description,
        owner_name=owner.display_name if owner else None,
        office=activity.office,
        starts_on=activity.starts_on,
        ends_on=activity.ends_on,
        state=activity.state.value,
        status=activity.status.value if activity.status else None,
        reports=tuple(history.reports(session, activity.id, REPORTS_SHOWN)),
        deviations=tuple(history.deviation_views(session, [(d, p) for d, p in rows])),
    )
