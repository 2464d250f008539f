"""Checking an archive package from its files and a public key alone, in the README's order: the
manifest's signature and every file's SHA-256; the audit chain, its signed checkpoints and the
export's checkpoint at its end; every table's rows against the signed events they come from, and
each CSV against its JSON; the issued reports against their report.issued events.

Bounded whatever the package holds: files are hashed in chunks, never read whole; JSON lists are
read one element (line) at a time, each at most MAX_LINE bytes; a JSON document at most
MAX_DOCUMENT bytes, nested at most MAX_DEPTH deep. Anything malformed is refused with one line."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ....audit_keys import PublicKey, read_public_key
from ...records import checkpoints
from ...records.audit import GENESIS, fields_hash
from ...records.consistency import derived
from . import layout
from .export import EVENT_COLUMNS, ISSUED_COLUMNS, TABLES, csv_of, event_csv

CHUNK = 1 << 20  # bytes hashed at a time
MAX_LINE = 16 << 20  # one element of a JSON list (an event, a row, an issued report)
MAX_DOCUMENT = 16 << 20  # a whole JSON document (the manifest, the head)
MAX_DEPTH = 64  # JSON nesting: planflow writes at most a dozen levels
MAX_FILES = 100_000
MAX_KEY = 4096  # a PEM public key

# The tables whose rows are checked against the events they come from, each by the record kind the
# one mapping of events to records (records/consistency/derived.py) knows it as.
RECORD_KINDS = {
    "annual_reports": "annual_report",
    "status_reports": "status_report",
    "deviations": "deviation",
    "decisions": "decision",
    "proposals": "proposal",
    "issued_reports": "issued_report",
}


class _Refused(Exception):
    """The first thing in an archive that does not hold."""


class Archive(AbstractContextManager["Archive"]):
    """An archive package's files, read as streams: a folder (the package's root) or a zip
    holding the package's root folder."""

    def __init__(self, source: Path) -> None:
        self._zip: zipfile.ZipFile | None = None
        self._folder: Path | None = None
        self.members: dict[str, Any] = {}  # path in the package -> ZipInfo or Path
        if source.is_dir():
            self._folder = source
            for path in source.rglob("*"):
                if path.is_file():
                    self._add(path.relative_to(source).as_posix(), path)
            return
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError) as exc:
            raise _Refused(f"{source.name} is not a zip file ({exc})") from None
        infos = [info for info in self._zip.infolist() if not info.is_dir()]
        roots = {info.filename.partition("/")[0] for info in infos}
        if len(roots) != 1 or any("/" not in info.filename for info in infos):
            raise _Refused("the zip does not hold one package folder")
        for info in infos:
            self._add(info.filename.partition("/")[2], info)

    def _add(self, name: str, member: Any) -> None:
        if len(self.members) >= MAX_FILES:
            raise _Refused(f"the archive holds more than {MAX_FILES} files")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or name in self.members:
            raise _Refused(f"the archive names a file {name[:80]!r} twice or outside itself")
        self.members[name] = member

    def __exit__(self, *exc: object) -> None:
        if self._zip is not None:
            self._zip.close()

    def open(self, name: str) -> IO[bytes]:
        member = self.members.get(name)
        if member is None:
            raise _Refused(f"{name} is missing")
        if self._zip is not None:
            return self._zip.open(member)
        assert isinstance(member, Path)
        return member.open("rb")

    def read(self, name: str, limit: int) -> bytes:
        """A small file whole: refused when longer than `limit`."""
        with self.open(name) as stream:
            data = stream.read(limit + 1)
        if len(data) > limit:
            raise _Refused(f"{name} is larger than {limit} bytes")
        return data

    def sha256(self, name: str) -> str:
        digest = hashlib.sha256()
        with self.open(name) as stream:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


def read_archive(source: Path) -> Archive:
    """The archive at `source` (a folder or a zip), to verify; refused in one line when it is
    neither (ValueError)."""
    try:
        return Archive(source)
    except _Refused as refused:
        raise ValueError(str(refused)) from None


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


def verify_archive(archive: Archive, public_key: PublicKey | None = None) -> ArchiveVerification:
    """Check an archive from its files alone (the README's list); the first failure is the answer."""
    try:
        return _Check(archive).run(public_key)
    except _Refused as refused:
        return ArchiveVerification(0, 0, 0, 0, str(refused))
    except (
        KeyError,
        IndexError,
        ValueError,  # JSON, dates, UTF-8
        TypeError,
        AttributeError,
        RecursionError,
        csv.Error,
        zipfile.BadZipFile,  # a member's CRC or length does not hold
        OSError,
    ) as exc:
        said = " ".join(str(exc).split())[:200]
        return ArchiveVerification(
            0, 0, 0, 0, f"the archive is incomplete or malformed: {type(exc).__name__} {said}"
        )


