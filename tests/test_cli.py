"""The `planflow` command: init, plan export, users, audit."""

from __future__ import annotations

import base64
import calendar
import hashlib
import json
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import inspect

from planflow.audit_keys import PublicKey
from planflow.models import Base

from .conftest import Cli


def _snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every planflow table, to show that a command changed nothing."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            return {
                table.name: sorted(map(tuple, connection.execute(table.select())), key=repr)
                for table in Base.metadata.sorted_tables
                if table.name in present
            }
    finally:
        engine.dispose()


def test_init_twice_changes_nothing(cli: Cli, database_url: str) -> None:
    first = cli("init", "--demo")
    assert first.exit_code == 0, first.output
    assert "plan inläst" in first.output and "demokonton skapade" in first.output
    before = _snapshot(database_url)
    second = cli("init", "--demo")
    assert second.exit_code == 0
    assert second.output.startswith("Inget att göra")
    assert _snapshot(database_url) == before


def test_init_against_unreachable_database_fails_in_one_line(tmp_path: Path) -> None:
    cli = Cli("postgresql+psycopg://planflow@127.0.0.1:9/none?connect_timeout=2", tmp_path)
    result = cli("init")
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Fel: kan inte använda databasen på")


def test_init_with_malformed_plan_file_fails_and_changes_nothing(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text('{"title": "x", "focus_areas": [{"number": 1}]}', encoding="utf-8")
    before = _snapshot(database_url)
    result = cli("init", "--plan", str(bad))
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1
    assert "Planfilen plan.json" in result.output
    assert _snapshot(database_url) == before


def test_plan_export_prints_the_tree(cli: Cli) -> None:
    cli("init", "--demo")
    result = cli("plan", "export", "--format", "json")
    tree = json.loads(result.output)
    assert len(tree["focus_areas"]) == 5
    activities = [
        a for fa in tree["focus_areas"] for ia in fa["intervention_areas"] for a in ia["activities"]
    ]
    assert len(activities) == 60
    first = activities[0]
    assert {"code", "title", "owner", "status"} <= first.keys()
    assert first == first | {
        "code": "1.1.1",
        "title": "Företagsbesök politiker",
        "status": None,
        "demo": True,
    }
    assert all(a["owner"] for a in activities)


def test_users_list_shows_roles_and_scopes(cli: Cli) -> None:
    cli("init", "--demo")
    users = {u["username"]: u for u in json.loads(cli("users", "list", "--json").output)}
    lead3 = {"role": "focus_area_lead", "plan": "sodertalje-2016", "focus_area": 3, "activity": None}
    assert lead3 in users["lead3"]["roles"]
    chair_roles = {r["role"] for r in users["ordforande"]["roles"]}
    assert chair_roles == {"steering_group", "steering_chair"}
    owner = {"role": "activity_owner", "plan": "sodertalje-2016", "focus_area": None, "activity": "1.1.1"}
    assert owner in users["anna.nilsson"]["roles"]
    roles = {r["role"] for u in users.values() for r in u["roles"]}
    assert {
        "activity_owner",
        "focus_area_lead",
        "process_leader",
        "steering_group",
        "steering_chair",
        "board",
        "dialogue",
        "admin",
    } <= roles
    assert all(u["demo"] for u in users.values())


def test_users_add_with_scoped_role_and_bad_role(cli: Cli) -> None:
    cli("init")
    ok = cli(
        "users", "add", "eva", "--name", "Eva Ek", "--email", "eva@example.org", "--role", "focus_area_lead:2"
    )
    assert ok.exit_code == 0, ok.output
    bad = cli("users", "add", "olle", "--name", "Olle", "--email", "olle@example.org", "--role", "king")
    assert bad.exit_code != 0 and "Okänd roll ”king”" in bad.output
    again = cli("users", "add", "eva", "--name", "Eva", "--email", "eva@example.org")
    assert again.exit_code != 0 and "upptaget" in again.output
    users = {u["username"]: u for u in json.loads(cli("users", "list", "--json").output)}
    assert "olle" not in users
    assert users["eva"]["roles"] == [
        {"role": "focus_area_lead", "plan": "sodertalje-2016", "focus_area": 2, "activity": None}
    ]


def test_users_token_is_stored_hashed_and_revocable(cli: Cli, database_url: str) -> None:
    cli("init", "--demo")
    token = cli("users", "token", "processledare").output.strip()
    assert token.startswith("pf_") and len(token) > 30
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(sa.text("SELECT token_hash FROM api_token")).scalars().all()
    finally:
        engine.dispose()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert "Återkallade API-nycklar: 1." in cli("users", "revoke-tokens", "processledare").output
    unknown = cli("users", "token", "nobody")
    assert unknown.exit_code != 0 and "ingen användare ”nobody”" in unknown.output


def test_cycle_start_tick_and_audit_verify(cli: Cli) -> None:
    cli("init", "--demo")
    period, deadline = _current_quarter()
    started = cli("cycle", "start", "--period", period, "--deadline", deadline, "--as", "processledare")
    assert started.exit_code == 0, started.output
    # the demo's timelines lie around today: every activity reports in the current quarter
    assert f"att lämna senast {deadline}: 60." in started.output
    again = cli("cycle", "start", "--period", period, "--deadline", deadline, "--as", "processledare")
    assert again.exit_code != 0 and f"Omgången {period} finns redan i planen Handlingsplan" in again.output
    bad = cli("cycle", "start", "--period", "sometime", "--deadline", "2099-12-15", "--as", "processledare")
    assert bad.exit_code != 0 and "Perioden ”sometime”" in bad.output
    ticked = cli("tick", "--at", "2027-01-01T09:00")
    assert ticked.exit_code == 0 and "utlösta tidshändelser: 0" in ticked.output, ticked.output
    assert cli("tick", "--at", "tomorrow").exit_code != 0
    verified = cli("audit", "verify")
    assert verified.exit_code == 0 and "Granskningskedjan är hel:" in verified.output


def _current_quarter() -> tuple[str, str]:
    today = date.today()
    quarter = (today.month - 1) // 3 + 1
    last_month = quarter * 3
    last_day = calendar.monthrange(today.year, last_month)[1]
    return f"{today.year}-Q{quarter}", date(today.year, last_month, last_day).isoformat()


def test_cycle_start_as_an_activity_owner_is_refused_naming_why(cli: Cli, database_url: str) -> None:
    cli("init", "--demo")
    before = _snapshot(database_url)
    period, deadline = _current_quarter()
    refused = cli("cycle", "start", "--period", period, "--deadline", deadline, "--as", "anna.nilsson")
    assert refused.exit_code != 0
    assert refused.output.strip().splitlines() == ["Fel: anna.nilsson får inte starta en rapporteringscykel."]
    anonymous = cli("cycle", "start", "--period", period, "--deadline", deadline)
    assert anonymous.exit_code != 0 and "--as" in anonymous.output
    assert _snapshot(database_url) == before


def test_activity_owner_command_moves_the_activity_and_its_open_report(cli: Cli, database_url: str) -> None:
    cli("init", "--demo")
    period, deadline = _current_quarter()
    cli("cycle", "start", "--period", period, "--deadline", deadline, "--as", "processledare")
    moved = cli("activity", "owner", "1.1.1", "erik.berg")
    assert moved.exit_code == 0, moved.output
    users = {u["username"]: u for u in json.loads(cli("users", "list", "--json").output)}
    owned = {r["activity"] for r in users["erik.berg"]["roles"] if r["role"] == "activity_owner"}
    assert "1.1.1" in owned
    assert "1.1.1" not in {r["activity"] for r in users["anna.nilsson"]["roles"]}
    unknown = cli("activity", "owner", "9.9.9", "erik.berg")
    assert unknown.exit_code != 0 and "ingen aktivitet 9.9.9" in unknown.output
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                sa.text("SELECT actor, data FROM audit_event WHERE action = 'activity.updated'")
            ).one()
            owner_tasks = connection.execute(
                sa.text(
                    "SELECT count(*) FROM open_task JOIN activity ON activity.id = open_task.activity_id "
                    'JOIN "user" ON "user".id = activity.owner_id '
                    "WHERE activity.code = '1.1.1' AND \"user\".username = 'erik.berg'"
                )
            ).scalar()
    finally:
        engine.dispose()
    data = row.data if isinstance(row.data, dict) else json.loads(row.data)
    assert row.actor == "operator" and data["changes"] == {"owner": ["anna.nilsson", "erik.berg"]}
    assert owner_tasks == 1


