"""Writing the archive: a checkpoint signed first, so the package ends at a signed head; one
function per table (TABLES), each row written as JSON and as CSV; the issued reports, the audit
trail, the Swedish README with its codebook, METS.xml describing it all, and the manifest over
every file, signed with the audit key. `write_archive` puts the files in a folder or a zip."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from .... import clock
from ....audit_keys import SigningKey
from ....models import (
    Activity,
    ActivityProposal,
    AnnualReport,
    AuditCheckpoint,
    AuditEvent,
    Decision,
    Deviation,
    IssuedReport,
    Notice,
    Plan,
    ReportingCycle,
    StatusReport,
    User,
)
from ...plan import plans
from ...records import checkpoints
from ...records.audit import event_fields
from .. import notices
from ..csvfile import csv_bytes
from . import codebook, layout, mets

Row = dict[str, Any]


# How the CSVs are written, as the README tells the archivist (in Swedish): kept beside _csv so
# that the two change together.
CSV_FORMAT = (
    "UTF-8 med BOM, semikolon, CRLF, rubrikrad; en text som börjar med =, +, -, @, tabb, CR eller ' "
    "har en apostrof framför som inte hör till värdet"
)


def _csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """A table as CSV, written by csvfile as every CSV planflow writes (verify renders the JSON rows
    through it and compares bytes, so a CSV cannot say other than its JSON)."""
    return csv_bytes(header, rows)


def csv_of(table: Table, rows: list[Row]) -> bytes:
    return _csv(table.columns, ([row.get(c) for c in table.columns] for row in rows))


def _plain(value: Any) -> Any:
    """A value as the JSON rows hold it: dates and times as ISO 8601, enums by their value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class _Names:
    """How the archive names what rows refer to by id: users by username, cycles by period,
    activities by code, plans by slug."""

    users: dict[int, str]
    periods: dict[int, str]
    codes: dict[int, str]
    slugs: dict[int, str]

    @classmethod
    def read(cls, session: Session) -> _Names:
        def pairs(key: Any, name: Any) -> dict[int, str]:
            return {id_: value for id_, value in session.execute(select(key, name))}

        return cls(
            users=pairs(User.id, User.username),
            periods=pairs(ReportingCycle.id, ReportingCycle.period),
            codes=pairs(Activity.id, Activity.code),
            slugs=pairs(Plan.id, Plan.slug),
        )

    def user(self, user_id: int | None) -> str | None:
        return self.users.get(user_id) if user_id is not None else None


@dataclass(frozen=True)
class Table:
    """One table of the archive: `name`.json and `name`.csv, its columns in order (each described
    in the README's codebook), and its rows read from the database."""

    name: str
    columns: tuple[str, ...]
    read: Callable[[Session, _Names], Iterator[list[Any]]]

    def rows(self, session: Session, names: _Names) -> list[Row]:
        return [
            dict(zip(self.columns, map(_plain, values), strict=True)) for values in self.read(session, names)
        ]


def _activities(session: Session, names: _Names) -> Iterator[list[Any]]:
    for a in session.scalars(select(Activity).order_by(Activity.id)):
        yield [
            names.slugs[a.plan_id],
            a.code,
            a.title,
            names.user(a.owner_id),
            a.office,
            a.starts_on,
            a.ends_on,
            a.state,
            a.status,
            a.is_demo,
        ]


def _cycles(session: Session, names: _Names) -> Iterator[list[Any]]:
    for c in session.scalars(select(ReportingCycle).order_by(ReportingCycle.id)):
        yield [
            names.slugs[c.plan_id],
            c.period,
            c.deadline,
            c.state,
            c.started_at,
            c.reported_at,
            c.case_number,
        ]


def _annual_reports(session: Session, names: _Names) -> Iterator[list[Any]]:
    for r in session.scalars(select(AnnualReport).order_by(AnnualReport.id)):
        yield [
            *(r.id, names.slugs[r.plan_id], r.year, r.state, r.compiled_at, r.approved_at, r.noted_at),
            *(r.board_decided_on, r.board_paragraph, r.case_number),
        ]


def _status_reports(session: Session, names: _Names) -> Iterator[list[Any]]:
    for r in session.scalars(select(StatusReport).order_by(StatusReport.id)):
        yield [
            r.id,
            names.periods.get(r.cycle_id) if r.cycle_id else None,
            names.codes[r.activity_id],
            names.user(r.reporter_id),
            r.status,
            r.comment,
            r.cause,
            r.reported_at,
            r.review,
            r.review_comment,
            names.user(r.reviewed_by_id),
            r.reviewed_at,
        ]


