"""Configuration: defaults, then PLANFLOW_* environment variables, then explicit overrides (tests)."""

from __future__ import annotations

import json
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from datetime import date
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
    # The accessibility statement (/tillganglighet, lag 2018:1937): who answers for the service and
    # how well it complies. A value left at its default is the demo's example, and the page says so.
    "ACCESSIBILITY_ORGANISATION": "Södertälje kommun",
    "ACCESSIBILITY_SERVICE": "planflow",
    "ACCESSIBILITY_EMAIL": "tillganglighet@sodertalje.example",
    "ACCESSIBILITY_PHONE": "",  # shown when set
    "ACCESSIBILITY_RESPONSE_DAYS": 10,  # working days within which feedback is answered
    "ACCESSIBILITY_COMPLIANCE": "partly",  # fully, partly or not compliant with the law
    "ACCESSIBILITY_ASSESSED_ON": "2026-12-05",  # the last assessment, YYYY-MM-DD
    "ACCESSIBILITY_UPDATED_ON": "2026-12-05",  # the statement's last update, YYYY-MM-DD
    # OpenID Connect providers people may sign in through (README, "Sign-in through Entra ID"):
    # a JSON object, or the path of a TOML file, with one table per provider (see oidc_providers).
    # None: local passwords only, as `make run` needs.
    "OIDC_PROVIDERS": None,
    # The username and password form on the login page; false where everyone signs in through a
    # provider (the command line still sets passwords, for an administrator locked out of one).
    "LOCAL_LOGIN": True,
    # SAML 2 identity providers, as a JSON list of objects (see saml_providers() for the keys);
    # none by default: `make run` signs in with local passwords only.
    "SAML_PROVIDERS": None,
    # A signed-in session left unused this many minutes ends (services.authority.sessions).
    "SESSION_IDLE_MINUTES": 480,
}
# The organisation's own parts of the accessibility statement: at their defaults, an example.
ACCESSIBILITY_EXAMPLE_KEYS = (
    "ACCESSIBILITY_ORGANISATION",
    "ACCESSIBILITY_EMAIL",
    "ACCESSIBILITY_ASSESSED_ON",
)
COMPLIANCE_LEVELS = ("fully", "partly", "not")

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
    _check_accessibility(config)
    config["OIDC_PROVIDERS"] = oidc_providers(config["OIDC_PROVIDERS"])
    config["SAML_PROVIDERS"] = saml_providers(config["SAML_PROVIDERS"])
    if not config["SECRET_KEY"]:
        _make_folder(instance_path)
        try:
            config["SECRET_KEY"] = _kept_secret_key(instance_path)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            where = _excerpt(str(instance_path))
            raise ValueError(f"instance folder {where}: cannot keep the secret key: {reason}") from None
    return config


NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# A SAML provider's keys: those without a default must be given.
SAML_KEYS: dict[str, Any] = {
    "name": None,  # in its addresses: /login/saml/<name>, /saml/<name>/acs, …
    "label": None,  # on its button: "Logga in med Sambi"
    "idp_metadata": None,  # the IdP's metadata: a file path or an https:// URL
    "sp_entity_id": "",  # planflow's entity id; "" means the metadata's URL
    "sp_key": "",  # planflow's signing key and certificate (PEM paths); "" means the instance
    "sp_cert": "",  # folder's saml/<name>-key.pem and -cert.pem, made once
    "groups_attribute": "groups",
    "name_attribute": "displayName",
    "email_attribute": "mail",
    "link_by_email": False,
    "create_unknown": False,
    "group_roles": {},  # group -> list of role specs ("planner", "focus_area_lead:1")
}


def saml_providers(raw: str | list[dict[str, Any]] | None) -> tuple[dict[str, Any], ...]:
    """The SAML providers from PLANFLOW_SAML_PROVIDERS (JSON) or an override (a list): each with
    every key of SAML_KEYS, checked; a wrong one stops the start with what is wrong."""
    setting = f"{PREFIX}SAML_PROVIDERS"
    if not raw:
        return ()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"{setting} is not JSON: {exc}") from None
    if not isinstance(raw, list | tuple):
        raise ValueError(f"{setting} must be a JSON list of providers")
    providers: list[dict[str, Any]] = []
    for number, given in enumerate(raw, 1):
        if not isinstance(given, dict):
            raise ValueError(f"{setting}: provider {number} must be an object")
        unknown = sorted(set(given) - set(SAML_KEYS))
        if unknown:
            raise ValueError(f"{setting}: provider {number} has unknown keys {', '.join(unknown)}")
        provider = {**SAML_KEYS, **given}
        for key, default in SAML_KEYS.items():
            value = provider[key]
            if default is None and not (isinstance(value, str) and value.strip()):
                raise ValueError(f"{setting}: provider {number} needs {key!r}")
            if isinstance(default, bool) and not isinstance(value, bool):
                raise ValueError(f"{setting}: provider {number}: {key!r} must be true or false")
            if isinstance(default, str) and not isinstance(value, str):
                raise ValueError(f"{setting}: provider {number}: {key!r} must be text")
        if not NAME.match(provider["name"]):
            raise ValueError(
                f"{setting}: provider {number}: name {_excerpt(provider['name'])} must be lowercase"
                " letters, digits and hyphens"
            )
        if any(p["name"] == provider["name"] for p in providers):
            raise ValueError(f"{setting}: two providers are named {provider['name']!r}")
        roles = provider["group_roles"]
        if not isinstance(roles, dict) or not all(
            isinstance(specs, list) and all(isinstance(spec, str) for spec in specs)
            for specs in roles.values()
        ):
            raise ValueError(
                f"{setting}: provider {number}: group_roles maps a group to a list of role specs"
            )
        provider["group_roles"] = {group: tuple(specs) for group, specs in roles.items()}
        providers.append(provider)
    return tuple(providers)


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