_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


def parse(data: bytes, what: str) -> Any:
    """JSON no deeper than MAX_DEPTH, counted before parsing (the parser recurses)."""
    depth = 0
    for char in _STRING.sub(b"", data).translate(None, _NOT_BRACKETS):
        depth += 1 if char in b"[{" else -1
        if depth > MAX_DEPTH:
            raise _Refused(f"{what} is nested deeper than {MAX_DEPTH} levels")
    return json.loads(data)


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Refused(f"{what} is not a JSON object")
    return value


def elements(archive: Archive, name: str) -> Iterator[Any]:
    """The elements of a JSON list written one per line (layout.json_lines), a line at a time."""
    with archive.open(name) as stream:
        if stream.readline(8) != b"[\n":
            raise _Refused(f"{name} is not a JSON list written one element per line")
        number = 1
        last = False
        while line := stream.readline(MAX_LINE + 1):
            number += 1
            if len(line) > MAX_LINE:
                raise _Refused(f"{name}: line {number} is longer than {MAX_LINE} bytes")
            if line == b"]\n":
                if stream.read(1):
                    raise _Refused(f"{name} goes on after its end")
                return
            if last:
                raise _Refused(f"{name}: line {number} follows the list's last element")
            body = line.removesuffix(b"\n")
            last = not body.endswith(b",")
            yield parse(body.removesuffix(b","), f"{name} line {number}")
    raise _Refused(f"{name} ends before its list does")


