"""Mail: notices leave over SMTP, each exactly once as far as SMTP lets anyone promise it.

Delivery of a batch, in three steps:
1. claim (one short transaction): the due, unsent, unclaimed notices are locked with
   FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises claimers anyway) and
   marked claimed_by this sender until claimed_until (a lease), attempts + 1. Committed before
   anything is sent, so two senders never hold one notice, and a sender that dies lets go when
   its lease ends.
2. send, one message at a time, on one SMTP connection, while the lease still holds;
3. mark each sent in its own short transaction right after the server's 250.

A sender killed between the server's 250 and step 3 leaves a mail that was delivered but not
marked; when the lease ends it is sent again. That window (one SMTP reply and one commit, a few
milliseconds) cannot be closed: SMTP has no way to ask "did you already take this one?". Marking
before sending would turn it into lost mail instead, which is worse for reminders and escalations.
A re-sent mail carries the same Message-ID, so mail clients that deduplicate show it once.

One mail per person per batch: when several of a person's notices are due at once (ten tasks
arrived in a morning), the claim folds them into one "batch" notice, in the same transaction, and
that one is claimed, sent and marked like any other (its own key, so its own Message-ID on every
attempt); the notices it holds leave the outbox (digest_id names the batch, as for a digest) and
are marked sent with it. Escalations fold too; the digests themselves never (notices.ALONE).

A failure (server down, refused) releases the notice with exponential backoff: next_attempt_at =
now + first × 2^(attempts-1), at most retry_max, moved to a working day (workdays.mail_from); it is
not given up, and the error is kept for the admin (`planflow scheduler outbox`). A mail that cannot
be composed (an address no mail can carry) would fail the same way on every attempt: it is given up
at once, its error kept and logged, and the outbox lists it as failed for good (`undeliverable`).

Every mail carries the headers a receiving server and a mail client look for: Date and Message-ID
(RFC 5322), Auto-Submitted: auto-generated (RFC 3834: no vacation replies; Exchange reads
X-Auto-Response-Suppress), Content-Language, and List-Unsubscribe with List-Unsubscribe-Post
(RFC 2369, RFC 8058): a POST to the person's signed link turns their mail off."""

from __future__ import annotations

import email.policy
import hashlib
import html
import logging
import secrets
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ... import clock
from ...engine.forms import ON_A_LINE
from ...i18n import text
from ...models import Notice, User
from .. import workdays
from ..chain.timers import Transaction
from .notices import ACCOUNT_TEMPLATES, ALONE, FOLDS, link, unsubscribe_token

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "planflow@localhost"
    base_url: str = "http://127.0.0.1:5000"
    timeout: float = 30.0
    # Signs each person's unsubscribe link: the installation's SECRET_KEY, which the web checks it
    # with (a random one when none is given: links no one can forge, nor use).
    unsubscribe_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SmtpSettings | None:
        """The settings, or None when no SMTP host is configured (mail stays in the outbox)."""
        if not config.get("SMTP_HOST"):
            return None
        return cls(
            host=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]),
            user=config.get("SMTP_USER") or None,
            password=config.get("SMTP_PASSWORD") or None,
            starttls=bool(config.get("SMTP_STARTTLS")),
            sender=config["MAIL_FROM"],
            base_url=config["BASE_URL"].rstrip("/"),
            unsubscribe_key=config["SECRET_KEY"],
        )


@dataclass(frozen=True)
class DeliveryRules:
    batch: int = 50
    lease_seconds: int = 300
    retry_first_seconds: int = 60
    retry_max_seconds: int = 3600

    def backoff(self, attempts: int) -> timedelta:
        seconds = self.retry_first_seconds * 2 ** max(0, min(attempts - 1, 30))
        return timedelta(seconds=min(seconds, self.retry_max_seconds))

    def retry_at(self, now: datetime, attempts: int) -> datetime:
        """When a mail that failed its `attempts`-th time is tried again: after the backoff, on a
        working day."""
        return workdays.mail_from(now + self.backoff(attempts))


