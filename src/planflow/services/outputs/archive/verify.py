"""Checking an archive from its files alone, one member at a time in the README's order: the
manifest, the audit events, the chain's head, the signed checkpoints, the issued reports."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ....audit_keys import PublicKey, read_public_key
from ....models import AuditEvent
from ...records import checkpoints
from ...records.audit import GENESIS, event_hash
from .export import FORMAT, MANIFEST


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


class _Refused(Exception):
    """The first thing in an archive that does not hold; `events` says how many audit events were
    checked before it, when the events are what is being checked."""

    def __init__(self, problem: str, events: int | None = None) -> None:
        super().__init__(problem)
        self.problem, self.events = problem, events


def _verify(files: dict[str, bytes], public_key: PublicKey | None) -> ArchiveVerification:
    """The checks in the README's order, each of one member; the first that fails is the answer."""
    checked = 0
    try:
        _check_manifest(files)
        hashes = _check_events(files)
        checked = len(hashes)
        _check_head(files, hashes)
        key = public_key or read_public_key(files["audit/public_key.pem"], "audit/public_key.pem")
        signed, anchored = _check_checkpoints(files, hashes, key)
        reports = _check_issued_reports(files)
    except _Refused as refused:
        events = checked if refused.events is None else refused.events
        return ArchiveVerification(events, 0, 0, 0, refused.problem)
    return ArchiveVerification(checked, signed, anchored, reports)


def _check_manifest(files: dict[str, bytes]) -> None:
    """Every file the manifest lists is there with its SHA-256, and no other file is."""
    if MANIFEST not in files:
        raise _Refused("no manifest.json: this is not a planflow archive")
    manifest = json.loads(files[MANIFEST])
    if manifest.get("format") != FORMAT:
        raise _Refused(f"unknown archive format {manifest.get('format')!r}")
    for path, digest in manifest["files"].items():
        if path not in files:
            raise _Refused(f"{path} is missing")
        if hashlib.sha256(files[path]).hexdigest() != digest:
            raise _Refused(f"{path} does not match its SHA-256 in the manifest")
    extra = sorted(set(files) - set(manifest["files"]) - {MANIFEST})
    if extra:
        raise _Refused(f"{extra[0]} is not in the manifest")


def _check_events(files: dict[str, bytes]) -> dict[int, str]:
    """Each audit event's hash by its seq, once every event is shown to follow the one before
    and to hash to what it says."""
    previous, hashes = GENESIS, {}
    for expected, data in enumerate(json.loads(files["audit/events.json"]), start=1):
        seq = data["seq"]
        if seq != expected:
            raise _Refused(f"event {expected} is missing (next is {seq})", expected - 1)
        if data["prev_hash"] != previous:
            raise _Refused(f"event {seq} does not follow event {seq - 1}", expected - 1)
        event = AuditEvent(**{k: v for k, v in data.items() if k != "hash"})
        event.occurred_at = datetime.fromisoformat(data["occurred_at"])
        if event_hash(event) != data["hash"]:
            raise _Refused(f"event {seq} was changed after it was written", expected - 1)
        previous = hashes[seq] = data["hash"]
    return hashes


def _check_head(files: dict[str, bytes], hashes: dict[int, str]) -> None:
    """The chain ends where the exported head says: no event was cut off its end."""
    last = (len(hashes), hashes[len(hashes)] if hashes else GENESIS)
    head = json.loads(files["audit/head.json"])
    if (head["seq"], head["hash"]) != last:
        raise _Refused(f"events after {last[0]} are missing (the chain ended at {head['seq']})")


def _check_checkpoints(files: dict[str, bytes], hashes: dict[int, str], key: PublicKey) -> tuple[int, int]:
    """How many checkpoints there are and the last event they anchor, once each is signed by
    `key` and names an event with its hash."""
    signed = json.loads(files["audit/checkpoints.json"])
    anchored = 0
    for checkpoint in signed:
        seq, made_at = checkpoint["seq"], datetime.fromisoformat(checkpoint["made_at"])
        if checkpoint["key_id"] != key.key_id:
            raise _Refused(f"the checkpoint at event {seq} was signed by another key")
        signature = base64.b64decode(checkpoint["signature"])
        if not key.verifies(checkpoints.message(seq, checkpoint["hash"], made_at), signature):
            raise _Refused(f"the checkpoint at event {seq} has no valid signature")
        if hashes.get(seq) != checkpoint["hash"]:
            raise _Refused(f"event {seq} does not match its signed checkpoint")
        anchored = max(anchored, seq)
    return len(signed), anchored


def _check_issued_reports(files: dict[str, bytes]) -> int:
    """How many reports were issued, once each one's files and content have the SHA-256 recorded
    when it was issued."""
    issued = json.loads(files["issued_reports.json"])
    for report in issued:
        for fmt, entry in report["files"].items():
            if hashlib.sha256(files[entry["path"]]).hexdigest() != entry["sha256"]:
                raise _Refused(f"issued report {report['id']} ({fmt}) was changed")
        content = json.dumps(report["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if hashlib.sha256(content.encode("utf-8")).hexdigest() != report["content_sha256"]:
            raise _Refused(f"issued report {report['id']}'s content was changed")
    return len(issued)
