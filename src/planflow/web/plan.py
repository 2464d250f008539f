"""The plan at a glance: focus areas, their intervention areas and activities with traffic lights."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..db import get_db
from ..services import plans

bp = Blueprint("plan", __name__)


@bp.get("/")
def index() -> str:
    with get_db().reading() as session:
        plan = plans.plan_tree(session)
    return render_template("plan/index.html", plan=plan)
