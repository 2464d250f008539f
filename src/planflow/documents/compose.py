"""A report's content as a document, worded once in the reader's language: one composer per kind
of report (the steering group's, the board's). The writers in planflow.reports lay the document
out as PDF, Word and HTML and add no words of their own beyond the page furniture."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from .. import clock
from ..i18n import PLAN_LANGUAGE, text, word
from .content import (
    COUNT_KEYS,
    AnnualReportContent,
    AreaLines,
    Content,
    DeviationLine,
    Dialogue,
    Issue,
    ProposalLine,
    SteeringReport,
    YearArea,
)
from .model import (
    Block,
    BulletList,
    Cell,
    Chart,
    Column,
    Document,
    Group,
    Paragraph,
    Phrase,
    Quoted,
    Section,
    Series,
    Stamp,
    Status,
    Table,
    Text,
)


def when(moment: datetime) -> str:
    """A time as the documents show it: in the installation's zone, to the minute."""
    return clock.local(moment).strftime("%Y-%m-%d %H:%M")


def title(content: Content, language: str) -> str:
    """The report's name: in metadata, running heads and lists of reports."""
    if isinstance(content, AnnualReportContent):
        return text(language, "report.annual.title", {"year": content.year})
    return f"{text(language, 'report.steering.title')} {content.period}"


def compose(content: Content, language: str, issue: Issue | None = None) -> Document:
    """The report as a document in `language`; `issue` when it is being (or was) issued."""
    if isinstance(content, AnnualReportContent):
        return annual(content, language, issue)
    return steering(content, language, issue)


PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class _Words:
    """The catalog in one language, with the few phrasings every report shares."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, key: str, **params: Any) -> str:
        if any(isinstance(value, Quoted) for value in params.values()):
            return self.phrase(key, params)
        return text(self.language, key, params)

    def phrase(self, key: str, params: Mapping[str, Any]) -> Phrase:
        """The words for `key` with quoted parameters kept apart as the phrase's parts."""
        template, parts, at = text(self.language, key), [], 0
        for match in PLACEHOLDER.finditer(template):
            parts.append(template[at : match.start()])
            value = params.get(match.group(1), match.group(0))
            parts.append(value if isinstance(value, Quoted) else str(word(self.language, value)))
            at = match.end()
        return Phrase(*parts, template[at:])

    def plan(self, words: str) -> Quoted:
        """What the plan says (in Swedish), quoted."""
        return Quoted(words, PLAN_LANGUAGE)

    def status(self, key: str | None) -> Status:
        k = key or "unreported"
        return Status(k, self(f"status.{k}"))

    def columns(self, *names: str) -> tuple[Column, ...]:
        """Columns headed by report.col.<name>."""
        return tuple(Column(self(f"report.col.{name}")) for name in names)

    def rationale(self, rationale: str | None) -> str | None:
        """A decision's rationale, labelled, so that it reads apart from the decision above it."""
        return f"{self('report.col.rationale')}: {rationale}" if rationale else None

    def name(self, title: str, closed: bool) -> str:
        """An activity by its title (the plan's words), "(closed)" after it when it is."""
        return Phrase(self.plan(title), f" ({self('report.closed')})" if closed else "")

    def activity(self, code: str, title: str) -> str:
        return Phrase(f"{code} ", self.plan(title))


def _document(
    t: _Words, content: Content, issue: Issue | None, heading: str, intro: Block, sections: Iterable[Block]
) -> Document:
    stamp = _stamp(t, content, issue)
    return Document(
        kind=content.kind,
        language=t.language,
        title=title(content, t.language),
        heading=heading,
        author=content.plan.organisation,
        subject=content.plan.title,
        created=issue.issued_at if issue else content.generated_at,
        revision=issue.number if issue else 1,
        footer=stamp.lines[0],
        meta=(
            Phrase(t.plan(content.plan.organisation), " · ", t.plan(content.plan.title)),
            *((t("report.case_number", number=content.case_number),) if content.case_number else ()),
        ),
        blocks=(intro, stamp, *sections),
    )