def _deviations(session: Session, names: _Names) -> Iterator[list[Any]]:
    for d in session.scalars(select(Deviation).order_by(Deviation.id)):
        yield [
            d.id,
            names.periods.get(d.cycle_id) if d.cycle_id else None,
            names.codes[d.activity_id],
            d.level,
            d.cause,
            d.recommendation,
            d.state,
            d.opened_at,
            d.escalated_at,
            d.decided_at,
        ]


def _decisions(session: Session, names: _Names) -> Iterator[list[Any]]:
    for d in session.scalars(select(Decision).order_by(Decision.id)):
        yield [
            d.id,
            d.body,
            d.subject_type,
            d.subject_id,
            d.decision,
            d.rationale,
            names.user(d.decided_by_id),
            names.user(d.on_behalf_of_id),
            d.decided_at,
            d.case_number,
        ]


def _proposals(session: Session, names: _Names) -> Iterator[list[Any]]:
    for p in session.scalars(select(ActivityProposal).order_by(ActivityProposal.id)):
        yield [
            p.id,
            p.title,
            names.user(p.proposed_by_id),
            names.user(p.owner_id),
            p.starts_on,
            p.ends_on,
            p.why,
            p.state,
            names.codes.get(p.activity_id) if p.activity_id else None,
            p.created_at,
        ]


def _mails(session: Session, names: _Names) -> Iterator[list[Any]]:
    """Every notice that left by mail, alone or carried in a batch or digest that was sent, worded
    as its recipient reads it: the records of what planflow told whom."""
    languages: dict[int, str] = {
        id_: language for id_, language in session.execute(select(User.id, User.language))
    }
    carrier = aliased(Notice)
    carried = select(carrier.id).where(carrier.sent_at.is_not(None))
    sent = (
        select(Notice)
        .where(Notice.channel != "inapp", or_(Notice.sent_at.is_not(None), Notice.digest_id.in_(carried)))
        .order_by(Notice.id)
    )
    for n in session.scalars(sent):
        subject, body = notices.render(n, languages.get(n.recipient_id))
        yield [
            n.id,
            names.user(n.recipient_id),
            n.template,
            subject,
            body,
            n.channel,
            n.digest_id,
            n.created_at,
            n.sent_at,
        ]


TABLES: tuple[Table, ...] = (
    Table(
        "activities",
        tuple("plan code title owner office starts_on ends_on state status demo".split()),
        _activities,
    ),
    Table("cycles", tuple("plan period deadline state started_at reported_at case_number".split()), _cycles),
    Table(
        "annual_reports",
        tuple(
            "id plan year state compiled_at approved_at noted_at board_decided_on board_paragraph"
            " case_number".split()
        ),
        _annual_reports,
    ),
    Table(
        "status_reports",
        tuple(
            "id period activity reporter status comment cause reported_at review review_comment reviewed_by"
            " reviewed_at".split()
        ),
        _status_reports,
    ),
    Table(
        "deviations",
        tuple(
            "id period activity level cause recommendation state opened_at escalated_at decided_at".split()
        ),
        _deviations,
    ),
    Table(
        "decisions",
        tuple(
            "id body subject_type subject_id decision rationale recorded_by on_behalf_of decided_at"
            " case_number".split()
        ),
        _decisions,
    ),
    Table(
        "proposals",
        tuple("id title proposed_by owner starts_on ends_on why state activity created_at".split()),
        _proposals,
    ),
    Table(
        "mails",
        tuple("id recipient template subject body channel carried_by created_at sent_at".split()),
        _mails,
    ),
)
# The fields of each issued_reports.json entry.
ISSUED_COLUMNS = (
    *("id", "plan", "kind", "subject", "number", "issued_at", "issued_by", "on_behalf_of", "checkpoint"),
    *("content_sha256", "case_number", "content", "files"),
)
EVENT_COLUMNS = (
    *("seq", "occurred_at", "actor", "on_behalf_of", "role", "action"),
    *("subject_type", "subject_id", "data", "reason", "prev_hash", "hash"),
)


def event_data(event: AuditEvent) -> Row:
    return {**event_fields(event), "hash": event.hash}


def event_csv(events: list[Row]) -> bytes:
    """The audit trail as CSV, with `data` as JSON text."""
    rows = (
        [json.dumps(e[c], ensure_ascii=False, sort_keys=True) if c == "data" else e[c] for c in EVENT_COLUMNS]
        for e in events
    )
    return _csv(EVENT_COLUMNS, rows)


