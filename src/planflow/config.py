"""Configuration: defaults, then PLANFLOW_* environment variables, then explicit overrides (tests)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import resources

DEFAULTS: dict[str, Any] = {
    # None means: an SQLite file in the instance folder (see database_url()).
    "DATABASE_URL": None,
    "SECRET_KEY": None,
    # Days a red deviation may wait for a steering-group decision before it is escalated.
    "ESCALATION_DAYS": 14,
    # Mail and schedule settings; the mail and scheduler issues read these.
    "MAIL_SERVER": "localhost",
    "MAIL_PORT": 25,
    "MAIL_SENDER": "planflow@localhost",
    "SCHEDULER_ENABLED": True,
    "TIMEZONE": "Europe/Stockholm",
    "DEFAULT_LANGUAGE": "sv",
}

PREFIX = "PLANFLOW_"


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
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'planflow.sqlite3'}"
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _kept_secret_key(instance_path)
    return config


def _coerce(raw: str, default: Any, key: str) -> Any:
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{PREFIX}{key} must be true or false, not {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{PREFIX}{key} must be a whole number, not {raw!r}") from None
    return raw


def _kept_secret_key(instance_path: Path) -> str:
    """Generate the secret key once and keep it in the instance folder, readable only by us."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