def test_administrative_acts_are_audited_without_secrets(cli: Cli, database_url: str) -> None:
    cli("init")
    cli(
        "users",
        "add",
        "eva",
        "--name",
        "Eva Ek",
        "--email",
        "eva@example.org",
        "--password",
        "hemligt-lösen",
        "--role",
        "activity_owner:1.1.1",
    )
    cli("users", "grant", "eva", "focus_area_lead:2")
    cli("users", "revoke", "eva", "focus_area_lead:2")
    token = cli("users", "token", "eva").output.strip()
    cli("users", "revoke-tokens", "eva")
    cli("users", "password", "eva", input="nytt-lösenord\nnytt-lösenord\n")
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            events = connection.execute(
                sa.text("SELECT action, actor, data FROM audit_event ORDER BY seq")
            ).all()
    finally:
        engine.dispose()
    actions = [e.action for e in events]
    assert actions[:1] == ["plan.loaded"] and {e.actor for e in events} == {"operator"}
    for action in (
        "user.added",
        "activity.updated",
        "role.granted",
        "role.revoked",
        "token.issued",
        "token.revoked",
        "user.password_set",
    ):
        assert action in actions, action
    dumped = " ".join(str(e.data) for e in events)
    assert "hemligt" not in dumped and "nytt-lösenord" not in dumped and token not in dumped


