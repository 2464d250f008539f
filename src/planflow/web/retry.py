"""A request whose transaction the database gave up on, as a deadlock's victim or for a
serialization failure, or whose connection turned out dead (the database restarted: the pool
then drops every connection it holds), runs again (up to TRIES times in all) as long as it has
committed nothing: the client never sees a 500 for what a second try mends, and a request that
committed part of its work is never repeated. After the last try it is a Busy (503): nothing
changed. (So connections are not pinged before every use: that cost a round trip per request.)

The lock order (README, "Many people at once") leaves no known deadlock; this is the bound on
what an unknown one, or PostgreSQL's own choices, can cost a user."""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, g, has_request_context
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..db import retryable
from ..services.errors import Busy

TRIES = 3
BACKOFF_SECONDS = 0.02  # times the try's number, at random below that: the two victims part ways
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Let every view of `app`, and every hook that runs before one (the API's token check
    reads the database), be tried again; call it after the last blueprint is registered."""
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = _retrying(view)
    for hooks in app.before_request_funcs.values():
        hooks[:] = [_retrying(hook) for hook in hooks]


@event.listens_for(Session, "after_commit")
def _count_commit(_session: Session) -> None:
    if has_request_context():
        g.planflow_commits = g.get("planflow_commits", 0) + 1


def _retrying(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def tried(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, TRIES + 1):
            committed = g.get("planflow_commits", 0)
            try:
                return view(*args, **kwargs)
            except DBAPIError as exc:
                lost = retryable(exc) or exc.connection_invalidated
                if not lost or g.get("planflow_commits", 0) != committed:
                    raise
                reason = str(exc.orig).splitlines()[0]
                if attempt == TRIES:
                    log.error("gave up after %d tries: %s", TRIES, reason)
                    raise Busy("error.database.busy") from exc
                log.warning("transaction tried again (try %d of %d): %s", attempt + 1, TRIES, reason)
                time.sleep(random.uniform(0, BACKOFF_SECONDS * attempt))
        raise AssertionError("unreachable")

    return tried
