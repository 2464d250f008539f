"""The archive: everything planflow knows about its plans, as JSON and CSV with a README, in a folder
or a zip, that can be checked without the database or planflow's own tables: `verify_archive`
recomputes the audit chain with the same hash function (services.audit.event_hash), checks the
signed checkpoints with the public key in the archive (or one published elsewhere), and checks
every file against the manifest and every issued report against its recorded SHA-256."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..audit_keys import PublicKey, read_public_key
from ..models import (
    Activity,
    ActivityProposal,
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
from . import checkpoints, plans
from .audit import GENESIS, event_fields, event_hash

FORMAT = "planflow archive v1"
MANIFEST = "manifest.json"
README = """# planflow archive

Exported {made_at} by planflow. Everything here is plain JSON (UTF-8) and CSV (UTF-8, comma,
header row); nothing needs planflow to be read.

| file | what |
| --- | --- |
| plans.json | every plan: focus areas, intervention areas ("Genom att…"), activities |
| activities.csv | every activity with owner, office, timeline, state and current status |
| cycles.csv | the reporting cycles (periods) |
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


def export_archive(session: Session, public_key: PublicKey) -> dict[str, bytes]:
    """Every file of the archive by its path inside it."""
    users = dict(session.execute(select(User.id, User.username)).all())
    periods = dict(session.execute(select(ReportingCycle.id, ReportingCycle.period)).all())
    codes = dict(session.execute(select(Activity.id, Activity.code)).all())
    slugs = dict(session.execute(select(Plan.id, Plan.slug)).all())
    files: dict[str, bytes] = {}
    files["plans.json"] = _json([plans.export_plan(session, slug) for slug in slugs.values()])
    files["activities.csv"] = _csv(
        ["plan", "code", "title", "owner", "office", "starts_on", "ends_on", "state", "status", "demo"],
        (
            [
                slugs[a.plan_id],
                a.code,
                a.title,
                users.get(a.owner_id or 0),
                a.office,
                a.starts_on,
                a.ends_on,
                a.state.value,
                a.status.value if a.status else None,
                a.is_demo,
            ]
            for a in session.scalars(select(Activity).order_by(Activity.id))
        ),
    )
    files["cycles.csv"] = _csv(
        ["plan", "period", "deadline", "state", "started_at", "reported_at"],
        (
            [slugs[c.plan_id], c.period, c.deadline, c.state.value, c.started_at, c.reported_at]
            for c in session.scalars(select(ReportingCycle).order_by(ReportingCycle.id))
        ),
    )
    files["status_reports.csv"] = _csv(
        [
            "id",
            "period",
            "activity",
            "reporter",
            "status",
            "comment",
            "cause",
            "reported_at",
            "review",
            "review_comment",
            "reviewed_by",
            "reviewed_at",
        ],
        (
            [
                r.id,
                periods.get(r.cycle_id or 0),
                codes[r.activity_id],
                users.get(r.reporter_id),
                r.status.value,
                r.comment,
                r.cause,
                r.reported_at,
                r.review.value,
                r.review_comment,
                users.get(r.reviewed_by_id or 0),
                r.reviewed_at,
            ]
            for r in session.scalars(select(StatusReport).order_by(StatusReport.id))
        ),
    )
    files["deviations.csv"] = _csv(
        [
            "id",
            "period",
            "activity",
            "level",
            "cause",
            "recommendation",
            "state",
            "opened_at",
            "escalated_at",
            "decided_at",
        ],
        (
            [
                d.id,
                periods.get(d.cycle_id or 0),
                codes[d.activity_id],
                d.level.value,
                d.cause,
                d.recommendation,
                d.state.value,
                d.opened_at,
                d.escalated_at,
                d.decided_at,
            ]
            for d in session.scalars(select(Deviation).order_by(Deviation.id))
        ),
    )
    decisions = [
        {
            "id": d.id,
            "body": d.body.value,
            "subject_type": d.subject_type,
            "subject_id": d.subject_id,
            "decision": d.decision,
            "rationale": d.rationale,
            "recorded_by": users.get(d.decided_by_id),
            "on_behalf_of": users.get(d.on_behalf_of_id or 0),
            "decided_at": d.decided_at.isoformat(),
        }
        for d in session.scalars(select(Decision).order_by(Decision.id))
    ]
    files["decisions.json"] = _json(decisions)
    files["decisions.csv"] = _csv(
        list(decisions[0]) if decisions else ["id"], (d.values() for d in decisions)
    )
    files["proposals.csv"] = _csv(
        [
            "id",
            "title",
            "proposed_by",
            "owner",
            "starts_on",
            "ends_on",
            "why",
            "state",
            "activity",
            "created_at",
        ],
        (
            [
                p.id,
                p.title,
                users.get(p.proposed_by_id),
                users.get(p.owner_id or 0),
                p.starts_on,
                p.ends_on,
                p.why,
                p.state.value,
                codes.get(p.activity_id or 0),
                p.created_at,
            ]
            for p in session.scalars(select(ActivityProposal).order_by(ActivityProposal.id))
        ),
    )
    issued = []
    for report in session.scalars(select(IssuedReport).order_by(IssuedReport.id)):
        entry = {
            "id": report.id,
            "plan": slugs[report.plan_id],
            "kind": report.kind,
            "subject": report.subject,
            "number": report.number,
            "issued_at": report.issued_at.isoformat(),
            "issued_by": report.issued_by,
            "on_behalf_of": report.on_behalf_of,
            "checkpoint": {"seq": report.checkpoint_seq, "hash": report.checkpoint_hash},
            "content_sha256": report.sha256,
            "content": report.content,
        }
        listed: dict[str, dict[str, str]] = {}
        for file in report.files:
            path = f"reports/{report.id}-{report.kind}-{report.subject}-{report.number}.{file.format}"
            files[path] = bytes(file.data)
            listed[file.format] = {"path": path, "sha256": file.sha256}
        entry["files"] = listed
        issued.append(entry)
    files["issued_reports.json"] = _json(issued)

    events = [event_data(e) for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    files["audit/events.json"] = _json(events)
    files["audit/events.csv"] = _csv(
        [
            "seq",
            "occurred_at",
            "actor",
            "on_behalf_of",
            "role",
            "action",
            "subject_type",
            "subject_id",
            "data",
            "reason",
            "prev_hash",
            "hash",
        ],
        (
            [
                *(e[k] for k in list(e)[:8]),
                json.dumps(e["data"], ensure_ascii=False, sort_keys=True),
                e["reason"],
                e["prev_hash"],
                e["hash"],
            ]
            for e in events
        ),
    )
    head = session.get(AuditHead, 1)
    files["audit/head.json"] = _json({"seq": head.seq if head else 0, "hash": head.hash if head else GENESIS})
    files["audit/checkpoints.json"] = _json(
        [
            checkpoints.as_dict(c)
            for c in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
        ]
    )
    files["audit/public_key.pem"] = public_key.pem().encode("ascii")
    made_at = clock.now().isoformat()
    files["README.md"] = README.format(made_at=made_at, purpose=checkpoints.PURPOSE).encode("utf-8")
    files[MANIFEST] = _json(
        {
            "format": FORMAT,
            "made_at": made_at,
            "files": {path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())},
        }
    )
    return files


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


