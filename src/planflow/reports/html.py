"""A document as HTML: a standalone page that prints well, carrying its stylesheet and charts. The
web pages show the same document through the same partial (templates/reports/_document.html),
which lays out any document block by block."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .. import resources
from ..documents.model import Chart, Document
from . import chart

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


def chart_source(figure: Chart) -> str:
    """The chart as a data: URL, so that the page needs no other file."""
    return "data:image/png;base64," + base64.b64encode(chart.png(figure)).decode("ascii")


def context(document: Document) -> dict[str, Any]:
    """What templates/reports/_document.html needs, for this writer and for the web pages alike."""
    return {"document": document, "chart_source": chart_source, "title": document.title}


def write(document: Document) -> bytes:
    """The document as a standalone HTML page (UTF-8)."""
    template = _environment().get_template("reports/document.html")
    css = REPORT_CSS.read_text(encoding="utf-8")
    return template.render(report_css=css, **context(document)).encode("utf-8")
