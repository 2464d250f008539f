"""The HTTP status each error a service raises is answered with: one table, which the pages
(site.service_error, and site.form_error for a form shown again) and the API's problem responses
(api.problems) both read, so a refusal has the same status wherever it is met."""

from __future__ import annotations

from ..services.errors import Busy, Conflict, Forbidden, InvalidInput, NotFound, ServiceError

STATUS: dict[type[ServiceError], int] = {
    InvalidInput: 400,  # the input is wrong, nothing changed; its fields say where
    Forbidden: 403,  # the person may not: the message names what and why
    NotFound: 404,
    Conflict: 409,  # the state of things refuses it (done already, changed meanwhile, tampered)
    Busy: 503,  # the database gave up on the transaction: try again
    ServiceError: 409,  # any other refusal is one by the state of things
}


def status_of(error: ServiceError) -> int:
    """The status of the nearest of the error's types in STATUS."""
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    raise TypeError(f"{type(error).__name__} is not a ServiceError")  # pragma: no cover