def _stamp(t: _Words, content: Content, issue: Issue | None) -> Stamp:
    if issue is None:
        return Stamp((t("report.draft", at=when(content.generated_at)),), issued=False)
    return Stamp(
        (
            t("report.issued", at=when(issue.issued_at), by=issue.issued_by, number=issue.number),
            t("report.anchor", seq=issue.checkpoint_seq, hash=issue.checkpoint_hash),
            t("report.anchor_hint"),
        ),
        issued=True,
    )


def _section(heading: str, *blocks: Block) -> Section:
    return Section(heading, blocks)


def _counts(
    t: _Words, rows: Sequence[tuple[str, Mapping[str, int]]], totals: Mapping[str, int] | None, first: str
) -> Table:
    """Status counts, a row per focus area or period, with a total row when `totals` is given."""
    columns = (
        Column(t(f"report.col.{first}")),
        *(Column(t(f"status.{k}"), numeric=True) for k in COUNT_KEYS),
        Column(t("report.col.total"), numeric=True),
    )

    def figures(counts: Mapping[str, int]) -> tuple[str, ...]:
        return (*(str(counts[k]) for k in COUNT_KEYS), str(sum(counts.values())))

    body = tuple((label, *figures(counts)) for label, counts in rows)
    total = (t("report.col.total"), *figures(totals)) if totals else None
    return Table(columns, body, total)


def _area_rows(t: _Words, areas: Iterable[AreaLines | YearArea]) -> list[tuple[str, Mapping[str, int]]]:
    return [(t("report.focus_area_short", number=a.number), a.counts) for a in areas]


def _deviations(t: _Words, deviations: Sequence[DeviationLine]) -> Section:
    heading = t("report.section.deviations")
    if not deviations:
        return _section(heading, Paragraph(t("report.no_deviations")))
    rows: list[tuple[Cell, ...]] = []
    for d in deviations:
        if d.left_open and d.decision in (None, "return"):  # the minutes say so: not "returned"
            decision = Text(t("report.left_open"), t(f"report.deviation_state.{d.state}"))
        elif d.decision:
            said = t("report.decided", decision=t(f"decision.{d.decision}"), on=d.decided_on, by=d.decided_by)
            if d.case_number:
                said = f"{said}, {t('report.case_number', number=d.case_number)}"
            decision = Text(said, t.rationale(d.rationale))
        else:
            decision = Text(t("report.no_decision"), t(f"report.deviation_state.{d.state}"))
        rows.append(
            (
                Text(t.activity(d.activity_code, d.activity_title), d.period),
                t.status(d.level),
                d.cause + (f"\n{t('report.escalated')}" if d.escalated else ""),  # not an aside: news
                d.recommendation or "–",
                decision,
            )
        )
    columns = t.columns("activity", "level", "cause", "recommendation", "decision")
    return _section(heading, Table(columns, tuple(rows)))


# The steering group's report for a period.


def steering(r: SteeringReport, language: str, issue: Issue | None = None) -> Document:
    """The status report to the steering group: the period's statuses, deviations, the business
    dialogue, proposals for new activities and the meeting's notes."""
    t = _Words(language)
    intro = Paragraph(t("report.period", period=r.period, first=r.first_day, last=r.last_day), "lead")
    sections = (
        _steering_status(t, r),
        _deviations(t, r.deviations),
        _dialogue(t, r.dialogue),
        _proposals(t, r.proposals),
        _meeting(t, r),
    )
    return _document(t, r, issue, t("report.steering.title"), intro, sections)


