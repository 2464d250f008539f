"""`planflow users`: users, roles, passwords, API tokens, mail and calendar; the local operator's
administration, audited as such."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click
from sqlalchemy.orm import Session

from ..i18n import LANGUAGES
from ..services.authority import invitations, people, peopleview
from ..services.outputs import calendar_feed, notices
from ..services.records.audit import OPERATOR_ACTOR
from .base import app, echo, in_transaction, print_json, reading, say


@click.group()
def users() -> None:
    """Users, roles and API tokens: the local operator's administration, audited as such."""


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def users_list(as_json: bool) -> None:
    """List users with their roles and scopes."""
    rows = [asdict(u) for u in reading(lambda session: peopleview.directory(session, OPERATOR_ACTOR))]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        roles = ", ".join(_role_text(r) for r in row["roles"]) or "-"
        demo_mark = f" {say('cli.users.demo_mark')}" if row["demo"] else ""
        click.echo(f"{row['username']:<18} {row['display_name']}{demo_mark}: {roles}")


def _role_text(role: dict[str, Any]) -> str:
    """A role as `users grant` takes it (ROLE, ROLE:<scope>): the same in every language."""
    scope = role["activity"] or role["focus_area"]
    return f"{role['role']}:{scope}" if scope is not None else role["role"]


@users.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option("--email", required=True)
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="ROLE, ROLE:<focus area> (focus_area_lead:3), activity_owner:<code> (activity_owner:1.1.1);"
    " a scope in another plan as ROLE:<plan>/<scope>; repeatable.",
)
# TODO(issue 17): the new user's language defaults to "sv" here; the service should apply the
# configured DEFAULT_LANGUAGE itself when none is given.
@click.option("--language", type=click.Choice(LANGUAGES), default="sv", show_default=True)
@click.option("--office")
@click.option("--password", help="Sets a login password (or use `users password` later).")
def users_add(
    username: str,
    display_name: str,
    email: str,
    roles: tuple[str, ...],
    language: str,
    office: str | None,
    password: str | None,
) -> None:
    """Add a user."""

    def add(session: Session) -> None:
        specs = [people.RoleSpec.parse(text) for text in roles]
        people.add_user(
            session, OPERATOR_ACTOR, username, display_name, email, specs, password, language, office
        )

    in_transaction(add)
    echo("cli.users.added", username=username)


@users.command("password")
@click.argument("username")
@click.password_option()
def users_password(username: str, password: str) -> None:
    """Set a user's login password."""
    in_transaction(lambda session: people.set_password(session, OPERATOR_ACTOR, username, password))
    echo("cli.users.password_set", username=username)


@users.command("token")
@click.argument("username")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None, help="Valid for this many days.")
def users_token(username: str, expires_days: int | None) -> None:
    """Print a new API bearer token for USERNAME (shown once; stored hashed)."""
    click.echo(
        in_transaction(lambda session: people.issue_token(session, OPERATOR_ACTOR, username, expires_days))
    )


@users.command("revoke-tokens")
@click.argument("username")
def users_revoke_tokens(username: str) -> None:
    """Revoke every API token of USERNAME."""
    count = in_transaction(lambda session: people.revoke_tokens(session, OPERATOR_ACTOR, username))
    echo("cli.users.tokens_revoked", count=count)


@users.command("grant")
@click.argument("username")
@click.argument("role")
def users_grant(username: str, role: str) -> None:
    """Give USERNAME a ROLE (as for `users add --role`)."""

    def grant(session: Session) -> None:
        people.grant_role(
            session, OPERATOR_ACTOR, people.get_user(session, username), people.RoleSpec.parse(role)
        )

    in_transaction(grant)
    echo("cli.users.granted", username=username, role=role)


@users.command("revoke")
@click.argument("username")
@click.argument("role")
def users_revoke(username: str, role: str) -> None:
    """Take ROLE from USERNAME; the right to act on tasks ends at once."""
    count = in_transaction(
        lambda session: people.revoke_role(session, OPERATOR_ACTOR, username, people.RoleSpec.parse(role))
    )
    echo("cli.users.revoked", username=username, role=role, count=count)


@users.command("deactivate")
@click.argument("username")
def users_deactivate(username: str) -> None:
    """Stop USERNAME from signing in and acting (nothing is deleted)."""
    in_transaction(lambda session: people.set_active(session, OPERATOR_ACTOR, username, False))
    echo("cli.users.deactivated", username=username)


@users.command("mail")
@click.argument("username")
@click.option(
    "--delivery",
    type=click.Choice(["digest", "immediate", "off"]),
    required=True,
    help="digest: one mail a day (escalations at once); immediate: every notice at once; off: inbox only.",
)
def users_mail(username: str, delivery: str) -> None:
    """How USERNAME's notices reach them by mail."""
    in_transaction(lambda session: notices.set_mail_delivery(session, OPERATOR_ACTOR, username, delivery))
    echo(f"cli.users.mail.{delivery}", username=username)


@users.command("calendar")
@click.argument("username")
def users_calendar(username: str) -> None:
    """Print a new calendar feed address for USERNAME (the old one stops working): the deadlines of
    their tasks and the steering meetings, for Outlook or any calendar to subscribe to."""
    secret = in_transaction(lambda session: calendar_feed.rotate_secret(session, OPERATOR_ACTOR, username))
    click.echo(f"{app().config['BASE_URL'].rstrip('/')}/calendar/{secret}.ics")


def _send_link(username: str, kind: str) -> None:
    """Mail USERNAME a link that sets their password (as the admin page does) and print it, for an
    operator whose mail is not configured yet."""
    config = app().config
    sent = in_transaction(
        lambda session: invitations.send_link(
            session, OPERATOR_ACTOR, username, kind, config["SECRET_KEY"], config["LOCAL_LOGIN"]
        )
    )
    echo("cli.users.invite_sent" if kind == "invite" else "cli.users.reset_sent", username=username)
    click.echo(f"{config['BASE_URL'].rstrip('/')}{sent.path}")


@users.command("invite")
@click.argument("username")
def users_invite(username: str) -> None:
    """Mail USERNAME an invitation with a one-time link that sets their password, and print it."""
    _send_link(username, "invite")


@users.command("reset")
@click.argument("username")
def users_reset(username: str) -> None:
    """Mail USERNAME a one-time link that sets a new password, and print it."""
    _send_link(username, "reset")
