"""Demo data: one account per role and invented owners, offices and dates for the activities.

The seed names no owners or dates for single activities (the process leader keeps the detailed
activity plan), so everything made here is marked as demo data (`is_demo`) and shown as such.

The rule for owners: each focus area has two owner accounts from the office that does most of its
work; an activity with an odd number goes to the first, an even number to the second.

The rule for dates: the seed's strategy period (2016–2022) is over, but a demo must make sense on
the day it is set up, so the invented timelines lie around today. An activity starts 0–3 quarters
before the current quarter (staggered by intervention area) and ends 1–4 quarters after the end of
the next year (staggered by activity number): a cycle for the current quarter asks every active
demo activity to report. The plan's own adoption date and period stay as the seed has them.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import clock
from ...models import Activity, FocusArea, InterventionArea, User
from ..authority.people import RoleSpec, add_user
from ..records.audit import OPERATOR_ACTOR

ONE_DAY = timedelta(days=1)
DEMO_DOMAIN = "demo.planflow.invalid"  # .invalid never resolves: demo mail goes nowhere

# focus area number -> (office, first owner, second owner)
OWNERS = {
    1: ("Näringslivskontoret", ("anna.nilsson", "Anna Nilsson"), ("erik.berg", "Erik Berg")),
    2: ("Arbetsmarknadskontoret", ("sara.lind", "Sara Lind"), ("omar.haddad", "Omar Haddad")),
    3: ("Stadsbyggnadskontoret", ("lena.holm", "Lena Holm"), ("johan.ek", "Johan Ek")),
    4: ("Samhällsbyggnadskontoret", ("maria.sjoberg", "Maria Sjöberg"), ("ali.demir", "Ali Demir")),
    5: ("Kommunikationsenheten", ("karin.wall", "Karin Wall"), ("peter.lund", "Peter Lund")),
}

# username, display name, office, roles
STAFF: list[tuple[str, str, str, list[str]]] = [
    *[
        (f"lead{n}", f"Fokusområdesansvarig {n}", office, [f"focus_area_lead:{n}"])
        for n, (office, _, _) in OWNERS.items()
    ],
    ("processledare", "Processledaren", "Näringslivskontoret", ["process_leader"]),
    ("ordforande", "Styrgruppens ordförande", "Destination Södertälje", ["steering_group", "steering_chair"]),
    ("styrgrupp.nk", "Näringslivschef", "Näringslivskontoret", ["steering_group", "office_head"]),
    ("styrgrupp.sbk", "Stadsbyggnadsdirektör", "Stadsbyggnadskontoret", ["steering_group", "office_head"]),
    ("styrgrupp.ak", "Arbetsmarknadsdirektör", "Arbetsmarknadskontoret", ["steering_group", "office_head"]),
    ("kommunstyrelsen", "Kommunstyrelsens sekreterare", "Kommunstyrelsens kontor", ["board"]),
    ("naringslivsradet", "Näringslivsrådet (representant)", "Näringslivsrådet", ["dialogue"]),
    ("admin", "Administratör", "Kommunstyrelsens kontor", ["admin"]),
]


def create_demo_data(session: Session) -> list[tuple[str, str]]:
    """Create demo accounts and give activities demo owners and dates; returns (username, password)
    for each account made now. A second run finds everything in place and returns nothing."""
    created: list[tuple[str, str]] = []

    def account(username: str, name: str, office: str, roles: list[str]) -> User:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            password = secrets.token_urlsafe(9)
            user = add_user(
                session,
                OPERATOR_ACTOR,
                username,
                f"{name} (demo)",
                f"{username}@{DEMO_DOMAIN}",
                [RoleSpec.parse(r) for r in roles],
                password=password,
                office=office,
                is_demo=True,
            )
            created.append((username, password))
        return user

    for username, name, office, roles in STAFF:
        account(username, name, office, roles)

    today = clock.today()
    this_quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    rows = session.execute(
        select(Activity, InterventionArea.number, FocusArea.number)
        .join(InterventionArea, Activity.intervention_area_id == InterventionArea.id)
        .join(FocusArea, InterventionArea.focus_area_id == FocusArea.id)
        .order_by(Activity.id)
    ).all()
    for activity, ia_number, fa_number in rows:
        if activity.owner_id is not None:
            continue
        office, first, second = OWNERS[(fa_number - 1) % len(OWNERS) + 1]
        username, name = first if activity.number % 2 else second
        owner = account(username, name, office, [])
        activity.owner = owner
        activity.office = office
        activity.starts_on = _months_later(this_quarter, -3 * ((ia_number - 1) % 4))
        activity.ends_on = _months_later(date(today.year + 2, 1, 1), 3 * (activity.number % 4 + 1)) - ONE_DAY
        activity.is_demo = True
    session.flush()
    return created


def _months_later(day: date, months: int) -> date:
    """The first of the month `months` after (or before) the first of `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
