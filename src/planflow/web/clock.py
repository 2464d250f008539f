"""The web server follows a demo instance's shared clock (moved by `planflow tick --at`); on an
instance without demo data it asks the database once and never again."""

from __future__ import annotations

from flask import Flask

from ..db import get_db
from ..services import clockshift

# Seconds between reads of a demo's shared clock: a page may lag a tick by this much.
FOLLOW_EVERY = 2.0


def init_app(app: Flask) -> None:
    follower = clockshift.Follower(every=FOLLOW_EVERY)
    app.extensions["planflow.clock"] = follower

    @app.before_request
    def _follow_shared_clock() -> None:
        follower.keep_up(get_db().reading)
