"""Where things are in an archive package: the E-ARK CSIP layout that FGS Paketstruktur 2.0 takes
(METS.xml at the root; metadata/, representations/rep1/data/, schemas/, documentation/), and the
one way its list files are written and read (a JSON array with one element per line)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FORMAT = "planflow archive v2"
METS = "METS.xml"
MANIFEST = "metadata/preservation/manifest.json"
SIGNATURE = "metadata/preservation/manifest.sig"  # raw Ed25519 over manifest.json's bytes
PUBLIC_KEY = "metadata/preservation/public_key.pem"
DESCRIPTION = "metadata/descriptive/description.json"
README = "documentation/README.md"
DATA = "representations/rep1/data/"
EVENTS = DATA + "audit/events.json"
HEAD = DATA + "audit/head.json"
CHECKPOINTS = DATA + "audit/checkpoints.json"
ISSUED = DATA + "issued_reports.json"
PLANS = DATA + "plans.json"
SCHEMAS = "schemas/"
# The package's schemas, vendored with their sources and licences (schemas/SOURCES.md).
SCHEMA_FILES = ("mets.xsd", "xlink.xsd", "DILCISExtensionMETS.xsd")
SCHEMA_SOURCE = Path(__file__).resolve().parent / "schemas"
# Not in the manifest: the manifest itself and its signature.
UNLISTED = frozenset({MANIFEST, SIGNATURE})


def table_json(name: str) -> str:
    return f"{DATA}{name}.json"


def table_csv(name: str) -> str:
    return f"{DATA}{name}.csv"


def json_bytes(data: Any) -> bytes:
    """One JSON document (the manifest, the head): sorted keys, UTF-8, indented for a reader."""
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    return (text + "\n").encode("utf-8")


def json_lines(elements: Iterable[Any]) -> bytes:
    """A JSON array written one element per line: any JSON reader reads it whole, and verify reads
    it a line at a time, so its memory is bounded by the longest element, not the file."""
    lines = [json.dumps(e, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for e in elements]
    if not lines:
        return b"[\n]\n"
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode("utf-8")
