"""Uploading a workbook on /admin/plan: a file too large unpacked is refused from the file alone,
before the import's transaction takes the write lock, and a formula is named by its cell."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import openpyxl
from flask.testing import FlaskClient

from planflow.db import Database

from ..workbooks import shared_string_bomb, write_lock_held
from .conftest import csrf_token


def _upload(client: FlaskClient, data: bytes) -> tuple[int, str]:
    form = {"csrf_token": csrf_token(client, "/admin/plan"), "file": (io.BytesIO(data), "planen.xlsx")}
    sent = client.post("/admin/plan/import", data=form, content_type="multipart/form-data")
    return sent.status_code, sent.get_data(as_text=True)


def test_a_workbook_too_large_unpacked_is_refused_without_waiting_for_the_write_lock(
    signed_in: Callable[[str], FlaskClient], web: Database, database_url: str
) -> None:
    client = signed_in("processledare")
    bomb = shared_string_bomb(client.get("/admin/plan.xlsx").data, 40)
    csrf_token(client, "/admin/plan")  # the page's token, read before the lock is held
    with write_lock_held(database_url):
        started = time.monotonic()
        status, html = _upload(client, bomb)
        took = time.monotonic() - started
    assert status == 400 and "planen.xlsx packas upp till mer än 32 MB och läses inte" in html
    assert took < 10  # the lock's wait is 30 s: the file was read before the transaction began


def test_a_formula_is_named_by_its_cell(signed_in: Callable[[str], FlaskClient], web: Database) -> None:
    client = signed_in("processledare")
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/admin/plan.xlsx").data))
    workbook["Fokusområde 2"]["F3"] = "=D3"  # the office, made from the owner
    out = io.BytesIO()
    workbook.save(out)
    status, html = _upload(client, out.getvalue())
    assert status == 400
    assert "Fokusområde 2, rad 3, kolumn F: en formel (=D3) tas inte emot: skriv in själva värdet" in html
