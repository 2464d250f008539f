"""The steering group as a body: each member (the chair too) may say their word on what awaits the
group's decision — a deviation, a proposed activity, the annual report — before the chair records
the decision. The words are shown beside the chair's decision form, and when the decision is
recorded (steps.Step.decide) those written so far are kept with it: `decision_id` says which.
Nothing awaiting, no word: a comment after the decision is refused (workflows/README.md, "Who
decides: the steering group")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from ... import clock
from ...engine.forms import CONTROL
from ...i18n import Message
from ...models import (
    ActivityProposal,
    AnnualReport,
    Decision,
    Deviation,
    OpenTask,
    ProcessInstance,
    SteeringComment,
    User,
)
from ..authority import access
from ..authority.access import UseCase
from ..errors import Conflict, InvalidInput, NotFound
from ..records import audit
from ..records.audit import Actor
from . import instances

# What the group decides on, and the task through which its chair records each decision.
DECIDED_THROUGH: dict[str, str] = {
    "deviation": "steering_decision",
    "proposal": "decide_proposal",
    "annual_report": "approve_annual_report",
}
SUBJECTS = tuple(DECIDED_THROUGH)
_RECORDS: dict[str, type[Deviation] | type[ActivityProposal] | type[AnnualReport]] = {
    "deviation": Deviation,
    "proposal": ActivityProposal,
    "annual_report": AnnualReport,
}
COMMENT_MAX = 5000  # characters: a member's word, not a report


@dataclass(frozen=True)
class CommentView:
    """A member's word on something the group decides: who wrote it (and for whom, when a
    substitute did), when, what, and the decision it was kept with once that was recorded."""

    id: int
    author: str  # the writer's name
    on_behalf_of: str | None  # the absent member's name, when a substitute wrote it
    written_at: datetime
    text: str
    decision_id: int | None


def comment(session: Session, user: User, subject_type: str, subject_id: int, text: object) -> CommentView:
    """`user`'s word, as a member of the steering group (or its chair, or someone standing in for
    either), on a deviation, proposal or annual report while it awaits the group's decision (its
    decision task is open). Forbidden to anyone else; bounded, non-blank text; a subject that does
    not await the group is a Conflict (its decision is recorded, or it is not yet with the group).
    Audited as `steering.commented`."""
    actor = access.require(session, Actor(user), UseCase.COMMENT_AS_MEMBER)
    if subject_type not in DECIDED_THROUGH:
        raise InvalidInput(
            "error.input.invalid",
            fields={"subject_type": Message("form.one_of", {"choices": ", ".join(SUBJECTS)})},
        )
    words = _checked(text)
    record = session.get(_RECORDS[subject_type], subject_id)
    if record is None:
        raise NotFound("error.steering.no_subject", subject=_subject(subject_type, subject_id))
    task = _deciding_task(session, subject_type, subject_id)
    if task is not None:  # the decision and a comment take the instance in turn: none falls between
        instances.lock(session, task.instance_id)
        task = _deciding_task(session, subject_type, subject_id)
    if task is None:
        raise Conflict("error.steering.not_awaiting", subject=_subject(subject_type, subject_id, record))
    written = SteeringComment(
        subject_type=subject_type,
        subject_id=subject_id,
        author_id=user.id,
        on_behalf_of_id=actor.on_behalf_of.id if actor.on_behalf_of else None,
        comment=words,
        written_at=clock.now(),
    )
    session.add(written)
    session.flush()
    audit.record(
        session,
        actor,
        "steering.commented",
        subject_type,
        _audit_id(subject_type, record),
        {"comment": written.id, "task": task.id},
        words,
    )
    return CommentView(
        written.id,
        user.display_name,
        actor.on_behalf_of.display_name if actor.on_behalf_of else None,
        written.written_at,
        words,
        None,
    )


def _checked(text: object) -> str:
    """The comment as written, or InvalidInput saying what is wrong with it (on the field `comment`)."""
    problem = None
    if not isinstance(text, str):
        problem = Message("form.type", {"type": "string"})
    elif not text.strip():
        problem = Message("form.blank")
    elif len(text) > COMMENT_MAX:
        problem = Message("form.too_long", {"max": COMMENT_MAX})
    elif CONTROL.search(text):
        problem = Message("form.control_characters")
    if problem is not None:
        raise InvalidInput("error.input.invalid", fields={"comment": problem})
    assert isinstance(text, str)
    return text.replace("\r\n", "\n")


def _deciding_task(session: Session, subject_type: str, subject_id: int) -> OpenTask | None:
    """The open task through which the chair records the group's decision on the subject."""
    return session.scalar(
        select(OpenTask)
        .join(ProcessInstance, ProcessInstance.id == OpenTask.instance_id)
        .where(
            ProcessInstance.subject_type == subject_type,
            ProcessInstance.subject_id == subject_id,
            OpenTask.name == DECIDED_THROUGH[subject_type],
        )
        .order_by(OpenTask.id)
        .limit(1)
    )


def _audit_id(subject_type: str, record: object) -> object:
    """The subject's id as its other audit events name it (an annual report by its year)."""
    return record.year if isinstance(record, AnnualReport) else getattr(record, "id", None)


def _subject(subject_type: str, subject_id: int, record: object = None) -> Message:
    shown = _audit_id(subject_type, record) if record is not None else subject_id
    return Message(f"audit.subject.{subject_type}", {"id": shown})


def comments_on(session: Session, subject_type: str, subject_id: int) -> list[CommentView]:
    """Every word members have said on a subject, oldest first: those kept with an earlier decision
    (a return) carry its id, those still awaiting the next decision none. The caller has checked
    that its reader may see them (the steering page's and the chair's case views do)."""
    return comments_on_many(session, subject_type, [subject_id]).get(subject_id, [])


def comments_on_many(
    session: Session, subject_type: str, subject_ids: list[int]
) -> dict[int, list[CommentView]]:
    """`comments_on` for several subjects of a kind in one read, by subject id."""
    if not subject_ids:
        return {}
    author, absent = aliased(User, name="author"), aliased(User, name="absent")
    rows = session.execute(
        select(SteeringComment, author.display_name, absent.display_name)
        .join(author, author.id == SteeringComment.author_id)
        .outerjoin(absent, absent.id == SteeringComment.on_behalf_of_id)
        .where(SteeringComment.subject_type == subject_type, SteeringComment.subject_id.in_(subject_ids))
        .order_by(SteeringComment.id)
    ).all()
    found: dict[int, list[CommentView]] = {}
    for written, author_name, absent_name in rows:
        found.setdefault(written.subject_id, []).append(
            CommentView(
                written.id, author_name, absent_name, written.written_at, written.comment, written.decision_id
            )
        )
    return found


def keep_with(session: Session, decision: Decision) -> int:
    """Tie the words written so far on the decision's subject to it (the chair has just recorded
    it); how many. Called where every decision of the group is recorded (steps.Step.decide)."""
    result = session.execute(
        update(SteeringComment)
        .where(
            SteeringComment.subject_type == decision.subject_type,
            SteeringComment.subject_id == decision.subject_id,
            SteeringComment.decision_id.is_(None),
        )
        .values(decision_id=decision.id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
