"""A running or finished process instance, drawn from its own BPMN diagram."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, render_template
from flask_login import login_required

from .. import i18n
from ..db import get_db
from ..services.chain import instances
from . import diagram
from .site import me, t

bp = Blueprint("processes", __name__)


def _label(process_id: str, kind: str, element_id: str, name: str) -> str:
    """An element's words in the reader's language: a user task's title (task.<id>), any other
    element's bpmn.<process>.<id>; the diagram's own (Swedish) name where the catalogs have none,
    as for an instance of an older version of the diagram."""
    key = f"task.{element_id}" if kind == "userTask" else f"bpmn.{process_id}.{element_id}"
    return t(key) if i18n.known(key) else name


@bp.get("/processes/<int:instance_id>")
@login_required
def show(instance_id: int) -> str:
    with get_db().reading() as session:
        seen = instances.progress(session, me(session), instance_id)
    drawing = diagram.build(seen.diagram, seen.done, seen.current, partial(_label, seen.process_id))
    return render_template(
        "processes/show.html",
        d=drawing,
        instance_id=instance_id,
        process_id=seen.process_id,
        status=seen.status,
        subject=seen.subject,
        wrap=diagram.wrap,
        is_event=diagram.is_event,
        is_gateway=diagram.is_gateway,
    )