def _steering_status(t: _Words, r: SteeringReport) -> Section:
    previous = (
        t("report.previous", period=r.previous_period) if r.previous_period else t("report.no_previous")
    )
    totals = t("report.totals", total=sum(r.totals.values()), **r.totals)
    return _section(
        t("report.section.status"),
        Paragraph(f"{totals} {previous} {t('report.status_note')}"),
        _counts(t, _area_rows(t, r.areas), r.totals, "focus_area"),
        *(_steering_area(t, area) for area in r.areas),
    )


def _steering_area(t: _Words, area: AreaLines) -> Section:
    heading = t("report.focus_area", number=area.number, title=t.plan(area.title))
    summary = (Paragraph(area.summary),) if area.summary else ()
    if not area.activities:
        return _section(heading, *summary, Paragraph(t("report.no_activities"), "muted"))
    rows: list[tuple[Cell, ...]] = []
    for a in area.activities:
        was = None
        if a.previous and a.change != "unchanged":
            was = f"({t('report.col.previous')}: {t(f'status.{a.previous}')})"
        change = Text(t(f"report.change.{a.change}"), was)
        rows.append(
            (a.code, t.name(a.title, a.closed), a.owner or "–", t.status(a.status), change, a.comment or "")
        )
    columns = t.columns("code", "activity", "owner", "status", "change", "comment")
    return _section(heading, *summary, Table(columns, tuple(rows)))


def _dialogue(t: _Words, dialogue: Dialogue | None) -> Section:
    heading = t("report.section.dialogue")
    if dialogue is None:
        return _section(heading, Paragraph(t("report.no_dialogue")))
    blocks: list[Block] = []
    if dialogue.held_on:
        forums = f"{t('report.dialogue.forums')}: {', '.join(dialogue.forums)}"
        blocks.append(Paragraph(f"{forums} · {t('report.dialogue.held_on')}: {dialogue.held_on}"))
        blocks.append(_section(t("report.dialogue.heard"), Paragraph(dialogue.heard or "")))
        if dialogue.ideas:
            blocks.append(_section(t("report.dialogue.ideas"), Paragraph(dialogue.ideas)))
    else:
        blocks.append(Paragraph(t("report.dialogue.not_recorded")))
    if dialogue.feedback:
        items = tuple(f"{f.text} – {f.author}, {f.given_on}" for f in dialogue.feedback)
        blocks.append(_section(t("report.dialogue.feedback"), BulletList(items)))
    return _section(heading, *blocks)


def _proposals(t: _Words, proposals: Sequence[ProposalLine]) -> Section:
    heading = t("report.section.proposals")
    if not proposals:
        return _section(heading, Paragraph(t("report.no_proposals")))
    rows = tuple(
        (
            Text(p.title or "–", p.why),
            t("report.focus_area_short", number=p.focus_area),
            p.proposed_by,
            Text(t(f"report.proposal_state.{p.state}", code=p.activity_code), t.rationale(p.rationale)),
        )
        for p in proposals
    )
    columns = t.columns("proposal", "focus_area", "proposed_by", "state")
    return _section(heading, Table(columns, rows))


def _meeting(t: _Words, r: SteeringReport) -> Section:
    heading = t("report.section.meeting")
    if not r.meeting_notes:
        return _section(heading, Paragraph(t("report.no_meeting")))
    parts = [_section(t("report.meeting.notes"), Paragraph(r.meeting_notes))]
    if r.priorities:
        parts.append(_section(t("report.meeting.priorities"), Paragraph(r.priorities)))
    if r.left_open:
        items = tuple(
            f"{d.activity_code} {d.activity_title} – {t(f'deviation.stands.{d.stands}')}" for d in r.left_open
        )
        parts.append(_section(t("report.meeting.left_open"), BulletList(items)))
    return _section(heading, *parts)


# The board's report for a year.


