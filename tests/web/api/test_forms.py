"""Property tests over every task form (hypothesis + hypothesis-jsonschema): what a form's schema
allows, the server accepts; a wrong type or an unknown field is refused, naming the field. And on
a real task: valid data completes, invalid data is refused with nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from sqlalchemy import select

from planflow.db import Database
from planflow.engine.forms import CONTROL, FormError
from planflow.models import AuditHead, OpenTask
from planflow.services import instances, people, tasks
from planflow.services.errors import InvalidInput

from ...services.chain import Chain

FORMS = sorted(instances.library().forms.forms)
QUICK = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _texts(item)]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    return []


def _schema(name: str) -> dict[str, Any]:
    return instances.library().forms.get(name).schema


@pytest.mark.parametrize("name", FORMS)
def test_what_a_form_allows_is_accepted_and_a_broken_field_is_named(name: str) -> None:
    form = instances.library().forms.get(name)

    @QUICK
    @given(data=from_schema(_schema(name)), field=st.sampled_from(form.fields), junk=st.integers())
    def check(data: dict[str, Any], field: str, junk: int) -> None:
        # text that no person types (control characters) is refused beyond the schema
        assume(not any(CONTROL.search(v) for v in _texts(data)))
        assert form.validate(data) == data
        with pytest.raises(FormError) as refused:
            form.validate({**data, "not_a_field": 1})
        assert "not_a_field" in refused.value.errors
        with pytest.raises(FormError) as wrong:
            form.validate({**data, field: {"junk": junk}})
        assert field in wrong.value.errors

    check()


@pytest.fixture
def report_task(seeded: Database) -> tuple[Database, str]:
    Chain(seeded).start_cycle()
    return seeded, Chain(seeded).task("anna.nilsson", "report_status", "1.1.1").id


def _state(db: Database, task_id: str) -> tuple[Any, ...]:
    with db.reading() as session:
        head = session.get(AuditHead, 1)
        task = session.scalar(select(OpenTask.id).where(OpenTask.id == task_id))
        assert head is not None
        return head.seq, head.hash, task


def test_on_a_real_task_valid_data_completes_and_invalid_data_changes_nothing(
    report_task: tuple[Database, str],
) -> None:
    db, task_id = report_task
    before = _state(db, task_id)
    schema = _schema("report_status")

    wrong = st.dictionaries(st.sampled_from(["status", "cause", "x"]), st.integers())

    @QUICK
    @given(data=from_schema(schema) | wrong)
    def check(data: dict[str, Any]) -> None:
        try:
            instances.library().forms.get("report_status").validate(data)
        except FormError:
            with pytest.raises(InvalidInput):  # as the API runs it: one transaction, refused
                with db.transaction() as session:
                    tasks.complete_task(session, people.get_user(session, "anna.nilsson"), task_id, data)
            assert _state(db, task_id) == before
            return
        with db.sessions() as session, session.begin():
            tasks.complete_task(session, people.get_user(session, "anna.nilsson"), task_id, data)
            assert session.scalar(select(OpenTask.id).where(OpenTask.id == task_id)) is None
            session.rollback()  # the next example needs the task open again
        assert _state(db, task_id) == before

    check()