def outbox_due(now: datetime) -> Any:
    """The condition of a notice that waits to be mailed now (read by ix_notice_outbox)."""
    return (Notice.sent_at.is_(None)) & (Notice.next_attempt_at <= now)


# The error of a mail given up (it could not be composed), kept for the admin.
CANNOT_COMPOSE = "cannot compose"


def undeliverable() -> Any:
    """The condition of a mail given up for good: a mail that was never sent, is not waiting, did
    not go in a digest or batch, and kept the error that stopped it."""
    return (
        (Notice.channel == "mail")
        & Notice.sent_at.is_(None)
        & Notice.next_attempt_at.is_(None)
        & Notice.digest_id.is_(None)
        & Notice.last_error.is_not(None)
    )


def waiting(session: Session) -> int:
    """How many notices wait to be mailed, due or not."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.sent_at.is_(None), Notice.next_attempt_at.is_not(None))
        )
        or 0
    )


@dataclass(frozen=True)
class OutboxRow:
    """A notice that waits to be mailed (or was given up): to whom, when it is tried next (None:
    never again), how often it was tried, what went wrong last, when it was queued."""

    id: int
    template: str
    recipient: str  # the username
    next_attempt_at: datetime | None
    attempts: int
    last_error: str | None
    queued_at: datetime


@dataclass(frozen=True)
class Outbox:
    waiting: int  # every notice that waits, due or not
    rows: list[OutboxRow]  # the first of them, the next due first
    failed: list[OutboxRow]  # the newest of the mails given up for good (undeliverable)


def outbox(session: Session, limit: int = 30) -> Outbox:
    """The mail that waits to be sent (no SMTP configured, or failing), and the mail given up
    because it cannot be composed, for the admin to read: `planflow scheduler outbox` and /admin."""
    columns = (
        Notice.id,
        Notice.template,
        User.username,
        Notice.next_attempt_at,
        Notice.attempts,
        Notice.last_error,
        Notice.created_at,
    )
    waiting_rows = session.execute(
        select(*columns)
        .join(User, User.id == Notice.recipient_id)
        .where(Notice.sent_at.is_(None), Notice.next_attempt_at.is_not(None))
        .order_by(Notice.next_attempt_at, Notice.id)
        .limit(limit)
    ).all()
    failed_rows = session.execute(
        select(*columns)
        .join(User, User.id == Notice.recipient_id)
        .where(undeliverable())
        .order_by(Notice.id.desc())
        .limit(limit)
    ).all()
    return Outbox(
        waiting(session),
        [OutboxRow(*row) for row in waiting_rows],
        [OutboxRow(*row) for row in failed_rows],
    )


def deliver(
    transaction: Transaction,
    reading: Transaction,
    smtp: SmtpSettings | None,
    rules: DeliveryRules,
    sender_id: str,
    max_batches: int = 100,
) -> dict[str, int]:
    """Send what is due, batch by batch; returns {"mails_sent", "mails_failed", "mails_waiting"}."""
    counts = {"mails_sent": 0, "mails_failed": 0}
    if smtp is None:  # nothing configured: the outbox keeps it
        with transaction() as session:
            counts["mails_waiting"] = (
                session.scalar(select(func.count()).select_from(Notice).where(outbox_due(clock.now()))) or 0
            )
        return counts
    for _ in range(max_batches):
        claimed = _claim(transaction, smtp, rules, sender_id)
        if not claimed:
            break
        sent, failed = _send(transaction, smtp, rules, sender_id, claimed)
        counts["mails_sent"] += sent
        counts["mails_failed"] += failed
        if failed:  # the server has trouble: try again at the next run, not in a loop now
            break
    with reading() as session:
        counts["mails_waiting"] = waiting(session)
    return counts


@dataclass(frozen=True)
class _Claimed:
    id: int
    until: datetime
    attempts: int
    message: EmailMessage


def _claim(
    transaction: Transaction, smtp: SmtpSettings, rules: DeliveryRules, sender_id: str
) -> list[_Claimed]:
    with transaction() as session:
        now = clock.now()
        notices = session.scalars(
            select(Notice)
            .where(outbox_due(now), (Notice.claimed_until.is_(None)) | (Notice.claimed_until < now))
            .order_by(Notice.next_attempt_at, Notice.id)
            .limit(rules.batch)
            .with_for_update(skip_locked=True)
        ).all()
        until = now + timedelta(seconds=rules.lease_seconds)
        claimed = []
        for notice in _folded(session, list(notices), now):
            notice.attempts += 1
            try:
                message = compose(session, notice, sender_id, smtp)
            except Exception as exc:  # e.g. an address no mail can carry: the same on every attempt
                _give_up(notice, exc)
                continue
            notice.claimed_by, notice.claimed_until = sender_id, until
            claimed.append(_Claimed(notice.id, until, notice.attempts, message))
        return claimed


def _give_up(notice: Notice, error: Exception) -> None:
    """Stop trying a mail that cannot be composed: it would fail the same way for ever. The error
    stays on it (the outbox lists it as failed) and is logged for the administrator."""
    notice.next_attempt_at = None
    notice.last_error = f"{CANNOT_COMPOSE}: {str(error).strip() or type(error).__name__}"[:500]
    log.error("mail %s (%s) given up: %s", notice.id, notice.template, notice.last_error)


def _foldable(notice: Notice) -> bool:
    """Whether a notice may go in a batch: a plain one, not tried before (one tried before goes
    again alone: a copy a dead sender may have delivered keeps its Message-ID, so mail clients
    still show it once)."""
    return notice.template not in ALONE and notice.digest_id is None and notice.attempts == 0


def _folded(session: Session, notices: list[Notice], now: datetime) -> list[Notice]:
    """The notices to mail, one person's several due at once folded into one batch notice (the
    ones it holds leave the outbox): what the caller claims. In the claim's transaction, on notices
    it has locked, so each is folded once. A person's due notices beyond the claim's first
    `batch` come along (locked the same way): one mail per person per run, however many."""
    by_person: dict[int, list[Notice]] = {}
    for notice in notices:
        if _foldable(notice):
            by_person.setdefault(notice.recipient_id, []).append(notice)
    if by_person:
        claimed = {notice.id for notice in notices}
        more = session.scalars(
            select(Notice)
            .where(
                outbox_due(now),
                (Notice.claimed_until.is_(None)) | (Notice.claimed_until < now),
                Notice.recipient_id.in_(sorted(by_person)),
                Notice.template.not_in(sorted(ALONE)),
                Notice.digest_id.is_(None),
                Notice.attempts == 0,
            )
            .order_by(Notice.id)
            .with_for_update(skip_locked=True)
        ).all()
        for notice in more:
            if notice.id not in claimed:
                by_person[notice.recipient_id].append(notice)
    batches = {person: held for person, held in by_person.items() if len(held) > 1}
    if not batches:
        return notices
    folded = {id(n) for held in batches.values() for n in held}
    out = [n for n in notices if id(n) not in folded]
    for person, held in batches.items():
        batch = Notice(
            recipient_id=person,
            template="notice.batch",
            params={"count": len(held)},
            # The first notice it holds is folded once: the key is the batch's own for good.
            dedupe_key=f"notice.batch:{held[0].id}:{person}",
            created_at=now,
            attempts=0,
            channel="mail",
            next_attempt_at=now,
        )
        session.add(batch)
        session.flush()
        for notice in held:
            notice.digest_id, notice.next_attempt_at = batch.id, None
            notice.claimed_by = notice.claimed_until = None
        session.flush()
        out.append(batch)
    return out


def _send(
    transaction: Transaction,
    smtp: SmtpSettings,
    rules: DeliveryRules,
    sender_id: str,
    claimed: list[_Claimed],
) -> tuple[int, int]:
    sent = failed = 0
    try:
        connection = _connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        for item in claimed:
            _release(transaction, rules, sender_id, item, exc)
        return 0, len(claimed)
    try:
        for index, item in enumerate(claimed):
            # Stop before the lease runs out: past it another sender may take the notice.
            if clock.now() >= item.until - timedelta(seconds=2):
                for rest in claimed[index:]:
                    _release(transaction, rules, sender_id, rest, None)
                break
            try:
                connection.send_message(item.message)
            except (
                smtplib.SMTPRecipientsRefused,
                smtplib.SMTPResponseException,
                smtplib.SMTPNotSupportedError,
            ) as exc:
                _release(transaction, rules, sender_id, item, exc)  # this one: refused
                failed += 1
                continue
            except (OSError, smtplib.SMTPException) as exc:  # the connection is gone
                for rest in claimed[index:]:
                    _release(transaction, rules, sender_id, rest, exc)
                failed += len(claimed) - index
                break
            _mark_sent(transaction, item)
            sent += 1
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()
    return sent, failed


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    connection = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    try:
        if smtp.starttls:
            connection.starttls()
        if smtp.user:
            connection.login(smtp.user, smtp.password or "")
    except BaseException:
        connection.close()
        raise
    return connection


def _mark_sent(transaction: Transaction, item: _Claimed) -> None:
    """Mark a notice sent, and the notices a digest or batch carried with it."""
    with transaction() as session:
        now = clock.now()
        session.execute(
            update(Notice)
            .where(Notice.id == item.id, Notice.sent_at.is_(None))
            .values(sent_at=now, claimed_by=None, claimed_until=None, last_error=None)
        )
        session.execute(
            update(Notice).where(Notice.digest_id == item.id, Notice.sent_at.is_(None)).values(sent_at=now)
        )


def _release(
    transaction: Transaction,
    rules: DeliveryRules,
    sender_id: str,
    item: _Claimed,
    error: BaseException | None,
) -> None:
    """Give a claimed notice back: after a failure, with backoff and the error kept."""
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
    if error is not None:
        values["next_attempt_at"] = rules.retry_at(clock.now(), item.attempts)
        values["last_error"] = (str(error).strip() or type(error).__name__)[:500]
    else:
        values["attempts"] = Notice.attempts - 1  # not tried: the attempt does not count
    with transaction() as session:
        session.execute(
            update(Notice)
            .where(Notice.id == item.id, Notice.sent_at.is_(None), Notice.claimed_by == sender_id)
            .values(**values)
        )


# ---- the words ---------------------------------------------------------------------------------


def compose(session: Session, notice: Notice, sender_id: str, smtp: SmtpSettings) -> EmailMessage:
    """The mail of a notice in its recipient's language: plain text and HTML, a link to each task.
    A digest (or a batch) holds the notices folded into it, each with its title."""
    recipient = session.get(User, notice.recipient_id)
    assert recipient is not None
    language = recipient.language
    stop = f"{smtp.base_url}/mail/unsubscribe/{unsubscribe_token(smtp.unsubscribe_key, recipient.id)}"
    plain, rich = _body(session, notice, language, smtp.base_url, stop)
    message = _headed(notice, recipient, sender_id, smtp, stop)
    message.set_content(plain)
    message.add_alternative(
        f'<!doctype html><html lang="{html.escape(language)}"><body>{rich}</body></html>', subtype="html"
    )
    # After the content: set_content() and add_alternative() drop or move the Content-* headers.
    message["Content-Language"] = language
    return message


def _body(session: Session, notice: Notice, language: str, base_url: str, stop: str) -> tuple[str, str]:
    """The mail's text, plain and as HTML: a digest's introduction, each notice it holds (under
    its title in a digest) with a link to its task, and the footer."""
    is_digest = notice.template in FOLDS
    items = (
        list(session.scalars(select(Notice).where(Notice.digest_id == notice.id).order_by(Notice.id)))
        if is_digest
        else [notice]
    )
    plain: list[str] = []
    rich: list[str] = []
    if is_digest:
        intro = text(language, f"{notice.template}.body", notice.params)
        plain.append(intro)
        rich.append(f"<p>{html.escape(intro)}</p>")
    for item in items:
        path = link(item.params)
        url = f"{base_url}{path}" if path else None
        label = text(language, _link_words(item))
        title = text(language, f"{item.template}.subject", item.params) if is_digest else ""
        body = text(language, f"{item.template}.body", item.params)
        plain.append(
            "\n".join(([f"• {title}"] if title else []) + [body] + ([f"{label}: {url}"] if url else []))
        )
        rich.append(
            (f"<h2>{html.escape(title)}</h2>" if title else "")
            + "<p>"
            + html.escape(body).replace("\n", "<br>")
            + "</p>"
            + (f'<p><a href="{html.escape(url)}">{html.escape(label)}</a></p>' if url else "")
        )
    footer = text(language, "mail.footer", {"url": base_url})
    stop_words = text(language, "mail.stop")
    plain.append(f"-- \n{footer}\n{stop_words}: {stop}")
    rich.append(
        f"<hr><p><small>{html.escape(footer)}<br>"
        f'<a href="{html.escape(stop)}">{html.escape(stop_words)}</a></small></p>'
    )
    return "\n\n".join(plain), "".join(rich)


def _link_words(notice: Notice) -> str:
    """The words of a notice's link: to its task, its deviation, or the site."""
    if notice.template in ACCOUNT_TEMPLATES:
        return "mail.set_password"
    if notice.params.get("task_id"):
        return "mail.open_task"
    return "mail.open_deviation" if notice.template == "notice.escalation" else "mail.open_site"


