"""What every `planflow` command shares: the run's language and its words, the app and its
database, one transaction, and every error as one line in that language.

The run's language is `planflow --language`, else the configured DEFAULT_LANGUAGE; every line a
command prints is worded from the catalogs (`cli.*` keys) in it, its errors included. Click's own
usage messages ("Missing option") stay click's; the frame around them is ours."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import click
from flask import Flask
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from .. import audit_keys, config, migrate
from ..app import create_app
from ..db import EXTENSION, Database, get_db
from ..i18n import text
from ..services import clockshift
from ..services.authority import people
from ..services.errors import ServiceError, quote
from ..services.records.audit import Actor

T = TypeVar("T")
# The --plan option's help, said the same by every command that takes it.
PLAN_HELP = "The plan's slug (default: the first plan loaded)."


def language() -> str:
    """The language of this run: `planflow --language`, else the configured DEFAULT_LANGUAGE."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        root = ctx.find_root()
        chosen = root.params.get("language")
        if chosen:
            return str(chosen)
        if isinstance(root.obj, Flask):
            return str(root.obj.config["DEFAULT_LANGUAGE"])
    # Before the app is made (an error in the configuration itself), the setting as the app
    # would read it: the command builds its app from the defaults and the environment alone.
    return os.environ.get(config.PREFIX + "DEFAULT_LANGUAGE") or str(config.DEFAULTS["DEFAULT_LANGUAGE"])


def say(key: str, /, **params: Any) -> str:
    """The words for `key` in the run's language."""
    return text(language(), key, params)


def echo(key: str, /, **params: Any) -> None:
    """Print the words for `key` in the run's language."""
    click.echo(say(key, **params))


def quoted(value: str) -> str:
    """Someone's input in a message: a short prefix, quoted."""
    return repr(quote(value))


class OneLineError(click.ClickException):
    """An error said in one line in the run's language (`Fel: …`, `Error: …`); exits 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.language = language()  # chosen now: when it is shown, the run's context is gone

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(text(self.language, "cli.error", {"message": self.format_message()}), file=file, err=True)


class OneLineUsage(click.UsageError):
    """A usage error said in one line in the run's language, without the usage block; exits 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.language = language()

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(text(self.language, "cli.error", {"message": self.format_message()}), file=file, err=True)


def error(key: str, /, **params: Any) -> OneLineError:
    """The error for `key`, to raise."""
    return OneLineError(say(key, **params))


def usage_error(key: str, /, **params: Any) -> OneLineUsage:
    """The usage error for `key`, to raise: options that do not go together."""
    return OneLineUsage(say(key, **params))


class BadValue(click.BadParameter):
    """A value refused by one of our parameter types, worded whole in the run's language (click
    would frame our words in its English)."""

    def format_message(self) -> str:
        hint = self.param_hint
        if hint is None and self.param is not None:
            hint = self.param.get_error_hint(self.ctx)
        if hint is not None and not isinstance(hint, str):
            hint = " / ".join(hint)
        return say("cli.usage.invalid_value", option=hint or "?", problem=self.message)


@contextmanager
def usage_in_one_line() -> Iterator[None]:
    """A usage error as one line pointing at the command's help, like every other error."""
    try:
        yield
    except click.UsageError as exc:
        if exc.ctx is None or type(exc).show is not click.UsageError.show:
            raise  # already one line, or the help a bare `planflow` shows
        message = say("cli.usage.see_help", message=exc.format_message(), command=exc.ctx.command_path)
        raise OneLineUsage(message) from None


class OneLineGroup(click.Group):
    """The `planflow` group: a usage error is one line too, like every other error."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        with usage_in_one_line():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with usage_in_one_line():
            return super().invoke(ctx)


def app() -> Flask:
    """The app of this run, made from the configuration the first time it is needed."""
    root = click.get_current_context().find_root()
    if root.obj is None:
        try:
            root.obj = create_app()
        except ValueError as exc:  # configuration errors
            raise OneLineError(str(exc)) from None
        root.call_on_close(root.obj.extensions[EXTENSION].dispose)
    made: Flask = root.obj
    return made


@contextmanager
def database(initialised: bool = True) -> Iterator[Database]:
    """The app's database inside an app context, with database and service errors as one line;
    unless `initialised` is False (init), a database `planflow init` has not made is refused."""
    flask_app = app()
    with flask_app.app_context():
        db = get_db()
        url = db.url.render_as_string(hide_password=True)
        try:
            problem = migrate.readiness(db.read_engine) if initialised else None
            if problem:
                raise error("cli.database.unready", url=url, problem=problem)
            if initialised:
                # A demo's clock is shared (`tick --at` moves it): every command keeps the time the
                # server and the scheduler keep, so the trail never runs backwards between them.
                clockshift.Follower().keep_up(db.reading)
            yield db
        except ServiceError as exc:
            raise OneLineError(exc.render(language())) from None
        except IntegrityError as exc:  # a unique key: a racing command wrote the same thing first
            raise error("cli.database.conflict", detail=_first_line(exc)) from None
        except (OperationalError, DBAPIError) as exc:
            raise error("cli.database.unusable", url=url, detail=_first_line(exc)) from None


def _first_line(exc: DBAPIError) -> str:
    said = str(exc.orig).strip() if exc.orig else str(exc)
    line = said.splitlines()[0] if said else type(exc).__name__
    return line if len(line) <= 160 else line[:160] + "…"


def in_transaction(work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction of its own."""
    with database() as db, db.transaction() as session:
        return work(session)


def reading(work: Callable[[Session], T]) -> T:
    """Run `work` on a reading session, which never waits for a writer."""
    with database() as db, db.reading() as session:
        return work(session)


def as_user(session: Session, username: str) -> Actor:
    """The named user, who is refused like anyone else if they may not do what is asked."""
    return Actor(people.get_user(session, username))


def signing_key() -> audit_keys.SigningKey:
    """The checkpoint signing key from the configuration (made in the instance folder if unset)."""
    flask_app = app()
    try:
        return audit_keys.load_signing_key(
            flask_app.config["AUDIT_SIGNING_KEY"], Path(flask_app.instance_path)
        )
    except ValueError as exc:
        raise OneLineError(str(exc)) from None


def verifying_key() -> audit_keys.PublicKey | None:
    """The key that verifies the checkpoints, as the audit page and the API load it
    (audit_keys.verifying_key): None when there is no key file; never made here."""
    flask_app = app()
    try:
        return audit_keys.verifying_key(flask_app.config, flask_app.instance_path)
    except ValueError as exc:
        raise OneLineError(str(exc)) from None


def public_key_file(key_file: Path | None) -> audit_keys.PublicKey | None:
    """The public key read from --public-key, if one was given."""
    try:
        return audit_keys.read_public_key(key_file.read_bytes(), str(key_file)) if key_file else None
    except ValueError as exc:
        raise OneLineError(str(exc)) from None


def write_file(out: Path, data: bytes) -> None:
    """Write a file the command made, or say in one line why it cannot be written."""
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise error("cli.write_failed", path=str(out), reason=exc.strerror or type(exc).__name__) from None


def print_json(value: Any) -> None:
    """Print a machine-readable answer: keys and data, the same in every language."""
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
