"""What the benchmarks over HTTP share: a free port, a kept-alive client, a database of their own on
PostgreSQL (a schema, or a whole database when its size is measured), a big plan made of the seed
plan's activities, API tokens for the demo users, the machine they ran on, and their own section of
RESULTS.md. Not a benchmark itself."""

from __future__ import annotations

import copy
import http.client
import json
import os
import re
import socket
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from planflow.services.authority import people, peopleview
from planflow.services.plan import plans
from planflow.services.records.audit import OPERATOR_ACTOR

POSTGRES = os.environ.get("PLANFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, seconds: float = 60.0) -> bool:
    """Whether something listens on 127.0.0.1:`port` within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


class Client:
    """One kept-alive HTTP connection to the API, one request at a time. A request the server
    closed the connection on is sent again on a new one if it is a read; a write is not (it may
    have been done), and answers status 0."""

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self.port, self.timeout = port, timeout
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def call(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any, float]:
        """(status, JSON body or None, milliseconds from sending to the last byte)."""
        headers = {"Authorization": f"Bearer {token}"}
        payload = None
        if body is not None:
            payload, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        for attempt in (1, 2):
            start = time.perf_counter()
            try:
                self.connection.request(method, f"/api/v1{path}", body=payload, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, ConnectionError, TimeoutError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if method != "GET" or attempt == 2:
                    return 0, None, (time.perf_counter() - start) * 1000
                continue
            took = (time.perf_counter() - start) * 1000
            try:
                parsed = json.loads(data) if data else None
            except ValueError:
                parsed = None
            return response.status, parsed, took
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


def stats(times: list[float]) -> tuple[int, float, float]:
    """(n, median, p95) of durations."""
    ordered = sorted(times)
    return len(ordered), statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def quantile(ordered: list[float], q: float) -> float:
    """The q-quantile (0 < q < 1) of sorted values, nearest rank; NaN when there are none."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered))) - 1))]


def postgres_schema() -> tuple[str, str] | None:
    """A new schema on PLANFLOW_TEST_POSTGRES_URL's database and a URL that uses it, or None when
    no PostgreSQL answers (the SQLite figures then stand alone)."""
    admin = sa.create_engine(POSTGRES, connect_args={"connect_timeout": 3})
    schema = f"pf_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.begin() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except Exception:  # no PostgreSQL here
        return None
    finally:
        admin.dispose()
    separator = "&" if "?" in POSTGRES else "?"
    return schema, f"{POSTGRES}{separator}options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as c:
        c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def postgres_answers() -> bool:
    admin = sa.create_engine(POSTGRES, connect_args={"connect_timeout": 3})
    try:
        with admin.connect():
            return True
    except Exception:
        return False
    finally:
        admin.dispose()


def database_url(name: str) -> str:
    """The URL of database `name` on PLANFLOW_TEST_POSTGRES_URL's server."""
    return sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)


def create_database(name: str, template: str | None = None) -> str:
    """A new PostgreSQL database (a copy of `template`, which nobody may be connected to); its URL."""
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    finally:
        admin.dispose()
    return database_url(name)


def drop_database(name: str) -> None:
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def big_plan(folder: Path, factor: int) -> dict[str, Any]:
    """The seed plan with every intervention area's activities repeated `factor` times (titles
    suffixed " #n", numbered 1..N), read back through planflow's own checks."""
    document = copy.deepcopy(plans.read_plan_document())
    for focus_area in document["focus_areas"]:
        for area in focus_area["intervention_areas"]:
            originals, area["activities"] = area["activities"], []
            for n in range(1, factor + 1):
                for activity in originals:
                    number = len(area["activities"]) + 1
                    area["activities"].append(
                        {**activity, "number": number, "title": f"{activity['title']} #{n}"}
                    )
    path = folder / f"plan_x{factor}.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return plans.read_plan_document(path)


def issue_tokens(session: Session) -> dict[str, str]:
    """An API token for every user, by username (the operator's act, as `planflow users token`)."""
    users = peopleview.directory(session, OPERATOR_ACTOR)
    return {u.username: people.issue_token(session, OPERATOR_ACTOR, u.username) for u in users}


def machine() -> dict[str, Any]:
    """What the figures were measured on: cores, CPU model, when, and how busy the machine was."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model or "unknown",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": os.getloadavg()[0],
    }


def write_section(output: Path, name: str, section: str) -> None:
    """Replace the part of `output` between `<!-- begin name -->` and `<!-- end name -->` with
    `section` (which carries both markers), or append it; the other sections are left as they are."""
    text = output.read_text(encoding="utf-8") if output.exists() else ""
    pattern = re.compile(rf"<!-- begin {name} -->.*?<!-- end {name} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
