"""The errors services raise: a stable code (a catalog key) with parameters, and per-field errors
the same way. Entry points word them in the reader's language: a page beside the field, the API as
problem+json, the CLI as one line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..i18n import Message

# What an error may quote of what was typed: enough to recognise it, never the whole of it.
QUOTE_LIMIT = 60


def quote(value: object) -> str:
    """A short, printable prefix of a user's value, for messages."""
    text = str(value)
    text = "".join(ch if ch.isprintable() else "�" for ch in text[: QUOTE_LIMIT + 1])
    return text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + "…"


class ServiceError(Exception):
    """A request that cannot be carried out. `code` is the catalog key of what to say. The web
    answers each kind with one HTTP status, pages and API alike (web.http_status)."""

    def __init__(self, code: str, /, fields: Mapping[str, Message] | None = None, **params: Any) -> None:
        self.message = Message(code, params)
        self.fields: dict[str, Message] = dict(fields or {})
        super().__init__(code)

    @property
    def code(self) -> str:
        return self.message.key

    @property
    def params(self) -> Mapping[str, Any]:
        return self.message.params

    def render(self, language: str | None) -> str:
        """The message with its field errors, as one line in `language`."""
        line = self.message.render(language)
        if self.fields:
            details = "; ".join(
                f"{name or '-'}: {m.render(language)}" for name, m in sorted(self.fields.items())
            )
            line = f"{line} ({details})"
        return line

    def __str__(self) -> str:
        return self.render("en")


class InvalidInput(ServiceError):
    """Bad input: nothing was changed; `fields` says what is wrong with which field."""


class NotFound(ServiceError):
    """What was asked for does not exist (or is not where it was looked for)."""


class Forbidden(ServiceError):
    """The person may not do this; the message names what was refused and why."""


class Conflict(ServiceError):
    """The thing changed under the request (someone else did it first, a task already done):
    nothing was changed."""


class Busy(ServiceError):
    """The database gave up on the request's transaction (chosen as a deadlock's victim, or a
    serialization failure) more often than it is retried: nothing was changed, try again."""
