"""Property tests over every task form (hypothesis + hypothesis-jsonschema): what a form's schema
allows, the server accepts; a wrong type or an unknown field is refused, naming the field.

And on a real task of every form, all open at once in one database the chain was driven to once
for the module: data the form accepts completes the task (in a transaction then rolled back, so
the next example finds it open), data it refuses is refused through tasks.complete_task with
nothing changed (the audit head, the task, every table's rows); a refusal of accepted data must be
a documented domain one (DOMAIN_REFUSALS), and it changes nothing either. `propose_activity` is
tried both ways: on its real task (a proposal the process leader returned, in the lead's inbox)
and through proposals.propose_activity, which starts a new proposal with it. `dialogue_feedback`
belongs to no user task: it goes through cycles.give_dialogue_feedback while a cycle's
business_dialogue task is open."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from planflow import clock, migrate
from planflow.app import create_app
from planflow.db import Database
from planflow.engine.forms import CONTROL, FormError
from planflow.models import Activity, AuditHead, Base, FocusArea, InterventionArea, OpenTask, User
from planflow.services.authority import logins, people
from planflow.services.chain import annual, cycles, instances, proposals, tasks
from planflow.services.errors import InvalidInput, ServiceError
from planflow.services.plan import demo, plans
from planflow.services.records import audit
from planflow.services.records.audit import OPERATOR_ACTOR, Actor

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


# On real tasks: one database, built once for the module, with an open task of every form at once.

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PERIOD = "2026-Q4"
DIALOGUE_PLAN, MEETING_PLAN = "formprov-dialog", "formprov-mote"
USER_TASK_FORMS = {name for p in instances.library().processes for name in p.user_tasks}
# The forms no user task has: a service takes them (the business community's feedback, given while
# a cycle's dialogue task is open).
SERVICE_FORMS = {"dialogue_feedback"}
# A case per form, and one more: a new proposal through the service that starts it.
CASES = [*FORMS, "propose_activity:new"]
REAL = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))

# What each case may refuse although the form accepts it, for a domain reason (the code says which).
DOMAIN_REFUSALS: dict[str, set[str]] = {
    # the intervention area must exist and be the proposal's focus area's; the owner an active
    # user; the end not before the start
    "propose_activity": {
        "error.proposal.no_area",
        "error.proposal.other_area",
        "error.user.not_found",
        "error.proposal.dates",
    },
    # a new proposal: the lead proposes in its own focus area only
    "propose_activity:new": {
        "error.proposal.no_area",
        "error.user.not_found",
        "error.proposal.dates",
        "error.access.use_case",
    },
    # the board's decision is dated in the years planflow records (clock.FIRST_YEAR..LAST_YEAR)
    "board_note": {"error.annual.decided_on"},
    # only a deviation not yet decided may be left open to the next meeting (none is, here)
    "steering_meeting": {"error.steering.not_open"},
}

# One answer per form that the chain's own tests give: each property run tries it first, so that
# every case both completes and refuses whatever hypothesis draws.
PROPOSAL = {
    "title": "Lokalguide för nyetablerade företag",
    "intervention_area": "3.4",
    "owner": "johan.ek",
    "start": "2027-01-01",
    "end": "2027-12-31",
    "why": "Efterfrågat i Näringslivsrådet.",
}
KNOWN_GOOD: dict[str, dict[str, Any]] = {
    "agree_recommendation": {"outcome": "agree"},
    "approve_annual_report": {"outcome": "approve"},
    "area_summary": {"summary": "Fokusområdet följer planen."},
    "board_note": {
        "noted": True,
        "decided_on": "2027-01-20",
        "paragraph": "§ 12",
        "comment": "Lägges till handlingarna.",
    },
    "business_dialogue": {"forums": ["Näringslivsrådet"], "held_on": "2026-11-20", "heard": "-"},
    "check_proposal": {"outcome": "forward"},
    "compile_annual_report": {"summary": "Planen följs i stort."},
    "confirm_area": {"outcome": "confirm"},
    "decide_proposal": {"decision": "approve", "rationale": "Stärker etableringen."},
    "dialogue_feedback": {"feedback": "Fler företagsbesök."},
    "draft_recommendation": {"recommendation": "Ny tidplan."},
    "propose_activity": PROPOSAL,
    "propose_activity:new": PROPOSAL,
    "report_status": {"status": "yellow", "cause": "Försenat."},
    "review_report": {"outcome": "return", "comment": "Ange antal besök."},
    "steering_decision": {"decision": "close", "rationale": "Ersätts av ny aktivitet."},
    "steering_meeting": {"notes": "Noterat.", "priorities": "Fokus 3"},
}


@dataclass(frozen=True)
class Case:
    """Who submits a form, and how: completing an open task (`task_id`), or a service call."""

    form: str
    username: str
    task_id: str | None
    watched: str | None  # the open task the case needs (a service's too) and must leave open
    submit: Callable[[Session, User, Any], object]


@dataclass
class World:
    db: Database
    cases: dict[str, Case]

    def case(self, key: str) -> Case:
        if key not in self.cases:
            pytest.fail(f"no real task of form {key}: add a step that opens one to the world fixture")
        return self.cases[key]


def _small_plan(folder: Path, slug: str) -> dict[str, Any]:
    """A plan of one focus area with no activities: its cycle goes straight to reconciliation."""
    path = folder / f"{slug}.json"
    path.write_text(
        json.dumps(
            {
                "slug": slug,
                "title": f"Formprov {slug}",
                "organisation": "Formprov",
                "adopted_on": "2026-01-01",
                "strategy_period": {"start": 2026, "end": 2027},
                "source": "tests",
                "focus_areas": [{"number": 1, "title": "Dialog", "intervention_areas": []}],
            }
        ),
        encoding="utf-8",
    )
    return plans.read_plan_document(path)


def _start_cycle(db: Database, slug: str | None = None) -> None:
    with db.transaction() as session:
        leader = Actor(people.get_user(session, "processledare"))
        cycle = cycles.start_cycle(session, leader, PERIOD, date(2026, 12, 15), plan_slug=slug)
    cycles.open_all(db.transaction, cycle.id)


def _task_case(form: str, username: str, task_id: str) -> Case:
    def submit(session: Session, user: User, data: Any) -> object:
        return tasks.complete_task(session, user, task_id, data)

    return Case(form, username, task_id, task_id, submit)


def _build(db: Database, folder: Path) -> dict[str, Case]:
    """The seed plan with a cycle under way (reports, reviews, an area to summarise and one to
    confirm, three deviations, three proposals, three annual reports), and two small plans whose
    cycles wait for the business dialogue and for the steering group's meeting."""
    chain, cases = Chain(db), {}

    def open_case(form: str, username: str, activity: str | None = None) -> None:
        cases[form] = _task_case(form, username, chain.task(username, form, activity).id)

    with db.transaction() as session:
        plans.load_plan(session, OPERATOR_ACTOR, plans.read_plan_document())  # the default plan
        demo.create_demo_data(session)
        for slug in (MEETING_PLAN, DIALOGUE_PLAN):
            plans.load_plan(session, OPERATOR_ACTOR, _small_plan(folder, slug))
            spec = people.RoleSpec.parse(f"focus_area_lead:{slug}/1")
            people.grant_role(session, OPERATOR_ACTOR, people.get_user(session, "lead1"), spec)

    # The small plans, one after the other, so that each step's task is the only one of its name.
    for slug in (MEETING_PLAN, DIALOGUE_PLAN):
        _start_cycle(db, slug)
        chain.do("lead1", "area_summary", {"summary": "Inget att rapportera."})
        chain.do("processledare", "confirm_area", {"outcome": "confirm"})
        if slug == MEETING_PLAN:
            chain.do("processledare", "business_dialogue", KNOWN_GOOD["business_dialogue"])
            open_case("steering_meeting", "ordforande")
    open_case("business_dialogue", "processledare")
    dialogue = cases["business_dialogue"].task_id

    def feedback(session: Session, user: User, data: Any) -> object:
        return cycles.give_dialogue_feedback(session, user, PERIOD, data, plan_slug=DIALOGUE_PLAN)

    cases["dialogue_feedback"] = Case("dialogue_feedback", "naringslivsradet", None, dialogue, feedback)

    # The seed plan: area 1 under way, area 2 reported, area 3 summarised, areas 4 and 5 untouched.
    _start_cycle(db)
    with db.transaction() as session:
        codes = list(session.scalars(select(Activity.code).order_by(Activity.id)))
    area1 = [c for c in codes if c.startswith("1.")]
    open_case("report_status", chain.owner_of(area1[0]), area1[0])
    chain.do(chain.owner_of(area1[1]), "report_status", {"status": "green"}, area1[1])
    open_case("review_report", "lead1", area1[1])
    for code, step in zip(area1[2:5], range(3), strict=True):
        chain.report_and_accept(code, "red" if step else "yellow", cause="Resursbrist.")
        if step >= 1:
            chain.do("processledare", "draft_recommendation", {"recommendation": "Förstärk."}, code)
        if step >= 2:
            chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, code)
    open_case("draft_recommendation", "processledare", area1[2])
    open_case("agree_recommendation", "lead1", area1[3])
    open_case("steering_decision", "ordforande", area1[4])
    for code in codes:
        if code.startswith(("2.", "3.")):
            chain.report_and_accept(code)
    open_case("area_summary", "lead2")
    chain.do("lead3", "area_summary", {"summary": "Fokusområde 3 följer planen."})
    open_case("confirm_area", "processledare")

    # Three proposals of lead3's: returned to it, forwarded to the steering group, to be checked.
    for outcome in ("return", "forward", None):
        with db.transaction() as session:
            proposals.propose_activity(session, people.get_user(session, "lead3"), PROPOSAL)
        if outcome is not None:
            chain.do("processledare", "check_proposal", {"outcome": outcome, "comment": "Granskat."})
    open_case("propose_activity", "lead3")
    open_case("decide_proposal", "ordforande")
    open_case("check_proposal", "processledare")

    def new_proposal(session: Session, user: User, data: Any) -> object:
        return proposals.propose_activity(session, user, data)

    cases["propose_activity:new"] = Case("propose_activity", "lead3", None, None, new_proposal)

    # Three annual reports: noted by the board next, approved next, compiled next.
    for year, stage in ((2026, 2), (2025, 1), (2024, 0)):
        with db.transaction() as session:
            annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), year)
        if stage >= 1:
            chain.do("processledare", "compile_annual_report", {"summary": f"År {year}."})
        if stage >= 2:
            chain.do("ordforande", "approve_annual_report", {"outcome": "approve"})
    open_case("board_note", "kommunstyrelsen")
    open_case("approve_annual_report", "ordforande")
    open_case("compile_annual_report", "processledare")
    return cases


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("forms")
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{folder / 'forms.sqlite3'}", "SECRET_KEY": "t"}, str(folder)
    )
    db: Database = app.extensions["planflow.db"]
    migrate.upgrade(db.engine)
    with pytest.MonkeyPatch.context() as patch:  # conftest's cheap hashing is per test
        patch.setattr(
            logins, "generate_password_hash", lambda p: generate_password_hash(p, "pbkdf2:sha256:1000")
        )
        clock.set_now(START)
        try:
            cases = _build(db, folder)
        finally:
            clock.set_now(None)
    yield World(db, cases)
    db.dispose()


