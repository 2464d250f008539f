"""Writing the archive: one function per member (a table or a group of files, MEMBERS), the
README, and the manifest over all of them; `write_archive` puts the files in a folder or a zip."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .... import clock
from ....audit_keys import PublicKey
from ....models import (
    Activity,
    ActivityProposal,
    AnnualReport,
    AuditCheckpoint,
    AuditEvent,
    AuditHead,
    Decision,
    Deviation,
    IssuedReport,
    Plan,
    ReportingCycle,
    StatusReport,
    User,
)
from ...plan import plans
from ...records import checkpoints
from ...records.audit import GENESIS, event_fields

FORMAT = "planflow archive v1"
MANIFEST = "manifest.json"
README = """# planflow archive

Exported {made_at} by planflow. Everything here is plain JSON (UTF-8) and CSV (UTF-8, comma,
header row); nothing needs planflow to be read.

| file | what |
| --- | --- |
| plans.json | every plan: focus areas, intervention areas ("Genom att…"), activities |
| activities.csv | every activity with owner, office, timeline, state and current status |
| cycles.csv | the reporting cycles (periods), with the steering report's case number (diarienummer) |
| annual_reports.csv | the annual reports: approved (steering group), noted (board: date, §), case number |
| status_reports.csv | every status report: who reported what, and the focus-area lead's review |
| deviations.csv | every deviation: cause, recommendation, state |
| decisions.csv, decisions.json | every decision of the steering group and the board, with its rationale |
| proposals.csv | proposals for new activities |
| issued_reports.json, reports/ | the issued reports: their frozen content, and the files as issued |
| audit/events.json, audit/events.csv | the audit trail: one event per decision or change, hash-chained |
| audit/head.json | the chain's last link when exported |
| audit/checkpoints.json | the chain's head, signed (Ed25519) at moments in time |
| audit/public_key.pem | the public key that verifies the checkpoints |
| manifest.json | the SHA-256 of every other file |

## Checking it

`planflow archive verify PATH` (no database needed) checks that:
1. every file has the SHA-256 the manifest gives;
2. each audit event's hash is the SHA-256 of its canonical JSON (sorted keys, no spaces: seq,
   occurred_at, actor, on_behalf_of, role, action, subject_type, subject_id, data, reason,
   prev_hash) and each event's prev_hash is the hash of the one before (the first follows 64 zeros);
3. the chain ends at audit/head.json;
4. every checkpoint's signature holds with the public key over
   {{"hash", "made_at", "purpose": "{purpose}", "seq"}} as canonical JSON, and names an event
   with that hash;
5. every issued report's files have the SHA-256 recorded when it was issued.