def _check_accessibility(config: Mapping[str, Any]) -> None:
    """Refuse an accessibility statement that could not be true: an unknown level of compliance,
    a date that is no date, no way to give feedback."""
    level = config["ACCESSIBILITY_COMPLIANCE"]
    if level not in COMPLIANCE_LEVELS:
        levels = ", ".join(COMPLIANCE_LEVELS)
        raise ValueError(
            f"{PREFIX}ACCESSIBILITY_COMPLIANCE must be one of {levels}, not {_excerpt(str(level))}"
        )
    for key in ("ACCESSIBILITY_ASSESSED_ON", "ACCESSIBILITY_UPDATED_ON"):
        try:
            date.fromisoformat(str(config[key]))
        except ValueError:
            raise ValueError(
                f"{PREFIX}{key} must be a date, YYYY-MM-DD, not {_excerpt(str(config[key]))}"
            ) from None
    if not str(config["ACCESSIBILITY_EMAIL"]).strip() and not str(config["ACCESSIBILITY_PHONE"]).strip():
        raise ValueError(
            f"{PREFIX}ACCESSIBILITY_EMAIL or {PREFIX}ACCESSIBILITY_PHONE must say where feedback goes"
        )
    if config["ACCESSIBILITY_RESPONSE_DAYS"] < 1:
        raise ValueError(f"{PREFIX}ACCESSIBILITY_RESPONSE_DAYS must be at least 1")


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


PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# A provider's settings: name -> (type, default); a name with no default must be given.
OIDC_SETTINGS: dict[str, tuple[type, Any]] = {
    "issuer": (str, None),
    "client_id": (str, None),
    "client_secret": (str, None),
    "scopes": (str, "openid profile email"),
    "label": (str, None),  # the button's text; the provider's name when unset
    "groups_claim": (str, "groups"),
    "link_by_email": (bool, False),
    "create_unknown": (bool, False),
    "group_roles": (dict, {}),
}


def oidc_providers(raw: object) -> dict[str, dict[str, Any]]:
    """The OpenID Connect providers, by name, each with every setting of OIDC_SETTINGS: from a dict
    (tests), a JSON object, or the path of a TOML file. Refuses an unknown or missing setting, an
    issuer that is not HTTPS (plain HTTP only on this machine), and scopes without `openid`."""
    where = f"{PREFIX}OIDC_PROVIDERS"
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        text = raw.strip()
        try:
            if text.startswith("{"):
                raw = json.loads(text)
            else:
                where = f"{where} file {_excerpt(text)}"
                raw = tomllib.loads(Path(text).expanduser().read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"{where}: cannot be read: {exc.strerror or type(exc).__name__}") from None
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{where}: not valid JSON or TOML: {exc}") from None
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected a table of providers by name")
    providers = {}
    for name, settings in raw.items():
        if not isinstance(name, str) or not PROVIDER_NAME.match(name):
            raise ValueError(f"{where}: provider name {_excerpt(str(name))} must be a-z, 0-9 and -")
        if not isinstance(settings, Mapping):
            raise ValueError(f"{where}: provider {name}: expected a table of settings")
        unknown = sorted(set(settings) - set(OIDC_SETTINGS))
        if unknown:
            raise ValueError(f"{where}: provider {name}: unknown setting {_excerpt(unknown[0])}")
        provider: dict[str, Any] = {}
        for key, (kind, default) in OIDC_SETTINGS.items():
            value = settings.get(key, default if key != "label" else name)
            if value is None:
                raise ValueError(f"{where}: provider {name}: {key} is missing")
            if not isinstance(value, kind):
                raise ValueError(f"{where}: provider {name}: {key} must be a {kind.__name__}")
            provider[key] = value
        provider["issuer"] = provider["issuer"].rstrip("/")
        host = provider["issuer"].split("://", 1)[-1].split("/")[0].split(":")[0]
        if not provider["issuer"].startswith("https://") and not (
            provider["issuer"].startswith("http://") and host in ("127.0.0.1", "localhost", "[::1]")
        ):
            raise ValueError(f"{where}: provider {name}: issuer must be an https:// address")
        if "openid" not in provider["scopes"].split():
            raise ValueError(f"{where}: provider {name}: scopes must include openid")
        for group, roles in provider["group_roles"].items():
            if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
                raise ValueError(
                    f"{where}: provider {name}: group_roles {_excerpt(group)}: a list of role specs"
                )
        providers[name] = provider
    return providers