def _headed(notice: Notice, recipient: User, sender_id: str, smtp: SmtpSettings, stop: str) -> EmailMessage:
    """A message with the notice's headers and no body yet (Content-Language comes with the body)."""
    language = recipient.language
    # An address with å/ä/ö needs SMTPUTF8: its headers are then written as UTF-8 (smtplib asks the
    # server for SMTPUTF8 on its own); other mail keeps RFC 2047 headers any server takes.
    message = EmailMessage(
        policy=email.policy.default if recipient.email.isascii() else email.policy.SMTPUTF8
    )
    message["Subject"] = text(language, f"{notice.template}.subject", notice.params)
    message["From"] = smtp.sender
    # By parts: addr_spec= refuses a local part with å/ä/ö even under the SMTPUTF8 policy.
    local, _, domain_part = recipient.email.rpartition("@")
    # A name is one line; one stored before that rule still is, rather than stopping every mail.
    name = " ".join(ON_A_LINE.sub(" ", recipient.display_name).split())
    message["To"] = Address(name, local, domain_part)
    domain = smtp.sender.rpartition("@")[2] or "planflow.invalid"
    domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    digest = hashlib.sha256(notice.dedupe_key.encode("utf-8")).hexdigest()[:16]
    # The same on every attempt: a mail re-sent after a lost "sent" mark is recognisably the same.
    message["Message-ID"] = f"<notice-{notice.id}-{digest}@{domain}>"
    message["Date"] = format_datetime(clock.now())
    # Made by a machine: no out-of-office or vacation reply should answer it (RFC 3834; Exchange
    # and Outlook read their own header for the same).
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    # The person's own link that turns their mail off: a POST does it (RFC 8058 one-click), a GET
    # shows a page asking first (a link scanner must not unsubscribe anyone).
    message["List-Unsubscribe"] = f"<{stop}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-Planflow-Notice"] = str(notice.id)
    message["X-Planflow-Sender"] = sender_id
    return message
