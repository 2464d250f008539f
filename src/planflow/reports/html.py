"""Reports as HTML: a standalone page that prints well (the same partials the web pages show)."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .. import i18n, resources
from ..services.reports import AnnualReportContent, Content, Issue
from . import FORMATS, charts, title, when

# The one stylesheet of reports: pages link it, a downloaded document carries it inline.
REPORT_CSS = Path(__file__).resolve().parents[1] / "static" / "reports.css"


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(resources.folder("templates"))),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def context(content: Content, language: str, issue: Issue | None) -> dict[str, Any]:
    """What the report partials need, for this renderer and for the web pages alike."""
    extra: dict[str, Any] = {}
    if isinstance(content, AnnualReportContent):
        extra["charts"] = {
            name: base64.b64encode(png).decode("ascii")
            for name, png in charts.annual(content, language).items()
        }
        extra["period_rows"] = [(p.period, p.counts) for p in content.periods]
    return {
        "r": content,
        "issue": issue,
        "when": when,
        "report_language": language,
        "title": title(content, language),
        "body": f"reports/_{content.kind}.html",
        "formats": FORMATS[content.kind],
        "count_rows": [
            (i18n.text(language, "report.focus_area_short", {"number": a.number}), a.counts)
            for a in content.areas
        ],
        **extra,
    }


def render(content: Content, language: str, issue: Issue | None = None) -> bytes:
    def t(key: str, **params: Any) -> str:
        return i18n.text(language, key, params)

    template = _environment().get_template("reports/document.html")
    css = REPORT_CSS.read_text(encoding="utf-8")
    return template.render(t=t, report_css=css, **context(content, language, issue)).encode("utf-8")
