"""`planflow users invite USER` and `users reset USER`: the same service as the admin page
(authority.invitations): the mail is queued for the person and the link is printed for an operator
whose mail is not set up yet; an unknown person is an error and nothing is queued."""

from __future__ import annotations

import re

from sqlalchemy import create_engine, text

from tests.conftest import Cli


def _paths(database_url: str) -> list[tuple[str, str]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT template, params FROM notice ORDER BY id")).all()
    finally:
        engine.dispose()
    return [(template, str(params)) for template, params in rows]


def test_invite_and_reset_print_the_mailed_link(cli: Cli, database_url: str) -> None:
    cli("init")
    assert cli("users", "add", "eva", "--name", "Eva Ek", "--email", "eva@example.org").exit_code == 0
    invited = cli("--language", "en", "users", "invite", "eva")
    assert invited.exit_code == 0, invited.output
    first, link = invited.output.strip().splitlines()
    assert first == "An invitation to eva is in the outbox. The link:"
    path = re.fullmatch(r"https?://[^/]+(/password/[A-Za-z0-9._-]+)", link)
    assert path is not None
    reset = cli("users", "reset", "eva")
    assert reset.exit_code == 0 and "/password/" in reset.output
    queued = _paths(database_url)
    assert [t for t, _ in queued] == ["notice.account_invite", "notice.password_reset"]
    assert path.group(1) in queued[0][1]  # the printed link is the one mailed
    unknown = cli("users", "reset", "nobody")
    assert unknown.exit_code != 0
    assert len(_paths(database_url)) == 2
