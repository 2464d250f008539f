"""The plan at a glance: filters, counts per colour per focus area, a status heatmap, and focus
areas with their intervention areas and activities (traffic light in colour and word)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import select

from ..db import get_db
from ..models import FocusArea, Plan
from ..services import planview
from ..services.access import UseCase
from .site import require, scopes, today

bp = Blueprint("plan", __name__)


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
@login_required
def index() -> str:
    require(UseCase.READ_PLAN)
    filters = _filters()
    page = request.args.get("page", "1")
    with get_db().reading() as session:
        plan = planview.plan_page(
            session, request.args.get("plan") or None, filters, today(), int(page) if page.isdigit() else 1
        )
        # The focus areas (numbers) where the reader may propose an activity: a link per area
        areas = scopes(UseCase.PROPOSE_ACTIVITY) if plan else set()
        proposable = set(
            session.scalars(
                select(FocusArea.number)
                .join(Plan, Plan.id == FocusArea.plan_id)
                .where(FocusArea.id.in_(areas), Plan.slug == plan.slug)
            )
            if plan and areas
            else ()
        )
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "plan/index.html",
        plan=plan,
        filters=filters,
        statuses=planview.STATUSES,
        args=args,
        proposable=proposable,
    )
