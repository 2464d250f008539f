"""The caller's own notices: the list (in the caller's language, newest first), marking them read,
and how they are mailed. Nobody reads or changes another's here (an administrator sets anyone's
mail choice with `planflow users mail`)."""

from __future__ import annotations

from typing import Any

from ...db import get_db
from ...services.outputs import notices
from ...services.records.audit import Actor
from ...services.views import plain
from . import schemas as sc
from .auth import caller
from .registry import NO_CONTENT, component, operation
from .views import schema_of

NOTICES = component("Notices", schema_of(notices.NoticeList))
MARKED = component("NoticesMarked", sc.obj({"marked": sc.INT}))


@operation("GET", "/notices", summary="The caller's notices, newest first, with the unread count and "
           "the caller's mail choice", tag="notices", response=NOTICES)  # fmt: skip
def list_notices(query: dict[str, Any], body: None) -> dict[str, Any]:
    with get_db().reading() as session:
        return plain.to_json(notices.page(session, caller(session)))  # type: ignore[no-any-return]


@operation(
    "POST",
    "/notices/read",
    summary="Mark the caller's notices read: those named in `ids`, or all when `ids` is left out",
    tag="notices",
    response=MARKED,
    body=sc.obj({}, {"ids": {**sc.array({"type": "integer", "minimum": 1}), "maxItems": 1000}}),
)
def read_notices(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    with get_db().transaction() as session:
        return {"marked": notices.mark_read(session, caller(session), body.get("ids"))}


@operation("PUT", "/notices/delivery", summary="Choose how the caller's notices are mailed: a digest "
           "each working day, each at once, or none", tag="notices", response=None, status=NO_CONTENT,
           body=sc.obj({"delivery": {"type": "string", "enum": list(notices.MAIL_DELIVERIES)}}))  # fmt: skip
def set_delivery(query: dict[str, Any], body: dict[str, Any]) -> None:
    with get_db().transaction() as session:
        user = caller(session)
        notices.set_mail_delivery(session, Actor(user), user.username, body["delivery"])
