"""The errors services raise; entry points turn them into messages, HTTP statuses or exit codes."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out; the message is meant for the person who asked."""


class InvalidInput(ServiceError):
    """Bad input: nothing was changed. `errors` maps a field (or "") to what is wrong with it."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class NotFound(ServiceError):
    pass


class Forbidden(ServiceError):
    pass


class Conflict(ServiceError):
    """The thing changed under the request (e.g. a task already completed): nothing was changed."""


def excerpt(text: str, limit: int = 80) -> str:
    """Quote someone's input in a message: at most its first `limit` characters, on one line."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
