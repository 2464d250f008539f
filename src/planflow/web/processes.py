"""A running or finished process instance, drawn from its own BPMN diagram."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, render_template
from flask_login import login_required

from .. import i18n
from ..db import get_db
from ..models import ProcessInstance, ProcessSpec
from ..services import instances
from ..services.access import UseCase
from ..services.errors import NotFound
from . import diagram
from .site import require, t

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
    require(UseCase.READ_INTERNAL)
    with get_db().reading() as session:
        instance = session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound("error.instance.not_found", instance=instance_id)
        spec = session.get(ProcessSpec, instance.spec_hash)
        if spec is None:
            raise NotFound("error.instance.spec_missing", instance=instance_id, spec=instance.spec_hash[:12])
        done, current = instances.load(session, instance).progress()
        process_id, status = instance.process_id, instance.status.value
        drawing = diagram.build(spec.source, done, current, partial(_label, process_id))
    return render_template(
        "processes/show.html",
        d=drawing,
        instance_id=instance_id,
        process_id=process_id,
        status=status,
        wrap=diagram.wrap,
        is_event=diagram.is_event,
        is_gateway=diagram.is_gateway,
    )