def annual(r: AnnualReportContent, language: str, issue: Issue | None = None) -> Document:
    """The annual report to the municipal board: the year's statuses per focus area and period,
    its deviations and decisions, the activities completed and those added."""
    t = _Words(language)
    totals = t("report.totals", total=sum(r.totals.values()), **r.totals)
    summary: list[Block] = [
        Paragraph(r.summary or t("report.annual.no_summary")),
        Paragraph(f"{totals} {t('report.annual.decisions', count=r.decisions)}"),
    ]
    decided = []  # who stands behind the content: the steering group approved it, the board noted it
    if r.approved_on:
        decided.append(t("report.annual.approved", date=r.approved_on.isoformat()))
    if r.board_decided_on and r.board_paragraph:
        decided.append(
            t("report.annual.board_noted", date=r.board_decided_on.isoformat(), paragraph=r.board_paragraph)
        )
    if decided:
        summary.append(Paragraph(" ".join(decided)))
    sections = (
        _section(t("report.section.summary"), *summary),
        _overview(t, r),
        _periods(t, r),
        _deviations(t, r.deviations),
        _completed(t, r),
        _new_activities(t, r),
        _section(t("report.section.activities"), *(_year_area(t, area) for area in r.areas)),
    )
    intro = Paragraph(t("report.annual.intro", plan=t.plan(r.plan.title), year=r.year))
    return _document(t, r, issue, t("report.annual.title", year=r.year), intro, sections)


def _chart(
    t: _Words, key: str, series: Sequence[str], groups: Sequence[tuple[str, Mapping[str, int]]]
) -> Chart:
    name = t(key)
    return Chart(
        title=name,
        alt=f"{name}. {t('report.chart.alt')}",
        series=tuple(Series(k, t(f"status.{k}")) for k in series),
        groups=tuple(Group(label, tuple(counts.get(k, 0) for k in series)) for label, counts in groups),
    )


def _overview(t: _Words, r: AnnualReportContent) -> Section:
    rows = _area_rows(t, r.areas)
    return _section(
        t("report.section.overview"),
        Paragraph(f"{t('report.annual.year_status')} {t('report.status_note')}"),
        _chart(t, "report.chart.areas", COUNT_KEYS, rows),
        _counts(t, rows, r.totals, "focus_area"),
    )


def _periods(t: _Words, r: AnnualReportContent) -> Section:
    heading = t("report.section.periods")
    if not r.periods:
        return _section(heading, Paragraph(t("report.no_periods")))
    rows = [(p.period, p.counts) for p in r.periods]
    # a period's statuses are those reported: no bar for "not reported"
    chart = _chart(t, "report.chart.periods", COUNT_KEYS[:3], rows)
    return _section(heading, chart, _counts(t, rows, None, "period"))


def _completed(t: _Words, r: AnnualReportContent) -> Section:
    heading = t("report.section.completed")
    if not r.completed:
        return _section(heading, Paragraph(t("report.no_completed")))
    rows = tuple(
        (c.code, t.plan(c.title), t(f"report.completed.{c.how}"), str(c.on or "–"), t.status(c.status))
        for c in r.completed
    )
    columns = t.columns("code", "activity", "how", "date", "status")
    return _section(heading, Table(columns, rows))


def _new_activities(t: _Words, r: AnnualReportContent) -> Section:
    heading = t("report.section.new")
    if not r.new_activities:
        return _section(heading, Paragraph(t("report.no_new")))
    rows = tuple(
        (n.code, t.plan(n.title), n.owner or "–", Text(str(n.decided_on), t.rationale(n.rationale)))
        for n in r.new_activities
    )
    columns = t.columns("code", "activity", "owner", "decision")
    return _section(heading, Table(columns, rows))


def _year_area(t: _Words, area: YearArea) -> Section:
    rows = tuple(
        (a.code, t.name(a.title, a.closed), a.owner or "–", t.status(a.status)) for a in area.activities
    )
    columns = t.columns("code", "activity", "owner", "status")
    return _section(
        t("report.focus_area", number=area.number, title=t.plan(area.title)), Table(columns, rows)
    )