def test_init_loads_a_second_plan_next_to_the_first(cli: Cli, tmp_path: Path) -> None:
    cli("init", "--demo")
    second = tmp_path / "second.json"
    second.write_text(json.dumps(SECOND_PLAN), encoding="utf-8")
    loaded = cli("init", "--plan", str(second))
    assert loaded.exit_code == 0 and "plan inläst: Grön omställning" in loaded.output
    assert cli("init", "--plan", str(second)).output.startswith("Inget att göra")
    first = json.loads(cli("plan", "export").output)
    other = json.loads(cli("plan", "export", "--plan", "gron-omstallning").output)
    assert first["slug"] == "sodertalje-2016" and len(first["focus_areas"]) == 5
    assert (
        other["title"] == "Grön omställning"
        and other["focus_areas"][0]["intervention_areas"][0]["activities"][0]["code"] == "1.1.1"
    )
    period, deadline = _current_quarter()
    started = cli(
        "cycle",
        "start",
        "--period",
        period,
        "--deadline",
        deadline,
        "--plan",
        "gron-omstallning",
        "--as",
        "processledare",
    )
    assert started.exit_code == 0 and f"senast {deadline}: 1." in started.output, started.output
    # the other plan's cycle for the same period is its own
    started = cli("cycle", "start", "--period", period, "--deadline", deadline, "--as", "processledare")
    assert started.exit_code == 0 and f"senast {deadline}: 60." in started.output, started.output


SECOND_PLAN = {
    "slug": "gron-omstallning",
    "title": "Grön omställning",
    "organisation": "Södertälje kommun",
    "adopted_on": "2026-01-15",
    "strategy_period": {"start": 2026, "end": 2030},
    "source": "Test",
    "focus_areas": [
        {
            "number": 1,
            "title": "Energi",
            "intervention_areas": [
                {
                    "number": 1,
                    "title": "ställer om",
                    "approach": "Genom att mäta.",
                    "activities": [{"number": 1, "title": "Solceller på skolor"}],
                }
            ],
        }
    ],
}


def test_audit_checkpoint_is_signed_published_and_anchors_verify(cli: Cli, tmp_path: Path) -> None:
    cli("init")  # event 1: the plan loaded by the operator
    unanchored = cli("--language", "en", "audit", "verify")
    assert unanchored.exit_code == 0 and "not anchored by any signed checkpoint" in unanchored.output
    made = cli("--language", "en", "audit", "checkpoint")
    assert made.exit_code == 0, made.output
    assert made.output.startswith("Checkpoint at event 1, made ")
    # the head did not move: the same one
    assert cli("--language", "en", "audit", "checkpoint").output == made.output
    (listed,) = json.loads(cli("audit", "checkpoints", "--json").output)
    assert listed["seq"] == 1 and listed["signature"] in made.output
    assert cli("audit", "checkpoints").output.startswith("händelse 1 ")
    assert cli("--language", "en", "audit", "checkpoints").output.startswith("event 1 ")
    verified = cli("--language", "en", "audit", "verify")
    assert verified.exit_code == 0
    assert verified.output.strip().splitlines() == [
        f"Audit chain intact: 1 event(s); anchored by 1 signed checkpoint(s) up to event 1 at "
        f"{listed['made_at']}.",
        "Records agree with their audit events: status reports, deviations, decisions, proposals, "
        "annual reports, area reviews, steering meetings and business dialogues.",
    ]
    cli("users", "add", "eva", "--name", "Eva", "--email", "eva@example.org")
    assert "1 later event(s) not yet anchored" in cli("--language", "en", "audit", "verify").output
    assert "1 senare händelse(r) ännu inte förankrade" in cli("audit", "verify").output

    public = cli("audit", "public-key").output
    assert public.startswith("-----BEGIN PUBLIC KEY-----")
    published = tmp_path / "published.pem"
    published.write_text(public)
    assert cli("audit", "verify", "--public-key", str(published)).exit_code == 0
    other = tmp_path / "other.pem"
    other.write_text(PublicKey(Ed25519PrivateKey.generate().public_key()).pem())
    refused = cli("--language", "en", "audit", "verify", "--public-key", str(other))
    assert refused.exit_code != 0
    assert refused.output.startswith("Error: audit chain broken at event 1: the checkpoint at event 1")


def test_private_signing_key_stays_in_the_instance_folder(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    cli("init")
    assert cli("audit", "checkpoint").exit_code == 0
    key_file = tmp_path / "instance" / "audit_signing_key.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    secrets = {raw.hex(), base64.b64encode(raw).decode(), key_file.read_text().splitlines()[1]}
    cells = [repr(cell) for rows in _snapshot(database_url).values() for row in rows for cell in row]
    assert cells and not [cell for cell in cells if any(secret in cell for secret in secrets)]


def test_audit_verify_names_a_truncated_tail_in_one_line(cli: Cli, database_url: str) -> None:
    cli("init")
    cli("users", "add", "eva", "--name", "Eva", "--email", "eva@example.org")
    cli("audit", "checkpoint")
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM audit_event WHERE seq = 2"))
            connection.execute(sa.text("DELETE FROM audit_head"))
    finally:
        engine.dispose()
    result = cli("--language", "en", "audit", "verify")
    assert result.exit_code != 0
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: audit chain broken at event 2: event 2 is gone, yet the checkpoint of")
