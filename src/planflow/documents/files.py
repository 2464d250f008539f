"""The files a report comes as: the formats of each kind, their media types and their names. The
services check a requested format and store an issue's files by these; the writers in
planflow.reports make them."""

from __future__ import annotations

FORMATS: dict[str, tuple[str, ...]] = {"steering": ("docx", "html", "pdf"), "annual": ("docx", "html", "pdf")}
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def file_name(plan_slug: str, kind: str, subject: str, fmt: str, number: int | None = None) -> str:
    """`sodertalje-2016-steering-2026-Q4.pdf`; an issued report's number before the extension."""
    suffix = f"-{number}" if number else ""
    return f"{plan_slug}-{kind}-{subject}{suffix}.{fmt}"