def read_archive(source: Path) -> dict[str, bytes]:
    """The files of an archive folder or zip, by their path inside it."""
    if source.is_dir():
        return {
            p.relative_to(source).as_posix(): p.read_bytes() for p in sorted(source.rglob("*")) if p.is_file()
        }
    with zipfile.ZipFile(source) as archive:
        prefix = "planflow-archive/"
        return {
            name.removeprefix(prefix): archive.read(name)
            for name in archive.namelist()
            if not name.endswith("/")
        }


@dataclass(frozen=True)
class ArchiveVerification:
    events: int
    checkpoints: int
    anchored_seq: int
    reports: int
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_archive(files: dict[str, bytes], public_key: PublicKey | None = None) -> ArchiveVerification:
    """Check an archive from its files alone (see README above)."""
    try:
        return _verify(files, public_key)
    except (KeyError, ValueError, TypeError) as exc:
        return ArchiveVerification(
            0, 0, 0, 0, f"the archive is incomplete or malformed: {type(exc).__name__} {exc}"
        )


def _verify(files: dict[str, bytes], public_key: PublicKey | None) -> ArchiveVerification:
    if MANIFEST not in files:
        return ArchiveVerification(0, 0, 0, 0, "no manifest.json: this is not a planflow archive")
    manifest = json.loads(files[MANIFEST])
    if manifest.get("format") != FORMAT:
        return ArchiveVerification(0, 0, 0, 0, f"unknown archive format {manifest.get('format')!r}")
    for path, digest in manifest["files"].items():
        if path not in files:
            return ArchiveVerification(0, 0, 0, 0, f"{path} is missing")
        if hashlib.sha256(files[path]).hexdigest() != digest:
            return ArchiveVerification(0, 0, 0, 0, f"{path} does not match its SHA-256 in the manifest")
    extra = sorted(set(files) - set(manifest["files"]) - {MANIFEST})
    if extra:
        return ArchiveVerification(0, 0, 0, 0, f"{extra[0]} is not in the manifest")

    events = json.loads(files["audit/events.json"])
    previous, expected = GENESIS, 1
    hashes: dict[int, str] = {}
    for data in events:
        seq = data["seq"]
        if seq != expected:
            return ArchiveVerification(expected - 1, 0, 0, 0, f"event {expected} is missing (next is {seq})")
        if data["prev_hash"] != previous:
            return ArchiveVerification(expected - 1, 0, 0, 0, f"event {seq} does not follow event {seq - 1}")
        event = AuditEvent(**{k: v for k, v in data.items() if k != "hash"})
        event.occurred_at = datetime.fromisoformat(data["occurred_at"])
        if event_hash(event) != data["hash"]:
            return ArchiveVerification(expected - 1, 0, 0, 0, f"event {seq} was changed after it was written")
        previous, expected, hashes[seq] = data["hash"], expected + 1, data["hash"]
    checked = expected - 1
    head = json.loads(files["audit/head.json"])
    if (head["seq"], head["hash"]) != (checked, previous):
        return ArchiveVerification(
            checked, 0, 0, 0, f"events after {checked} are missing (the chain ended at {head['seq']})"
        )

    key = public_key or read_public_key(files["audit/public_key.pem"], "audit/public_key.pem")
    signed = json.loads(files["audit/checkpoints.json"])
    anchored = 0
    for checkpoint in signed:
        seq, made_at = checkpoint["seq"], datetime.fromisoformat(checkpoint["made_at"])
        if checkpoint["key_id"] != key.key_id:
            return ArchiveVerification(
                checked, 0, 0, 0, f"the checkpoint at event {seq} was signed by another key"
            )
        signature = base64.b64decode(checkpoint["signature"])
        if not key.verifies(checkpoints.message(seq, checkpoint["hash"], made_at), signature):
            return ArchiveVerification(
                checked, 0, 0, 0, f"the checkpoint at event {seq} has no valid signature"
            )
        if hashes.get(seq) != checkpoint["hash"]:
            return ArchiveVerification(checked, 0, 0, 0, f"event {seq} does not match its signed checkpoint")
        anchored = max(anchored, seq)

    issued = json.loads(files["issued_reports.json"])
    for report in issued:
        for fmt, entry in report["files"].items():
            if hashlib.sha256(files[entry["path"]]).hexdigest() != entry["sha256"]:
                return ArchiveVerification(
                    checked, 0, 0, 0, f"issued report {report['id']} ({fmt}) was changed"
                )
        content = json.dumps(report["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if hashlib.sha256(content.encode("utf-8")).hexdigest() != report["content_sha256"]:
            return ArchiveVerification(
                checked, 0, 0, 0, f"issued report {report['id']}'s content was changed"
            )
    return ArchiveVerification(checked, len(signed), anchored, len(issued))