@dataclass(frozen=True)
class State:
    """What must not change when a form is refused: the audit chain's head, whether the task is
    open, each table's row count, and a digest of every row (a process's serialized state by its
    version, which every save bumps)."""

    head: tuple[int, str]
    task_open: bool | None
    counts: dict[str, int]
    digest: str


BULKY = {("process_instance", "state"), ("process_spec", "source")}
ROWS = {  # every table's rows as stored: decoding JSON and dates would double the time
    table.name: 'SELECT {} FROM "{}" ORDER BY {}'.format(
        ", ".join(f'"{c.name}"' for c in table.columns if (table.name, c.name) not in BULKY),
        table.name,
        ", ".join(f'"{c.name}"' for c in table.primary_key.columns),
    )
    for table in Base.metadata.sorted_tables
}


def _state(db: Database, task_id: str | None) -> State:
    digest, counts = hashlib.sha256(), {}
    with db.reading() as session:
        head = session.get(AuditHead, 1)
        assert head is not None
        chain_head = head.seq, head.hash
        for table, query in ROWS.items():
            rows = session.connection().exec_driver_sql(query).fetchall()
            counts[table] = len(rows)
            digest.update(repr((table, rows)).encode())
        task_open = None if task_id is None else session.get(OpenTask, task_id) is not None
    return State(chain_head, task_open, counts, digest.hexdigest())


