"""Workbooks edited at the level of their zip parts, as an attacker or another program would:
a sheet claiming more than it holds, a part that unpacks to hundreds of MB, a formula with a
cached value (as Excel saves one; openpyxl writes none). And SQLite's write lock held by another
connection, to show a workbook is read before an import takes it."""

from __future__ import annotations

import io
import re
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

import pytest


def rezip(data: bytes, parts: dict[str, Callable[[IO[bytes]], None]]) -> bytes:
    """The workbook with the named parts written anew, each by a function that writes it in pieces
    (so a part of hundreds of MB is never held whole)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename in parts:
                with target.open(info.filename, "w", force_zip64=True) as part:
                    parts[info.filename](part)
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


def sheet_part(data: bytes, title: str) -> str:
    """The zip part of the sheet called `title` (by workbook.xml's sheet and its relationship)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        links = archive.read("xl/_rels/workbook.xml.rels").decode()

    def attribute(tag: str, name: str) -> str:
        return re.findall(rf'\b{name}="([^"]*)"', tag)[0]

    (rid,) = [
        attribute(t, "r:id") for t in re.findall(r"<sheet\b[^>]*>", workbook) if attribute(t, "name") == title
    ]
    (target,) = [
        attribute(t, "Target")
        for t in re.findall(r"<Relationship\b[^>]*>", links)
        if attribute(t, "Id") == rid
    ]
    return target.removeprefix("/") if target.startswith("/") else "xl/" + target


def dimension_bomb(data: bytes) -> bytes:
    """Focus area 1's sheet claiming 16,384 columns, with rows down to row 5000 (each one short
    cell): openpyxl pads every row to the claimed width unless told the columns to read."""
    name = sheet_part(data, "Fokusområde 1")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read(name).decode()
    last = int(re.findall(r'<row r="(\d+)"', sheet)[-1])
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>x</t></is></c></row>' for r in range(last + 1, 5001)
    )
    sheet = re.sub(r'<dimension ref="[^"]+"/>', '<dimension ref="A1:XFD5000"/>', sheet)
    sheet = sheet.replace("</sheetData>", rows + "</sheetData>")
    return rezip(data, {name: lambda part: part.write(sheet.encode())})


def shared_string_bomb(data: bytes, megabytes: int = 300) -> bytes:
    """The shared strings holding one string of `megabytes` MB (it packs to a few hundred KB)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        strings = archive.read("xl/sharedStrings.xml").decode()
    head, tail = strings.rsplit("</sst>", 1)

    def write(part: IO[bytes]) -> None:
        part.write((head + "<si><t>").encode())
        for _ in range(megabytes):
            part.write(b"A" * 2**20)
        part.write(("</t></si></sst>" + tail).encode())

    return rezip(data, {"xl/sharedStrings.xml": write})


def with_cached_value(data: bytes, sheet: str, cell: str, value: str) -> bytes:
    """The workbook with `cell`'s formula given a cached value, as Excel saves one."""
    name = sheet_part(data, sheet)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read(name).decode()
    xml, found = re.subn(
        rf'<c r="{cell}"([^>]*)><f>([^<]*)</f><v></v></c>',
        rf'<c r="{cell}"\1 t="str"><f>\2</f><v>{value}</v></c>',
        xml,
    )
    assert found == 1
    return rezip(data, {name: lambda part: part.write(xml.encode())})


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another connection holding SQLite's write lock (BEGIN IMMEDIATE) meanwhile."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the database-wide write lock is SQLite's")
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()
