"""gunicorn's settings for planflow in production (README, Production):

    gunicorn -c python:planflow.gunicorn_conf --workers 4 --bind 127.0.0.1:8000

Threaded workers (gthread); the app is loaded once in the master (so a database that cannot be
used stops the start in one line) and each worker forgets the master's pooled connections right
after the fork, so that no two processes ever share a database connection. Any setting here can
be overridden on the command line or in GUNICORN_CMD_ARGS."""

from __future__ import annotations

import gc
import logging
import sys
from typing import Any

wsgi_app = "planflow.wsgi:app"
worker_class = "gthread"
workers = 2
threads = 4
preload_app = True
bind = ["127.0.0.1:8000"]


def when_ready(server: Any) -> None:
    """In the master, once the app is loaded and before any worker is forked: move what it made
    out of the garbage collector's reach, so that no collection in a worker writes to (and so
    copies) the pages every worker shares with the master."""
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    """In each new worker: forget the pool inherited from the master (without closing the
    master's connections), and send planflow's own log lines where gunicorn sends its errors."""
    wsgi = sys.modules.get("planflow.wsgi")
    if wsgi is not None:  # preloaded: the app (and its engines) came from the master
        wsgi.database.dispose(close=False)
    log = logging.getLogger("planflow")
    if not log.handlers:
        for handler in worker.log.error_log.handlers:
            log.addHandler(handler)
        log.propagate = False