def _wrong_type(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value of any JSON type but the field's."""
    kinds: dict[str, st.SearchStrategy[Any]] = {
        "string": st.text(max_size=5),
        "boolean": st.booleans(),
        "integer": st.integers(),
        "number": st.floats(allow_nan=False, allow_infinity=False),
        "array": st.lists(st.integers(), max_size=2),
        "object": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        "null": st.none(),
    }
    others = [s for kind, s in kinds.items() if kind != schema["type"]]
    if schema["type"] == "integer":  # a whole float is an integer to JSON Schema
        others.remove(kinds["number"])
    return st.one_of(others)


def _broken(schema: dict[str, Any], data: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Data the form accepted, broken in one way every form must refuse."""
    properties: dict[str, Any] = schema["properties"]
    options = [
        st.builds(
            lambda k, v: {**data, k: v}, st.text(max_size=8).filter(lambda k: k not in properties), JUNK
        ),
        st.sampled_from(sorted(properties)).flatmap(
            lambda f: _wrong_type(properties[f]).map(lambda v: {**data, f: v})
        ),
    ]
    if required := [f for f in schema.get("required", []) if f in data]:
        options.append(st.sampled_from(required).map(lambda f: {k: v for k, v in data.items() if k != f}))
    texts = [f for f, s in properties.items() if s["type"] == "string" and "maxLength" in s]
    for f in texts:
        long = "x" * (properties[f]["maxLength"] + 1)
        options += [st.just({**data, f: long}), st.just({**data, f: "a\x00b"})]
        if properties[f].get("pattern") == "\\S" and f in schema.get("required", []):
            options.append(st.just({**data, f: " \t"}))
    for f, s in properties.items():
        if s["type"] == "array":
            items = s["items"]
            options += [
                st.just({**data, f: ["x"] * (s["maxItems"] + 1)}),
                st.just({**data, f: ["x" * (items["maxLength"] + 1)]}),
                st.just({**data, f: [7]}),
            ]
    return st.one_of(options)


JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


DOMAIN_FIELDS = {"propose_activity": ("owner", "intervention_area", "start", "end")}


def _domain_values(world: World, form: str) -> st.SearchStrategy[dict[str, Any]]:
    """Values of the fields the domain checks beyond the form (a proposal's owner, area and
    dates), mostly right and sometimes wrong, so that generated answers complete too."""
    if form != "propose_activity":
        return st.just({})
    with world.db.reading() as session:
        users = sorted(session.scalars(select(User.username)))
        areas = sorted(
            f"{fa}.{ia}"
            for fa, ia in session.execute(
                select(FocusArea.number, InterventionArea.number).join(
                    InterventionArea, InterventionArea.focus_area_id == FocusArea.id
                )
            )
        )
    own = [a for a in areas if a.split(".")[0] == PROPOSAL["intervention_area"].split(".")[0]]
    day = st.dates(date(2020, 1, 1), date(2035, 12, 31)).map(date.isoformat)
    return st.builds(
        lambda owner, area, dates, in_order: {
            "owner": owner,
            "intervention_area": area,
            **dict(zip(("start", "end"), sorted(dates) if in_order else dates, strict=True)),
        },
        st.one_of(st.sampled_from(users), st.just("ingen.alls")),
        st.one_of(st.sampled_from(own), st.sampled_from([*areas, "9.1"])),
        st.tuples(day, day),
        st.booleans(),
    )


def _typed(value: Any) -> Any:
    """What a person can type: the value with any control character (which a form refuses beyond
    its schema) made an x, so the length and non-blankness the schema asks for stay."""
    if isinstance(value, str):
        return CONTROL.sub("x", value)
    if isinstance(value, list):
        return [_typed(item) for item in value]
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    return value


def _answers(world: World, form: str) -> st.SearchStrategy[tuple[str, Any]]:
    """(kind, data): what the schema allows as a person types it, with the domain's values mixed
    in ("typed", drawn twice as often); what the schema allows, any text ("schema"); that broken
    in one way ("broken"); anything wrongly shaped ("wrong")."""
    schema = _schema(form)
    domain, fields = _domain_values(world, form), DOMAIN_FIELDS.get(form, ())
    rest = {  # the schema draws the other fields (drawing usernames by their pattern is slow)
        **schema,
        "properties": {k: v for k, v in schema["properties"].items() if k not in fields},
        "required": [k for k in schema.get("required", []) if k not in fields],
    }
    typed = st.builds(lambda d, values: {**_typed(d), **values}, from_schema(rest), domain)
    wrong = st.one_of(st.dictionaries(st.sampled_from([*schema["properties"], "x"]), JUNK, max_size=4), JUNK)
    return st.one_of(
        typed.map(lambda d: ("typed", d)),
        typed.map(lambda d: ("typed", d)),
        from_schema(schema).map(lambda d: ("schema", d)),
        from_schema(schema).flatmap(lambda d: _broken(schema, d)).map(lambda d: ("broken", d)),
        wrong.map(lambda d: ("wrong", d)),
    )


def _submit_and_roll_back(db: Database, case: Case, data: Any) -> ServiceError | None:
    """Submit as the case's user; completed, check that it took effect, then roll back so the
    task is open again. Returns the refusal, if any: any other exception fails the test."""
    with db.sessions() as session, session.begin():
        user = people.get_user(session, case.username)
        head = session.get(AuditHead, 1)
        assert head is not None
        before = head.seq
        try:
            case.submit(session, user, data)
        except ServiceError as exc:
            session.rollback()
            return exc
        audit.chain_pending(session)  # events join the chain at commit; this one rolls back
        head = session.get(AuditHead, 1)
        assert head is not None and head.seq > before, "a completed form leaves no audit event"
        if case.task_id is not None:
            assert session.scalar(select(OpenTask.id).where(OpenTask.id == case.task_id)) is None
        session.rollback()  # the next example needs the task open again
    return None


def test_every_form_has_a_case_on_a_real_task(world: World) -> None:
    """A new form (or user task) fails here until the world opens a task of it."""
    assert {world.case(key).form for key in CASES} == set(FORMS)
    assert set(FORMS) - USER_TASK_FORMS == SERVICE_FORMS
    assert set(KNOWN_GOOD) == set(CASES)
    with world.db.reading() as session:
        for form in USER_TASK_FORMS:
            case = world.case(form)
            assert case.task_id is not None, f"{form} is a user task: its case must complete one"
            task = session.get(OpenTask, case.task_id)
            assert task is not None and task.name == form
        for key in CASES:
            if (watched := world.case(key).watched) is not None:
                assert session.get(OpenTask, watched) is not None


@pytest.mark.parametrize("key", CASES)
def test_on_a_real_task_valid_data_completes_and_invalid_data_changes_nothing(world: World, key: str) -> None:
    case, db = world.case(key), world.db
    form = instances.library().forms.get(case.form)
    clock.set_now(START + timedelta(days=3))
    before = _state(db, case.watched)
    assert before.task_open is not False
    seen: dict[str, int] = {"completed": 0, "refused by the form": 0}
    domain_refusals: set[str] = set()

    @REAL
    @given(answer=_answers(world, case.form))
    @example(answer=("known good", KNOWN_GOOD[key]))
    @example(answer=("wrong", "not an object"))
    def check(answer: tuple[str, Any]) -> None:
        kind, data = answer
        seen[kind] = seen.get(kind, 0) + 1
        try:
            form.validate(data)
        except FormError as exc:
            assert kind != "typed", f"the form refuses what its schema allows: {data!r} ({exc})"
            with pytest.raises(InvalidInput) as refused:  # as the API runs it: one transaction
                with db.transaction() as session:
                    case.submit(session, people.get_user(session, case.username), data)
            assert refused.value.code == "error.form.invalid"
            assert set(refused.value.fields) == set(exc.errors)
            seen["refused by the form"] += 1
        else:
            assert kind != "broken", f"the form accepts broken data: {data!r}"
            refusal = _submit_and_roll_back(db, case, data)
            if refusal is None:
                seen["completed"] += 1
            else:
                allowed = DOMAIN_REFUSALS.get(key, set())
                assert refusal.code in allowed, f"{key} refused {data!r}: {refusal.code} ({refusal})"
                domain_refusals.add(refusal.code)
        assert _state(db, case.watched) == before

    check()
    assert seen["completed"] and seen["refused by the form"], (seen, sorted(domain_refusals))
