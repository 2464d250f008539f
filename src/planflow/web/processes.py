"""A running or finished process instance, drawn from its own BPMN diagram."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from ..db import get_db
from ..models import ProcessInstance, ProcessSpec
from ..services import instances
from ..services.access import UseCase
from ..services.errors import NotFound
from . import diagram
from .site import require

bp = Blueprint("processes", __name__)


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
        drawing = diagram.build(spec.source, done, current)
        process_id, status = instance.process_id, instance.status.value
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
