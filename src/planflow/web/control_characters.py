"""Control characters are refused at the edge, before any page, API route or service sees them: a NUL
in a path, a query, a form, a file name, a header or an API body is a 400 naming where it was,
never a 500 from PostgreSQL (whose text cannot hold a NUL) or a control sequence in a log, a
spreadsheet or a terminal. Pages show the refusal as a friendly error page and the API as a
problem, both in the reader's language (the ServiceError handlers in site and api.problems).

What is refused: the C0 controls, DEL and the C1 controls, which no one types. Text a person wrote
in a form field or a JSON string may hold TAB, LF and CR (a text area's lines); a name (a path, a
query value, a key, a file name) is one line and may not. Headers keep to RFC 9110: HTAB is
allowed, and bytes 0x80–0xFF are obs-text (WSGI shows a header's UTF-8 as Latin-1)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, request

from ..engine.forms import ON_A_LINE
from ..i18n import Message
from ..services.errors import InvalidInput, quote

CODE = "error.input.control_character"
FIELD = Message("form.control_characters")
# A lone surrogate is refused with the controls: json.loads makes one of a "\ud800" escape (a pair
# becomes one character), and it cannot be encoded as UTF-8, so cannot be stored.
IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
IN_A_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# The bytes through which a refused character can reach a parsed JSON string: an escape's backslash,
# a raw DEL, and the lead byte of a C1 control in UTF-8 (raw C0 controls fail the parse itself).
JSON_SUSPECT_BYTES = (b"\\", b"\x7f", b"\xc2")
# The API reads no forms, and its body limit is set by its own hook, after this one: its bodies
# are checked where they are parsed (refuse_in_json).
API_BLUEPRINT = "api"


def refused(value: str, multiline: bool = False) -> bool:
    """Whether `value` holds a character that is not text: a control character (TAB, LF and CR
    allowed in `multiline` text) or a lone surrogate."""
    return (IN_TEXT if multiline else ON_A_LINE).search(value) is not None


def _first(pairs: Iterable[tuple[str, str]], multiline: bool) -> str | None:
    """The name of the first pair whose name or value is refused (names are one line)."""
    for name, value in pairs:
        if refused(name):
            return quote(name)
        if refused(value, multiline):
            return name
    return None


def field_at_fault() -> str | None:
    """Where the request brings a control character (a path variable's or the path's, a query
    parameter's, a form field's or a header's name), or None when it brings none."""
    if refused(request.path):
        named = [name for name, value in (request.view_args or {}).items() if refused(str(value))]
        return named[0] if named else "path"
    where = _first(request.args.items(multi=True), multiline=False)
    # Only a page that will answer has its form read (a request for no page is a 404 either way).
    if where is None and request.endpoint is not None and request.blueprint != API_BLUEPRINT:
        where = _first(request.form.items(multi=True), multiline=True)
        if where is None:
            files = ((name, sent.filename or "") for name, sent in request.files.items(multi=True))
            where = _first(files, multiline=False)
    if where is None:
        where = next((name for name, value in request.headers.items() if IN_A_HEADER.search(value)), None)
    return where


def refuse() -> None:
    """The before-request hook: a 400 naming the field at fault (the handlers word it)."""
    where = field_at_fault()
    if where is not None:
        raise InvalidInput(CODE, fields={where: FIELD})


def json_field_at_fault(raw: bytes, data: Any) -> str | None:
    """Where the parsed JSON body `data` (read from `raw`) holds a refused character: the dotted
    path of the string or key ("" for the whole body), or None. A body holding none of the
    JSON_SUSPECT_BYTES cannot hold one and is not walked: finding a byte costs next to nothing
    beside the parse (a regex over the bytes would cost more than the parse itself)."""
    if not any(byte in raw for byte in JSON_SUSPECT_BYTES):
        return None
    return _walk(data, "")


def _walk(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if IN_TEXT.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if ON_A_LINE.search(key):
                return _join(path, quote(key))
            if (where := _walk(item, _join(path, key))) is not None:
                return where
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (where := _walk(item, _join(path, str(index)))) is not None:
                return where
    return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def refuse_in_json(raw: bytes, data: Any) -> None:
    """The API's check of a body it has parsed: a 400 naming the string or key at fault."""
    where = json_field_at_fault(raw, data)
    if where is not None:
        raise InvalidInput(CODE, fields={where: FIELD})


def init_app(app: Flask) -> None:
    """Register the check; call it before anything that registers a hook reading the request (CSRF
    does), so that no hook and no view reads a control character. The API's token check is a
    blueprint's hook, which Flask runs after the app's."""
    app.before_request(refuse)