The public key in the archive only shows the archive agrees with itself; compare it with the one
the municipality published (`planflow audit public-key`), or pass that one: `--public-key FILE`.
"""


def _csv(header: list[str], rows: Iterable[Iterable[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat() if hasattr(v, "isoformat") else v for v in row])
    return out.getvalue().encode("utf-8")


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n").encode(
        "utf-8"
    )


def event_data(event: AuditEvent) -> dict[str, Any]:
    return {**event_fields(event), "hash": event.hash}


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


# One function per member of the archive (a table or a group of files): the files it makes by
# their path inside the archive.
Member = Callable[[Session, _Names], dict[str, bytes]]


def export_archive(session: Session, public_key: PublicKey) -> dict[str, bytes]:
    """Every file of the archive by its path inside it."""
    names = _Names.read(session)
    files: dict[str, bytes] = {}
    for member in MEMBERS:
        files.update(member(session, names))
    files["audit/public_key.pem"] = public_key.pem().encode("ascii")
    made_at = clock.now().isoformat()
    files["README.md"] = README.format(made_at=made_at, purpose=checkpoints.PURPOSE).encode("utf-8")
    files[MANIFEST] = _manifest(files, made_at)
    return files


def _manifest(files: dict[str, bytes], made_at: str) -> bytes:
    """The SHA-256 of every file, which `verify_archive` checks first."""
    digests = {path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())}
    return _json({"format": FORMAT, "made_at": made_at, "files": digests})


def _plans(session: Session, names: _Names) -> dict[str, bytes]:
    return {"plans.json": _json([plans.export_plan(session, slug) for slug in names.slugs.values()])}


def _activities(session: Session, names: _Names) -> dict[str, bytes]:
    rows = (
        [
            names.slugs[a.plan_id],
            a.code,
            a.title,
            names.users.get(a.owner_id or 0),
            a.office,
            a.starts_on,
            a.ends_on,
            a.state.value,
            a.status.value if a.status else None,
            a.is_demo,
        ]
        for a in session.scalars(select(Activity).order_by(Activity.id))
    )
    header = "plan code title owner office starts_on ends_on state status demo"
    return {"activities.csv": _csv(header.split(), rows)}


def _cycles(session: Session, names: _Names) -> dict[str, bytes]:
    rows = (
        [
            names.slugs[c.plan_id],
            c.period,
            c.deadline,
            c.state.value,
            c.started_at,
            c.reported_at,
            c.case_number,
        ]
        for c in session.scalars(select(ReportingCycle).order_by(ReportingCycle.id))
    )
    header = "plan period deadline state started_at reported_at case_number"
    return {"cycles.csv": _csv(header.split(), rows)}


def _status_reports(session: Session, names: _Names) -> dict[str, bytes]:
    rows = (
        [
            r.id,
            names.periods.get(r.cycle_id or 0),
            names.codes[r.activity_id],
            names.users.get(r.reporter_id),
            r.status.value,
            r.comment,
            r.cause,
            r.reported_at,
            r.review.value,
            r.review_comment,
            names.users.get(r.reviewed_by_id or 0),
            r.reviewed_at,
        ]
        for r in session.scalars(select(StatusReport).order_by(StatusReport.id))
    )
    header = (
        "id period activity reporter status comment cause reported_at review review_comment reviewed_by"
        " reviewed_at"
    )
    return {"status_reports.csv": _csv(header.split(), rows)}


def _deviations(session: Session, names: _Names) -> dict[str, bytes]:
    rows = (
        [
            d.id,
            names.periods.get(d.cycle_id or 0),
            names.codes[d.activity_id],
            d.level.value,
            d.cause,
            d.recommendation,
            d.state.value,
            d.opened_at,
            d.escalated_at,
            d.decided_at,
        ]
        for d in session.scalars(select(Deviation).order_by(Deviation.id))
    )
    header = "id period activity level cause recommendation state opened_at escalated_at decided_at"
    return {"deviations.csv": _csv(header.split(), rows)}


def _decisions(session: Session, names: _Names) -> dict[str, bytes]:
    decisions = [
        {
            "id": d.id,
            "body": d.body.value,
            "subject_type": d.subject_type,
            "subject_id": d.subject_id,
            "decision": d.decision,
            "rationale": d.rationale,
            "recorded_by": names.users.get(d.decided_by_id),
            "on_behalf_of": names.users.get(d.on_behalf_of_id or 0),
            "decided_at": d.decided_at.isoformat(),
            "case_number": d.case_number,
        }
        for d in session.scalars(select(Decision).order_by(Decision.id))
    ]
    header = list(decisions[0]) if decisions else ["id"]
    return {
        "decisions.json": _json(decisions),
        "decisions.csv": _csv(header, (d.values() for d in decisions)),
    }


def _proposals(session: Session, names: _Names) -> dict[str, bytes]:
    rows = (
        [
            p.id,
            p.title,
            names.users.get(p.proposed_by_id),
            names.users.get(p.owner_id or 0),
            p.starts_on,
            p.ends_on,
            p.why,
            p.state.value,
            names.codes.get(p.activity_id or 0),
            p.created_at,
        ]
        for p in session.scalars(select(ActivityProposal).order_by(ActivityProposal.id))
    )
    header = "id title proposed_by owner starts_on ends_on why state activity created_at"
    return {"proposals.csv": _csv(header.split(), rows)}


def _annual_reports(session: Session, names: _Names) -> dict[str, bytes]:
    rows = (
        [names.slugs[r.plan_id], r.year, r.state.value, r.compiled_at, r.approved_at, r.noted_at]
        + [r.board_decided_on, r.board_paragraph, r.case_number]
        for r in session.scalars(select(AnnualReport).order_by(AnnualReport.id))
    )
    header = "plan year state compiled_at approved_at noted_at board_decided_on board_paragraph case_number"
    return {"annual_reports.csv": _csv(header.split(), rows)}


def _issued_reports(session: Session, names: _Names) -> dict[str, bytes]:
    """issued_reports.json, and each issued report's files under reports/ as they were issued."""
    files: dict[str, bytes] = {}
    issued = []
    for report in session.scalars(select(IssuedReport).order_by(IssuedReport.id)):
        listed: dict[str, dict[str, str]] = {}
        for file in report.files:
            path = f"reports/{report.id}-{report.kind}-{report.subject}-{report.number}.{file.format}"
            files[path] = bytes(file.data)
            listed[file.format] = {"path": path, "sha256": file.sha256}
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
                "case_number": report.content["report"].get("case_number"),
                "content_sha256": report.sha256,
                "content": report.content,
                "files": listed,
            }
        )
    return {**files, "issued_reports.json": _json(issued)}


EVENT_COLUMNS = (
    "seq occurred_at actor on_behalf_of role action subject_type subject_id data reason prev_hash hash"
)


def _audit_trail(session: Session, names: _Names) -> dict[str, bytes]:
    """The audit events (JSON, and CSV with `data` as JSON text), the chain's head, the checkpoints."""
    events = [event_data(e) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    rows = (
        [
            *(e[k] for k in list(e)[:8]),
            json.dumps(e["data"], ensure_ascii=False, sort_keys=True),
            e["reason"],
            e["prev_hash"],
            e["hash"],
        ]
        for e in events
    )
    head = session.get(AuditHead, 1)
    signed = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
    return {
        "audit/events.json": _json(events),
        "audit/events.csv": _csv(EVENT_COLUMNS.split(), rows),
        "audit/head.json": _json({"seq": head.seq if head else 0, "hash": head.hash if head else GENESIS}),
        "audit/checkpoints.json": _json([checkpoints.as_dict(c) for c in signed]),
    }


MEMBERS: tuple[Member, ...] = (
    _plans,
    _activities,
    _cycles,
    _status_reports,
    _deviations,
    _decisions,
    _proposals,
    _annual_reports,
    _issued_reports,
    _audit_trail,
)


def write_archive(files: dict[str, bytes], target: Path) -> None:
    """Into a zip when `target` ends in .zip (fixed times: same files, same zip), else a folder."""
    if target.suffix.lower() == ".zip":
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(files):
                info = zipfile.ZipInfo(f"planflow-archive/{path}", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, files[path])
        return
    for path, data in files.items():
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
