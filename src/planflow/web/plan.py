"""The plan at a glance: filters, counts per colour per focus area, a status heatmap, and focus
areas with their intervention areas and activities (traffic light in colour and word).

And which plan a page is about: `?plan=<slug>` names one, none is the default plan
(services.plans.get_plan, the one rule). Every page about a plan reads `named_plan()` and every link
to such a page carries `plan_param(slug)`, so that plan B's pages link to plan B's."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, g, render_template, request, url_for
from flask_login import current_user

from .. import clock
from ..db import get_db
from ..services.authority import access
from ..services.errors import NotFound
from ..services.plan import plans
from ..services.views import planview
from .site import know, me

bp = Blueprint("plan", __name__)


def named_plan() -> str | None:
    """The plan the request names (`?plan=<slug>`), None for the default plan."""
    return request.args.get("plan") or None


@bp.app_template_global()
def plan_param(slug: str | None) -> str | None:
    """What a link to a page about the plan `slug` carries as `?plan=`: nothing for the default
    plan (its addresses stay those of a one-plan installation), else the slug."""
    if not slug:
        return None
    if "default_plan" not in g:
        with get_db().reading() as session:
            try:
                g.default_plan = plans.get_plan(session).slug
            except NotFound:
                g.default_plan = None
    return None if slug == g.default_plan else slug


# The menu's pages that are about one plan: on a page of plan B, the menu leads to plan B's.
PLAN_PAGES = {
    "plan.index",
    "proposals.index",
    "dialogue.index",
    "cycles.index",
    "steering.index",
    "reports.index",
    "upkeep.index",
}


@bp.app_template_global()
def menu_url(endpoint: str) -> str:
    """A menu entry's address: the plan the current page names goes along to a plan's page."""
    return url_for(endpoint, plan=named_plan() if endpoint in PLAN_PAGES else None)


@bp.app_template_global()
def local_day(moment: datetime) -> str:
    """The day a moment falls on here, as a <time> element's ISO date (what long_date words)."""
    return clock.local(moment).date().isoformat()


def _filters() -> planview.Filters:
    args = request.args
    area = args.get("area", "")
    status = args.get("status", "")
    return planview.Filters(
        focus_area=int(area) if area.isdigit() else None,
        status=status if status in planview.STATUSES else None,
        owner=args.get("owner") or None,
        overdue=args.get("overdue") == "1",
        text=(args.get("q") or "").strip()[:100] or None,
    )


@bp.get("/")
def index() -> str:
    """The plan: as adopted to a visitor who has not signed in (a public document, without its
    traffic lights: planview.public_plan), with statuses, filters and heatmap to the signed-in."""
    if not current_user.is_authenticated:
        with get_db().reading() as session:
            public = planview.public_plan(session, named_plan())
        return render_template("plan/public.html", plan=public)
    filters = _filters()
    page = request.args.get("page", "1")
    with get_db().reading() as session:
        standing = access.standing(session, me(session))
        plan = planview.read_plan(
            session, standing, named_plan(), filters, int(page) if page.isdigit() else 1
        )
        know(session, standing)  # the header's menu and count, from the same reading
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "plan/index.html",
        plan=plan,
        filters=filters,
        statuses=planview.STATUSES,
        args=args,
        proposable=plan.proposable if plan else frozenset(),
    )
