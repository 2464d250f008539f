"""The annual report as a Word document (python-docx) the board secretary can edit. Built on the
shipped template reports/templates/annual_report.docx: its styles (fonts, headings, tables), page
set-up, header and footer are the municipality's to change in Word; planflow only adds the content."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentType
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm
from docx.table import _Cell

from .. import i18n
from ..services.reports import COUNT_KEYS, AnnualReportContent, DeviationLine, Issue
from . import LOCAL, charts, title, when

TEMPLATE = Path(__file__).resolve().parent / "templates" / "annual_report.docx"
TINTS = {"green": "DFF0E2", "yellow": "FDF3D0", "red": "F8DCDB", "unreported": "FFFFFF"}


def render(
    content: AnnualReportContent, language: str, issue: Issue | None = None, template: Path | None = None
) -> bytes:
    document = Document(str(template or TEMPLATE))
    writer = _Writer(document, language)
    writer.annual(content, issue)
    moment = (issue.issued_at if issue else content.generated_at).astimezone(LOCAL).replace(tzinfo=None)
    properties = document.core_properties
    properties.title = title(content, language)
    properties.subject = content.plan.title
    properties.author = properties.last_modified_by = content.plan.organisation
    properties.created = properties.modified = moment
    properties.revision = issue.number if issue else 1
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


class _Writer:
    def __init__(self, document: DocumentType, language: str) -> None:
        self.doc, self.language = document, language

    def t(self, key: str, **params: Any) -> str:
        return i18n.text(self.language, key, params)

    def para(self, text: str, style: str | None = None) -> None:
        self.doc.add_paragraph(text, style=style)

    def table(
        self, head: Sequence[str], rows: Sequence[Sequence[str | tuple[str, str]]], widths: Sequence[float]
    ) -> None:
        table = self.doc.add_table(rows=1, cols=len(head))
        table.style = self.doc.styles["Table Grid"]
        for cell, text in zip(table.rows[0].cells, head, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
            _shade(cell, "EEF2F5")
        _repeat_header(table.rows[0])
        for values in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, values, strict=True):
                if isinstance(value, tuple):  # a status: in words, bold, tinted
                    key, word = value
                    cell.paragraphs[0].add_run(word).bold = True
                    _shade(cell, TINTS[key])
                else:
                    cell.text = value
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Cm(width)
        self.doc.add_paragraph()

    def status(self, key: str | None) -> tuple[str, str]:
        k = key or "unreported"
        return k, self.t(f"status.{k}")

    def counts(
        self,
        rows: Sequence[tuple[str, dict[str, int]]],
        totals: dict[str, int] | None,
        first: str = "focus_area",
    ) -> None:
        head = [
            self.t(f"report.col.{first}"),
            *(self.t(f"status.{k}") for k in COUNT_KEYS),
            self.t("report.col.total"),
        ]
        body: list[list[str | tuple[str, str]]] = [
            [label, *(str(c[k]) for k in COUNT_KEYS), str(sum(c.values()))] for label, c in rows
        ]
        if totals:
            body.append(
                [self.t("report.col.total"), *(str(totals[k]) for k in COUNT_KEYS), str(sum(totals.values()))]
            )
        self.table(head, body, (3.6, 2.2, 2.2, 2.2, 3.2, 2.2))

    def deviations(self, deviations: Sequence[DeviationLine]) -> None:
        if not deviations:
            self.para(self.t("report.no_deviations"))
            return
        rows: list[list[str | tuple[str, str]]] = []
        for d in deviations:
            decision = (
                self.t(
                    "report.decided",
                    decision=self.t(f"decision.{d.decision}"),
                    on=d.decided_on,
                    by=d.decided_by,
                )
                + f"\n{d.rationale}"
                if d.decision
                else self.t("report.no_decision") + "\n" + self.t(f"report.deviation_state.{d.state}")
            )
            cause = d.cause + (f"\n{self.t('report.escalated')}" if d.escalated else "")
            where = f"{d.activity_code} {d.activity_title}" + (f"\n{d.period}" if d.period else "")
            rows.append([where, self.status(d.level), cause, d.recommendation or "–", decision])
        head = [
            self.t(f"report.col.{c}") for c in ("activity", "level", "cause", "recommendation", "decision")
        ]
        self.table(head, rows, (3.6, 1.8, 3.4, 3.4, 3.8))

    def picture(self, png: bytes) -> None:
        self.doc.add_picture(io.BytesIO(png), width=Cm(16))

    def annual(self, r: AnnualReportContent, issue: Issue | None) -> None:
        t = self.t
        self.para(f"{r.plan.organisation} · {r.plan.title}")
        self.doc.add_heading(t("report.annual.title", year=r.year), level=0)
        self.para(t("report.annual.intro", plan=r.plan.title, year=r.year))
        if issue:
            self.para(t("report.issued", at=when(issue.issued_at), by=issue.issued_by, number=issue.number))
            self.para(t("report.anchor", seq=issue.checkpoint_seq, hash=issue.checkpoint_hash))
            self.para(t("report.anchor_hint"))
        else:
            self.para(t("report.draft", at=when(r.generated_at)))

        self.doc.add_heading(t("report.section.summary"), level=1)
        self.para(r.summary or t("report.annual.no_summary"))
        totals = t("report.totals", total=sum(r.totals.values()), **r.totals)
        self.para(f"{totals} {t('report.annual.decisions', count=r.decisions)}")

        pictures = charts.annual(r, self.language)
        self.doc.add_heading(t("report.section.overview"), level=1)
        self.para(f"{t('report.annual.year_status')} {t('report.status_note')}")
        self.picture(pictures["areas"])
        self.counts([(t("report.focus_area_short", number=a.number), a.counts) for a in r.areas], r.totals)

        self.doc.add_heading(t("report.section.periods"), level=1)
        if r.periods:
            self.picture(pictures["periods"])
            self.counts([(p.period, p.counts) for p in r.periods], None, "period")
        else:
            self.para(t("report.no_periods"))

        self.doc.add_heading(t("report.section.deviations"), level=1)
        self.deviations(r.deviations)

        self.doc.add_heading(t("report.section.completed"), level=1)
        if r.completed:
            head = [t(f"report.col.{c}") for c in ("code", "activity", "how", "date", "status")]
            rows: list[list[str | tuple[str, str]]] = [
                [c.code, c.title, t(f"report.completed.{c.how}"), str(c.on or "–"), self.status(c.status)]
                for c in r.completed
            ]
            self.table(head, rows, (1.6, 7.0, 3.6, 2.2, 1.6))
        else:
            self.para(t("report.no_completed"))

        self.doc.add_heading(t("report.section.new"), level=1)
        if r.new_activities:
            head = [t(f"report.col.{c}") for c in ("code", "activity", "owner", "decision")]
            rows = [
                [n.code, n.title, n.owner or "–", f"{n.decided_on}\n{n.rationale}"] for n in r.new_activities
            ]
            self.table(head, rows, (1.6, 7.4, 3.4, 3.6))
        else:
            self.para(t("report.no_new"))

        self.doc.add_heading(t("report.section.activities"), level=1)
        for area in r.areas:
            self.doc.add_heading(t("report.focus_area", number=area.number, title=area.title), level=2)
            head = [t(f"report.col.{c}") for c in ("code", "activity", "owner", "status")]
            rows = [
                [
                    a.code,
                    a.title + (f" ({t('report.closed')})" if a.closed else ""),
                    a.owner or "–",
                    self.status(a.status),
                ]
                for a in area.activities
            ]
            self.table(head, rows, (1.6, 9.4, 3.4, 1.6))


def _shade(cell: _Cell, fill: str) -> None:
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def _repeat_header(row: Any) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)