class _Check:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.events = derived.Fold()  # what the events read so far say the records hold

    def run(self, public_key: PublicKey | None) -> ArchiveVerification:
        manifest, key = self._manifest(public_key)
        wanted = self._checkpoints(key)
        events, last = self._events(wanted)
        self._export_checkpoint(manifest, key, last)
        head = _mapping(parse(self.archive.read(layout.HEAD, MAX_DOCUMENT), layout.HEAD), layout.HEAD)
        if (head.get("seq"), head.get("hash")) != last:
            raise _Refused(f"events after {last[0]} are missing (the chain ended at {head.get('seq')})")
        digests = manifest["files"]
        for table in TABLES:
            rows = [
                _mapping(row, layout.table_json(table.name))
                for row in elements(self.archive, layout.table_json(table.name))
            ]
            for row in rows:
                if set(row) != set(table.columns):
                    raise _Refused(f"{layout.table_json(table.name)}: row {row.get('id')} has other columns")
            if table.name in RECORD_KINDS:
                self._compare(table.name, rows)
            if hashlib.sha256(csv_of(table, rows)).hexdigest() != digests.get(layout.table_csv(table.name)):
                raise _Refused(
                    f"{layout.table_csv(table.name)} does not say what {layout.table_json(table.name)} says"
                )
        reports = self._issued_reports(digests)
        return ArchiveVerification(events, len(wanted), max(wanted, default=0), reports)

    def _compare(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Refused at the first way `table`'s rows differ from what the signed events say."""
        problems = derived.compare(self.events.expected, {RECORD_KINDS[table]: rows})
        if problems:
            raise _Refused(f"{table}: {problems[0].subject}: {problems[0].detail}")

    def _manifest(self, public_key: PublicKey | None) -> tuple[dict[str, Any], PublicKey]:
        """The manifest, once its signature holds and every file has its SHA-256."""
        if layout.MANIFEST not in self.archive.members:
            raise _Refused(f"no {layout.MANIFEST}: this is not a planflow archive package")
        data = self.archive.read(layout.MANIFEST, MAX_DOCUMENT)
        manifest = _mapping(parse(data, layout.MANIFEST), layout.MANIFEST)
        if manifest.get("format") != layout.FORMAT:
            raise _Refused(f"unknown archive format {str(manifest.get('format'))[:80]!r}")
        key = public_key or read_public_key(self.archive.read(layout.PUBLIC_KEY, MAX_KEY), layout.PUBLIC_KEY)
        if not key.verifies(data, self.archive.read(layout.SIGNATURE, 64)):
            raise _Refused(f"the manifest's signature does not hold with key {key.key_id[:16]}")
        files = _mapping(manifest.get("files"), "the manifest's files")
        for path, digest in files.items():
            if path not in self.archive.members:
                raise _Refused(f"{path} is missing")
            if self.archive.sha256(path) != digest:
                raise _Refused(f"{path} does not match its SHA-256 in the manifest")
        extra = sorted(set(self.archive.members) - set(files) - layout.UNLISTED)
        if extra:
            raise _Refused(f"{extra[0]} is not in the manifest")
        return manifest, key

    def _checkpoints(self, key: PublicKey) -> dict[int, str]:
        """Each signed checkpoint's hash by its event, once its signature holds with `key`."""
        wanted: dict[int, str] = {}
        for checkpoint in elements(self.archive, layout.CHECKPOINTS):
            seq, hash_ = _signed_checkpoint(_mapping(checkpoint, layout.CHECKPOINTS), key)
            wanted[seq] = hash_
        return wanted

    def _events(self, wanted: dict[int, str]) -> tuple[int, tuple[int, str]]:
        """How many events there are and the last (seq, hash), once each follows the one before,
        hashes to what it says and agrees with any checkpoint naming it; each is folded into what
        the tables must say, and the events' CSV is checked against them on the way."""
        previous, count = GENESIS, 0
        header = event_csv([])
        written = hashlib.sha256(header)
        for event in elements(self.archive, layout.EVENTS):
            event = _mapping(event, layout.EVENTS)
            count += 1
            seq = event["seq"]
            if seq != count:
                raise _Refused(f"event {count} is missing (next is {seq})")
            if event["prev_hash"] != previous:
                raise _Refused(f"event {seq} does not follow event {seq - 1}")
            fields = {k: event[k] for k in EVENT_COLUMNS if k != "hash"}
            datetime.fromisoformat(fields["occurred_at"])
            if fields_hash(fields) != event["hash"]:
                raise _Refused(f"event {seq} was changed after it was written")
            if wanted.get(seq, event["hash"]) != event["hash"]:
                raise _Refused(f"event {seq} does not match its signed checkpoint")
            previous = event["hash"]
            self.events.observe(event)
            written.update(event_csv([event])[len(header) :])
        cut = [seq for seq in wanted if seq > count]
        if cut:
            raise _Refused(
                f"event {min(cut)} is gone, yet a checkpoint anchors it: events after {count} were cut off"
            )
        csv_path = layout.DATA + "audit/events.csv"
        if written.hexdigest() != self.archive.sha256(csv_path):
            raise _Refused(f"{csv_path} does not say what {layout.EVENTS} says")
        return count, (count, previous)

    def _export_checkpoint(self, manifest: dict[str, Any], key: PublicKey, last: tuple[int, str]) -> None:
        """The checkpoint signed at export names the chain's last event: no tail was dropped."""
        seq, hash_ = _signed_checkpoint(_mapping(manifest.get("checkpoint"), "the export checkpoint"), key)
        if (seq, hash_) != last:
            raise _Refused(
                f"the export was signed at event {seq}, but the archive's chain ends at event {last[0]}"
            )

    def _issued_reports(self, digests: dict[str, str]) -> int:
        """How many reports were issued, once each agrees with its report.issued event and its
        files and content have the SHA-256 that event recorded."""
        reports = []
        for report in elements(self.archive, layout.ISSUED):
            report = _mapping(report, layout.ISSUED)
            if set(report) != set(ISSUED_COLUMNS):
                raise _Refused(f"{layout.ISSUED}: report {report.get('id')} has other fields")
            for fmt, entry in _mapping(report["files"], layout.ISSUED).items():
                if digests.get(layout.DATA + entry["path"]) != entry["sha256"]:
                    raise _Refused(f"issued report {report['id']} ({fmt}) was changed")
            content = json.dumps(report["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            if hashlib.sha256(content.encode("utf-8")).hexdigest() != report["content_sha256"]:
                raise _Refused(f"issued report {report['id']}'s content was changed")
            # as its event holds it: each file by its SHA-256
            reports.append(
                {**report, "files": {fmt: entry["sha256"] for fmt, entry in report["files"].items()}}
            )
        self._compare("issued_reports", reports)
        return len(reports)


def _signed_checkpoint(checkpoint: dict[str, Any], key: PublicKey) -> tuple[int, str]:
    seq, hash_ = checkpoint["seq"], checkpoint["hash"]
    if checkpoint["key_id"] != key.key_id:
        raise _Refused(f"the checkpoint at event {seq} was signed by another key")
    signature = base64.b64decode(checkpoint["signature"], validate=True)
    made_at = datetime.fromisoformat(checkpoint["made_at"])
    if not key.verifies(checkpoints.message(seq, hash_, made_at), signature):
        raise _Refused(f"the checkpoint at event {seq} has no valid signature")
    return seq, hash_
