"""Reports as PDF with fpdf2, which installs from PyPI alone; the font is the DejaVu Sans shipped in
planflow/reports/fonts (Swedish letters, typographic dashes). A4, the municipality's header on
every page, page numbers as "Sida 2 (5)", and the issue (or "working copy") in the footer."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode

from .. import i18n
from ..services.reports import COUNT_KEYS, AnnualReportContent, Content, DeviationLine, Issue, SteeringReport
from . import charts, fonts, title, when

FONT = "DejaVu"
BLUE = (0, 59, 92)
GREY = (85, 85, 85)
TINTS = {
    "green": (223, 240, 226),
    "yellow": (253, 243, 208),
    "red": (248, 220, 219),
    "unreported": (255, 255, 255),
}
HEAD = FontFace(emphasis="BOLD", fill_color=(238, 242, 245))


class _Document(FPDF):
    def __init__(self, language: str, heading: str, organisation: str, footer: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.language, self.heading, self.organisation, self.footer_text = (
            language,
            heading,
            organisation,
            footer,
        )
        self.add_font(FONT, "", str(fonts.REGULAR))
        self.add_font(FONT, "B", str(fonts.BOLD))
        self.set_margins(20, 22, 20)
        self.set_auto_page_break(True, margin=20)
        self.set_font(FONT, size=10)

    def header(self) -> None:
        self.set_font(FONT, size=8)
        self.set_text_color(*GREY)
        self.set_xy(20, 10)
        self.cell(85, 5, self.organisation)
        self.cell(0, 5, self.heading, align="R")
        self.set_draw_color(*BLUE)
        self.set_line_width(0.4)
        self.line(20, 16, 190, 16)
        self.set_text_color(0, 0, 0)
        self.set_y(22)
        self.set_font(FONT, size=10)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, size=7.5)
        self.set_text_color(*GREY)
        self.cell(140, 5, self.footer_text)
        page = i18n.text(self.language, "report.page", {"page": self.page_no(), "pages": "{nb}"})
        self.cell(0, 5, page, align="R")
        self.set_text_color(0, 0, 0)


class _Writer:
    def __init__(self, content: Content, language: str, issue: Issue | None) -> None:
        self.language = language
        footer = (
            i18n.text(
                language,
                "report.issued",
                {"at": when(issue.issued_at), "by": issue.issued_by, "number": issue.number},
            )
            if issue
            else i18n.text(language, "report.draft", {"at": when(content.generated_at)})
        )
        self.pdf = _Document(language, title(content, language), content.plan.organisation, footer)
        self.pdf.set_creation_date(issue.issued_at if issue else content.generated_at)
        self.pdf.set_title(title(content, language))
        self.pdf.set_author(content.plan.organisation)
        self.pdf.set_subject(content.plan.title)
        self.pdf.set_creator("planflow")
        self.pdf.set_lang(language)
        self.pdf.add_page()

    def t(self, key: str, **params: Any) -> str:
        return i18n.text(self.language, key, params)

    def h1(self, text: str) -> None:
        self.pdf.set_font(FONT, "B", 18)
        self.pdf.set_text_color(*BLUE)
        self.pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_font(FONT, size=10)

    def h2(self, text: str, keep: float = 30) -> None:
        """A section heading, kept with the `keep` millimetres that follow it (a chart needs more)."""
        if self.pdf.will_page_break(keep):
            self.pdf.add_page()
        self.pdf.ln(4)
        self.pdf.set_font(FONT, "B", 13)
        self.pdf.set_text_color(*BLUE)
        self.pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        y = self.pdf.get_y()
        self.pdf.line(20, y, 190, y)
        self.pdf.ln(2)
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_font(FONT, size=10)

    def h3(self, text: str) -> None:
        if self.pdf.will_page_break(22):
            self.pdf.add_page()
        self.pdf.ln(2)
        self.pdf.set_font(FONT, "B", 10.5)
        self.pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(FONT, size=10)

    def para(self, text: str, size: float = 10, grey: bool = False) -> None:
        self.pdf.set_font(FONT, size=size)
        if grey:
            self.pdf.set_text_color(*GREY)
        self.pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.set_font(FONT, size=10)
        self.pdf.ln(1.5)

    def issue_box(self, issue: Issue | None, content: Content) -> None:
        self.pdf.set_draw_color(*BLUE)
        self.pdf.set_line_width(0.3)
        self.pdf.set_font(FONT, size=8.5)
        if issue:
            lines = [
                self.t("report.issued", at=when(issue.issued_at), by=issue.issued_by, number=issue.number),
                self.t("report.anchor", seq=issue.checkpoint_seq, hash=issue.checkpoint_hash),
                self.t("report.anchor_hint"),
            ]
        else:
            lines = [self.t("report.draft", at=when(content.generated_at))]
        self.pdf.multi_cell(0, 4.5, "\n".join(lines), border=1, padding=2, new_x="LMARGIN", new_y="NEXT")
        self.pdf.set_font(FONT, size=10)
        self.pdf.ln(3)

    def table(
        self, widths: Sequence[float], head: Sequence[str], rows: Sequence[Sequence[str | tuple[str, str]]]
    ) -> None:
        """A table; a cell given as (status key, word) is a status cell: tinted, in bold, in words."""
        self.pdf.set_font(FONT, size=8.5)
        with self.pdf.table(
            col_widths=widths,
            headings_style=HEAD,
            line_height=4.4,
            text_align="LEFT",
            padding=1.2,
            cell_fill_mode=TableCellFillMode.NONE,
            repeat_headings=1,
        ) as table:
            heading = table.row()
            for cell in head:
                heading.cell(cell)
            for values in rows:
                row = table.row()
                for value in values:
                    if isinstance(value, tuple):
                        key, word = value
                        row.cell(word, style=FontFace(emphasis="BOLD", fill_color=TINTS[key]))
                    else:
                        row.cell(value)
        self.pdf.set_font(FONT, size=10)
        self.pdf.ln(2)

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
        self.table((40, 24, 24, 24, 34, 24), head, body)

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
        self.table((40, 16, 36, 38, 40), head, rows)

    def image(self, png: bytes, alt: str) -> None:
        if self.pdf.will_page_break(80):
            self.pdf.add_page()
        self.pdf.image(io.BytesIO(png), w=170, alt_text=alt)
        self.pdf.ln(2)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def render(content: Content, language: str, issue: Issue | None = None) -> bytes:
    writer = _Writer(content, language, issue)
    if isinstance(content, AnnualReportContent):
        _annual(writer, content, issue)
    else:
        _steering(writer, content, issue)
    return writer.output()


def _area_rows(w: _Writer, content: Content) -> list[tuple[str, dict[str, int]]]:
    return [(w.t("report.focus_area_short", number=a.number), a.counts) for a in content.areas]


def _steering(w: _Writer, r: SteeringReport, issue: Issue | None) -> None:
    w.para(f"{r.plan.organisation} · {r.plan.title}", 9, grey=True)
    w.h1(w.t("report.steering.title"))
    w.para(w.t("report.period", period=r.period, first=r.first_day, last=r.last_day), 11)
    w.issue_box(issue, r)

    w.h2(w.t("report.section.status"))
    previous = (
        w.t("report.previous", period=r.previous_period) if r.previous_period else w.t("report.no_previous")
    )
    totals = w.t("report.totals", total=sum(r.totals.values()), **r.totals)
    w.para(f"{totals} {previous} {w.t('report.status_note')}")
    w.counts(_area_rows(w, r), r.totals)
    for area in r.areas:
        w.h3(w.t("report.focus_area", number=area.number, title=area.title))
        if area.summary:
            w.para(area.summary)
        if not area.activities:
            w.para(w.t("report.no_activities"), grey=True)
            continue
        rows: list[list[str | tuple[str, str]]] = []
        for a in area.activities:
            change = w.t(f"report.change.{a.change}")
            if a.previous and a.change != "unchanged":
                change += f"\n({w.t('report.col.previous')}: {w.t(f'status.{a.previous}')})"
            name = a.title + (f" ({w.t('report.closed')})" if a.closed else "")
            rows.append([a.code, name, a.owner or "–", w.status(a.status), change, a.comment or ""])
        head = [w.t(f"report.col.{c}") for c in ("code", "activity", "owner", "status", "change", "comment")]
        w.table((12, 58, 28, 20, 24, 28), head, rows)

    w.h2(w.t("report.section.deviations"))
    w.deviations(r.deviations)

    w.h2(w.t("report.section.dialogue"))
    if r.dialogue is None:
        w.para(w.t("report.no_dialogue"))
    else:
        if r.dialogue.held_on:
            w.para(
                f"{w.t('report.dialogue.forums')}: {', '.join(r.dialogue.forums)} · "
                f"{w.t('report.dialogue.held_on')}: {r.dialogue.held_on}"
            )
            w.h3(w.t("report.dialogue.heard"))
            w.para(r.dialogue.heard or "")
            if r.dialogue.ideas:
                w.h3(w.t("report.dialogue.ideas"))
                w.para(r.dialogue.ideas)
        else:
            w.para(w.t("report.dialogue.not_recorded"))
        if r.dialogue.feedback:
            w.h3(w.t("report.dialogue.feedback"))
            for f in r.dialogue.feedback:
                w.para(f"• {f.text} – {f.author}, {f.given_on}")

    w.h2(w.t("report.section.proposals"))
    if r.proposals:
        rows = [
            [
                (p.title or "–") + (f"\n{p.why}" if p.why else ""),
                p.intervention_area or str(p.focus_area),
                p.proposed_by,
                w.t(f"report.proposal_state.{p.state}", code=p.activity_code)
                + (f"\n{p.rationale}" if p.rationale else ""),
            ]
            for p in r.proposals
        ]
        head = [w.t(f"report.col.{c}") for c in ("proposal", "focus_area", "proposed_by", "state")]
        w.table((70, 22, 34, 44), head, rows)
    else:
        w.para(w.t("report.no_proposals"))

    w.h2(w.t("report.section.meeting"))
    if r.meeting_notes:
        w.h3(w.t("report.meeting.notes"))
        w.para(r.meeting_notes)
        if r.priorities:
            w.h3(w.t("report.meeting.priorities"))
            w.para(r.priorities)
    else:
        w.para(w.t("report.no_meeting"))


def _annual(w: _Writer, r: AnnualReportContent, issue: Issue | None) -> None:
    w.para(f"{r.plan.organisation} · {r.plan.title}", 9, grey=True)
    w.h1(w.t("report.annual.title", year=r.year))
    w.para(w.t("report.annual.intro", plan=r.plan.title, year=r.year))
    w.issue_box(issue, r)

    w.h2(w.t("report.section.summary"))
    w.para(r.summary or w.t("report.annual.no_summary"))
    totals = w.t("report.totals", total=sum(r.totals.values()), **r.totals)
    w.para(f"{totals} {w.t('report.annual.decisions', count=r.decisions)}")

    pictures = charts.annual(r, w.language)
    w.h2(w.t("report.section.overview"), keep=100)
    w.para(f"{w.t('report.annual.year_status')} {w.t('report.status_note')}")
    w.image(pictures["areas"], w.t("report.chart.areas"))
    w.counts(_area_rows(w, r), r.totals)

    w.h2(w.t("report.section.periods"), keep=100 if r.periods else 30)
    if r.periods:
        w.image(pictures["periods"], w.t("report.chart.periods"))
        w.counts([(p.period, p.counts) for p in r.periods], None, "period")
    else:
        w.para(w.t("report.no_periods"))

    w.h2(w.t("report.section.deviations"))
    w.deviations(r.deviations)

    w.h2(w.t("report.section.completed"))
    if r.completed:
        head = [w.t(f"report.col.{c}") for c in ("code", "activity", "how", "date", "status")]
        rows: list[list[str | tuple[str, str]]] = [
            [c.code, c.title, w.t(f"report.completed.{c.how}"), str(c.on or "–"), w.status(c.status)]
            for c in r.completed
        ]
        w.table((14, 70, 40, 24, 22), head, rows)
    else:
        w.para(w.t("report.no_completed"))

    w.h2(w.t("report.section.new"))
    if r.new_activities:
        head = [w.t(f"report.col.{c}") for c in ("code", "activity", "owner", "decision")]
        rows = [[n.code, n.title, n.owner or "–", f"{n.decided_on}\n{n.rationale}"] for n in r.new_activities]
        w.table((14, 76, 36, 44), head, rows)
    else:
        w.para(w.t("report.no_new"))

    w.h2(w.t("report.section.activities"))
    for area in r.areas:
        w.h3(w.t("report.focus_area", number=area.number, title=area.title))
        head = [w.t(f"report.col.{c}") for c in ("code", "activity", "owner", "status")]
        rows = [
            [
                a.code,
                a.title + (f" ({w.t('report.closed')})" if a.closed else ""),
                a.owner or "–",
                w.status(a.status),
            ]
            for a in area.activities
        ]
        w.table((14, 100, 34, 22), head, rows)
