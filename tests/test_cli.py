"""The `planflow` command: init, plan export, users, audit."""

from __future__ import annotations

import base64
import hashlib
import json
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
    assert "plan loaded" in first.output and "demo accounts created" in first.output
    before = _snapshot(database_url)
    second = cli("init", "--demo")
    assert second.exit_code == 0
    assert second.output.startswith("Nothing to do")
    assert _snapshot(database_url) == before


def test_init_against_unreachable_database_fails_in_one_line(tmp_path: Path) -> None:
    cli = Cli("postgresql+psycopg://planflow@127.0.0.1:9/none?connect_timeout=2", tmp_path)
    result = cli("init")
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: cannot use the database at")


def test_init_with_malformed_plan_file_fails_and_changes_nothing(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text('{"title": "x", "focus_areas": [{"number": 1}]}', encoding="utf-8")
    before = _snapshot(database_url)
    result = cli("init", "--plan", str(bad))
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1
    assert "plan file plan.json" in result.output
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
    assert {"role": "focus_area_lead", "focus_area": 3, "activity": None} in users["lead3"]["roles"]
    chair_roles = {r["role"] for r in users["ordforande"]["roles"]}
    assert chair_roles == {"steering_group", "steering_chair"}
    assert {"role": "activity_owner", "focus_area": None, "activity": "1.1.1"} in users["anna.nilsson"][
        "roles"
    ]
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
    assert bad.exit_code != 0 and "unknown role 'king'" in bad.output
    again = cli("users", "add", "eva", "--name", "Eva", "--email", "eva@example.org")
    assert again.exit_code != 0 and "taken" in again.output
    users = {u["username"]: u for u in json.loads(cli("users", "list", "--json").output)}
    assert "olle" not in users
    assert users["eva"]["roles"] == [{"role": "focus_area_lead", "focus_area": 2, "activity": None}]


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
    assert "1 token(s) revoked" in cli("users", "revoke-tokens", "processledare").output
    unknown = cli("users", "token", "nobody")
    assert unknown.exit_code != 0 and "no user 'nobody'" in unknown.output


def test_cycle_start_tick_and_audit_verify(cli: Cli) -> None:
    cli("init", "--demo")
    started = cli(
        "cycle", "start", "--period", "2099-Q4", "--deadline", "2099-12-15", "--as", "processledare"
    )
    assert started.exit_code == 0, started.output
    assert "60 status report(s) due 2099-12-15" in started.output
    again = cli("cycle", "start", "--period", "2099-Q4", "--deadline", "2099-12-15")
    assert again.exit_code != 0 and "already exists" in again.output
    bad = cli("cycle", "start", "--period", "sometime", "--deadline", "2099-12-15")
    assert bad.exit_code != 0 and "period 'sometime'" in bad.output
    assert "0 timer(s) fired" in cli("tick", "--at", "2100-01-01T09:00").output
    assert cli("tick", "--at", "tomorrow").exit_code != 0
    verified = cli("audit", "verify")
    assert verified.exit_code == 0 and "intact: 1 event(s)" in verified.output


def test_audit_checkpoint_is_signed_published_and_anchors_verify(cli: Cli, tmp_path: Path) -> None:
    cli("init", "--demo")
    empty = cli("audit", "checkpoint")
    assert empty.exit_code != 0 and "no events yet" in empty.output
    cli("cycle", "start", "--period", "2099-Q4", "--deadline", "2099-12-15")
    unanchored = cli("audit", "verify")
    assert unanchored.exit_code == 0 and "not anchored by any signed checkpoint" in unanchored.output
    made = cli("audit", "checkpoint")
    assert made.exit_code == 0, made.output
    assert made.output.startswith("Checkpoint at event 1, made ")
    assert cli("audit", "checkpoint").output == made.output  # the head did not move: the same one
    (listed,) = json.loads(cli("audit", "checkpoints", "--json").output)
    assert listed["seq"] == 1 and listed["signature"] in made.output
    assert cli("audit", "checkpoints").output.startswith("event 1 ")
    verified = cli("audit", "verify")
    assert verified.exit_code == 0
    assert verified.output.strip() == (
        f"Audit chain intact: 1 event(s); anchored by 1 signed checkpoint(s) up to event 1 at "
        f"{listed['made_at']}."
    )
    cli("cycle", "start", "--period", "2100-Q1", "--deadline", "2100-03-15")
    assert "1 later event(s) not yet anchored" in cli("audit", "verify").output

    public = cli("audit", "public-key").output
    assert public.startswith("-----BEGIN PUBLIC KEY-----")
    published = tmp_path / "published.pem"
    published.write_text(public)
    assert cli("audit", "verify", "--public-key", str(published)).exit_code == 0
    other = tmp_path / "other.pem"
    other.write_text(PublicKey(Ed25519PrivateKey.generate().public_key()).pem())
    refused = cli("audit", "verify", "--public-key", str(other))
    assert refused.exit_code != 0
    assert refused.output.startswith("Error: audit chain broken at event 1: the checkpoint at event 1")


def test_private_signing_key_stays_in_the_instance_folder(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    cli("init", "--demo")
    cli("cycle", "start", "--period", "2099-Q4", "--deadline", "2099-12-15")
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
    cli("init", "--demo")
    cli("cycle", "start", "--period", "2099-Q4", "--deadline", "2099-12-15")
    cli("cycle", "start", "--period", "2100-Q1", "--deadline", "2100-03-15")
    cli("audit", "checkpoint")
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM audit_event WHERE seq = 2"))
            connection.execute(sa.text("DELETE FROM audit_head"))
    finally:
        engine.dispose()
    result = cli("audit", "verify")
    assert result.exit_code != 0
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: audit chain broken at event 2: event 2 is gone, yet the checkpoint of")