def export_archive(session: Session, signer: SigningKey) -> dict[str, bytes]:
    """Every file of the archive by its path inside the package. Signs a checkpoint of the chain's
    head first, in the caller's transaction: it holds the head's lock to the commit, so nothing
    is appended meanwhile and the package ends exactly at a signed head."""
    anchor = checkpoints.make_checkpoint(session, signer)
    names = _Names.read(session)
    files: dict[str, bytes] = {}
    for table in TABLES:
        rows = table.rows(session, names)
        files[layout.table_json(table.name)] = layout.json_lines(rows)
        files[layout.table_csv(table.name)] = csv_of(table, rows)
    files[layout.PLANS] = layout.json_lines(plans.export_plan(session, slug) for slug in names.slugs.values())
    files.update(_issued_reports(session, names))
    events = [event_data(e) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    files[layout.EVENTS] = layout.json_lines(events)
    files[layout.DATA + "audit/events.csv"] = event_csv(events)
    files[layout.HEAD] = layout.json_bytes({"seq": anchor.seq, "hash": anchor.hash})
    signed = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
    files[layout.CHECKPOINTS] = layout.json_lines(checkpoints.as_dict(c) for c in signed)
    files[layout.PUBLIC_KEY] = signer.public_key.pem().encode("ascii")
    for name in layout.SCHEMA_FILES:
        files[layout.SCHEMAS + name] = (layout.SCHEMA_SOURCE / name).read_bytes()
    made_at = clock.now()
    package = f"planflow-{made_at.strftime('%Y%m%dT%H%M%SZ')}"
    files[layout.DESCRIPTION] = layout.json_bytes(_description(session, package, made_at, len(events)))
    files[layout.README] = codebook.readme(made_at, package, signer.public_key, CSV_FORMAT).encode("utf-8")
    files[layout.METS] = mets.document(package, made_at, files)
    manifest = {
        "format": layout.FORMAT,
        "package": package,
        "made_at": made_at.isoformat(),
        "checkpoint": checkpoints.as_dict(anchor),
        "files": {path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())},
    }
    files[layout.MANIFEST] = layout.json_bytes(manifest)
    files[layout.SIGNATURE] = signer.sign(files[layout.MANIFEST])
    return files


def _description(session: Session, package: str, made_at: datetime, events: int) -> Row:
    """The package's descriptive metadata: what it holds, from whom, when."""
    titles = list(session.scalars(select(Plan.title).order_by(Plan.id)))
    return {
        "package": package,
        "title": "planflow: " + "; ".join(titles) if titles else "planflow",
        "created": made_at.isoformat(),
        "plans": titles,
        "audit_events": events,
        "language": "sv",
    }


def _issued_reports(session: Session, names: _Names) -> dict[str, bytes]:
    """issued_reports.json, and each issued report's files under reports/ as they were issued."""
    files: dict[str, bytes] = {}
    issued = []
    for report in session.scalars(select(IssuedReport).order_by(IssuedReport.id)):
        listed: dict[str, dict[str, str]] = {}
        for file in report.files:
            name = f"reports/{report.id}-{report.kind}-{report.subject}-{report.number}.{file.format}"
            files[layout.DATA + name] = bytes(file.data)
            listed[file.format] = {"path": name, "sha256": file.sha256}
        issued.append(
            {
                "id": report.id,
                "plan": names.slugs[report.plan_id],
                "kind": report.kind,
                "subject": report.subject,
                "number": report.number,
                "issued_at": report.issued_at.isoformat(),
                "issued_by": report.issued_by,
                "on_behalf_of": report.on_behalf_of,
                "checkpoint": {"seq": report.checkpoint_seq, "hash": report.checkpoint_hash},
                "content_sha256": report.sha256,
                "case_number": report.content["report"].get("case_number"),
                "content": report.content,
                "files": listed,
            }
        )
    return {**files, layout.ISSUED: layout.json_lines(issued)}


def write_archive(files: dict[str, bytes], target: Path) -> None:
    """Into a zip when `target` ends in .zip, under one folder named as the package (METS OBJID;
    fixed times: same files, same zip), else into the folder `target` as the package's root."""
    if target.suffix.lower() == ".zip":
        root = json.loads(files[layout.MANIFEST])["package"]
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(files):
                info = zipfile.ZipInfo(f"{root}/{path}", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, files[path])
        return
    for path, data in files.items():
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
