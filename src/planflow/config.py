"""Configuration: defaults, then PLANFLOW_* environment variables, then explicit overrides (tests)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from . import resources

DEFAULTS: dict[str, Any] = {
    # None means: an SQLite file in the instance folder (see database_url()).
    "DATABASE_URL": None,
    "SECRET_KEY": None,
    # Path to the Ed25519 PEM key that signs audit checkpoints; None means: the instance folder's
    # audit_signing_key.pem, made on first use (see planflow.audit_keys). Never in the database.
    "AUDIT_SIGNING_KEY": None,
    # Days a red deviation may wait for a steering-group decision before it is escalated.
    "ESCALATION_DAYS": 14,
    # Mail over SMTP, sent by the scheduler. No SMTP_HOST: mail stays in the outbox
    # (`planflow scheduler outbox`). STARTTLS upgrades the connection before USER logs in.
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": False,
    "MAIL_FROM": "planflow@localhost",
    # Where people open planflow: links in mail and the calendar feed's address.
    "BASE_URL": "http://127.0.0.1:5000",
    # The schedule (scheduler/schedule.toml when unset).
    "SCHEDULE": None,
    "SCHEDULER_ENABLED": True,
    "TIMEZONE": "Europe/Stockholm",
    "DEFAULT_LANGUAGE": "sv",
    # The session cookie is sent over HTTPS only; `planflow serve` on a loopback address (local
    # development) turns this off, as may PLANFLOW_SECURE_COOKIES=false behind plain HTTP.
    "SECURE_COOKIES": True,
    # A signed-in session left unused this many minutes ends (services.authority.sessions).
    "SESSION_IDLE_MINUTES": 480,
}

PREFIX = "PLANFLOW_"
# The databases planflow's migrations and tests run on: backend -> the driver it ships.
DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg"}


def default_instance_path() -> Path:
    """The instance folder (database, secret key): $PLANFLOW_INSTANCE_PATH; else `instance/` at the
    top of the checkout planflow runs from (an editable install, as `make run` makes); else the
    user's data folder, $XDG_DATA_HOME/planflow or ~/.local/share/planflow. Never the current
    directory, so every command finds the same database wherever it is started."""
    raw = os.environ.get(PREFIX + "INSTANCE_PATH")
    if raw:
        return Path(raw).expanduser().absolute()
    root = resources.checkout()
    if root is not None:
        return root / "instance"
    data_home = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data_home) if Path(data_home).is_absolute() else Path.home() / ".local" / "share"
    return base / "planflow"


def load(instance_path: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration: defaults < PLANFLOW_* environment < overrides."""
    config = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        raw = os.environ.get(PREFIX + key)
        if raw is not None:
            config[key] = _coerce(raw, default, key)
    config.update(overrides or {})
    if not config["DATABASE_URL"]:
        _make_folder(instance_path)
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'planflow.sqlite3'}"
    _check_database_url(config["DATABASE_URL"])
    if not config["SECRET_KEY"]:
        _make_folder(instance_path)
        try:
            config["SECRET_KEY"] = _kept_secret_key(instance_path)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            where = _excerpt(str(instance_path))
            raise ValueError(f"instance folder {where}: cannot keep the secret key: {reason}") from None
    return config


def _excerpt(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _make_folder(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ValueError(f"instance folder {_excerpt(str(path))} cannot be made: {reason}") from None


def _check_database_url(raw: str) -> None:
    """Refuse a database URL planflow cannot use, before anything tries to connect with it."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise ValueError(
            f"{PREFIX}DATABASE_URL {_excerpt(raw)} is not a database URL"
            " such as sqlite:///path/planflow.sqlite3 or postgresql+psycopg://user@host/db"
        ) from None
    shown = _excerpt(url.render_as_string(hide_password=True))
    backend = url.get_backend_name()
    if backend not in DRIVERS:
        raise ValueError(f"{PREFIX}DATABASE_URL {shown}: planflow runs on SQLite or PostgreSQL only")
    if url.get_driver_name() != DRIVERS[backend]:
        raise ValueError(
            f"{PREFIX}DATABASE_URL {shown}: write {backend}+{DRIVERS[backend]}://…, the driver planflow ships"
        )


def _coerce(raw: str, default: Any, key: str) -> Any:
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{PREFIX}{key} must be true or false, not {_excerpt(raw)}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{PREFIX}{key} must be a whole number, not {_excerpt(raw)}") from None
    return raw


def _kept_secret_key(instance_path: Path) -> str:
    """Generate the secret key once and keep it in the instance folder, readable only by us."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
