"""Demo data: one account per role and invented owners, offices and dates for the activities.

The seed names no owners or dates for single activities (the process leader keeps the detailed
activity plan), so everything made here is marked as demo data (`is_demo`) and shown as such.

The rule for owners: each focus area has two owner accounts from the office that does most of its
work; an activity with an odd number goes to the first, an even number to the second. Dates: an
activity starts in the quarter after the plan was adopted, staggered by intervention area, and runs
to the end of the strategy period.
"""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Activity, FocusArea, InterventionArea, Plan, User
from .people import RoleSpec, add_user

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

    plan = session.scalar(select(Plan))
    if plan is None:
        return created
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
        quarter = (ia_number - 1) % 4
        activity.owner = owner
        activity.office = office
        activity.starts_on = date(plan.adopted_on.year, 4 + 3 * quarter if quarter < 3 else 12, 1)
        activity.ends_on = date(plan.strategy_end, 12, 31)
        activity.is_demo = True
    session.flush()
    return created
