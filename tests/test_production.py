"""The production start (README, Production): gunicorn's threaded workers with planflow's own
settings, the app loaded once in the master, each worker answering on connections of its own."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from planflow.db import Database
from planflow.services.authority import people
from planflow.services.records.audit import OPERATOR_ACTOR

GUNICORN = str(Path(sys.executable).parent / "gunicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _gunicorn(database_url: str, folder: Path, port: int, *more: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PLANFLOW_DATABASE_URL": database_url,
        "PLANFLOW_INSTANCE_PATH": str(folder / "instance"),
        "PLANFLOW_SECRET_KEY": "test",
    }
    command = [GUNICORN, "-c", "python:planflow.gunicorn_conf", "--bind", f"127.0.0.1:{port}"]
    # No control socket: its default path is one per user, and tests run side by side.
    command += ["--no-control-socket", *more]
    with open(folder / "server.log", "wb") as log:  # the server writes to its own copy of the file
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def _me(port: int, token: str) -> tuple[int, str]:
    """GET /api/v1/me on a new connection (so that any worker may take it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())["username"]
    finally:
        connection.close()


def _workers(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def test_two_gthread_workers_each_answer_an_authenticated_call(
    seeded: Database, database_url: str, tmp_path: Path
) -> None:
    with seeded.transaction() as session:
        token = people.issue_token(session, OPERATOR_ACTOR, "anna.nilsson")
    port, access = _free_port(), tmp_path / "access.log"
    server = _gunicorn(
        database_url,
        tmp_path,
        port,
        *("--workers", "2", "--threads", "2", "--access-logfile", str(access)),
        *("--access-logformat", "%(p)s %(s)s %(U)s"),
    )
    try:
        # Listening comes before the workers are forked: wait for both (a bound on waiting for
        # the start, not a timing assertion).
        deadline, workers = time.monotonic() + 30, set()
        while time.monotonic() < deadline and server.poll() is None and len(workers) < 2:
            time.sleep(0.1)
            workers = _workers(server.pid)
        assert server.poll() is None, (tmp_path / "server.log").read_text()
        assert len(workers) == 2
        answered: set[int] = set()
        with ThreadPoolExecutor(8) as pool:
            # Which worker accepts a connection is the kernel's choice: call, a few at a time, until
            # each has answered (bounded: 20 rounds of 16 calls).
            for _ in range(20):
                answers = list(pool.map(lambda _: _me(port, token), range(16)))
                assert answers == [(200, "anna.nilsson")] * 16
                lines = access.read_text().split("\n")
                answered = {int(line.split()[0].strip("<>")) for line in lines if " 200 /api/v1/me" in line}
                if answered == workers:
                    break
        assert answered == workers
    finally:
        server.terminate()
        server.wait(30)
    log = (tmp_path / "server.log").read_text()
    assert server.returncode == 0, log
    assert "Traceback" not in log and "[ERROR]" not in log, log


def test_a_database_planflow_init_has_not_made_stops_the_start_in_one_line(tmp_path: Path) -> None:
    server = _gunicorn(f"sqlite:///{tmp_path / 'empty.sqlite3'}", tmp_path, _free_port())
    assert server.wait(30) != 0
    log = (tmp_path / "server.log").read_text()
    assert "is not initialised: run `planflow init`" in log
    assert "Traceback" not in log, log
