"""The web server follows a demo instance's shared clock (moved by `planflow tick --at`)."""

from __future__ import annotations

import time

from flask import Flask

from ..db import get_db
from ..services import clockshift

# Seconds between reads of the shared clock: a page may lag a tick by this much.
FOLLOW_EVERY = 2.0


def init_app(app: Flask) -> None:
    last = [0.0]

    @app.before_request
    def _follow_shared_clock() -> None:
        if time.monotonic() - last[0] < FOLLOW_EVERY:
            return
        last[0] = time.monotonic()
        with get_db().reading() as session:
            clockshift.follow(session)
