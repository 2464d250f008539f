"""Renderers of the reports: the read models of planflow.services.reports as HTML, PDF and Word.
They take the content, the reader's language and, for an issued report, its issue; they never
query, so what is rendered is exactly what was read (and, once issued, frozen)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..i18n import text
from ..services.reports import AnnualReportContent, Content, Issue

# The documents' times are the municipality's local time.
LOCAL = ZoneInfo("Europe/Stockholm")
FORMATS: dict[str, tuple[str, ...]] = {"steering": ("html", "pdf"), "annual": ("docx", "html", "pdf")}
MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(content: Content, fmt: str, language: str, issue: Issue | None = None) -> bytes:
    """The content as a document in `fmt` (one of FORMATS[content.kind])."""
    if fmt not in FORMATS[content.kind]:
        raise ValueError(f"{content.kind} does not come as {fmt}")
    if fmt == "html":
        from . import html

        return html.render(content, language, issue)
    if fmt == "pdf":
        from . import pdf

        return pdf.render(content, language, issue)
    from . import docx

    assert isinstance(content, AnnualReportContent)
    return docx.render(content, language, issue)


def when(moment: datetime) -> str:
    """A time as the documents show it: local, to the minute."""
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


def title(content: Content, language: str) -> str:
    if isinstance(content, AnnualReportContent):
        return text(language, "report.annual.title", {"year": content.year})
    return f"{text(language, 'report.steering.title')} {content.period}"


def file_name(content: Content, fmt: str, number: int | None = None) -> str:
    suffix = f"-{number}" if number else ""
    return f"{content.plan.slug}-{content.kind}-{content.subject}{suffix}.{fmt}"
