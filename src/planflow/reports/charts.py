"""The charts of the annual report, worded in the reader's language."""

from __future__ import annotations

from ..i18n import text
from ..services.reports import COUNT_KEYS, AnnualReportContent
from .chart import Group, bar_chart


def annual(content: AnnualReportContent, language: str) -> dict[str, bytes]:
    """PNG charts: counts per status per focus area; and per period, when the year had any."""
    series = [(key, text(language, f"status.{key}")) for key in COUNT_KEYS]
    areas = [
        Group(text(language, "report.focus_area_short", {"number": a.number}), a.counts)
        for a in content.areas
    ]
    result = {"areas": bar_chart(areas, series, text(language, "report.chart.areas"))}
    if content.periods:
        periods = [Group(p.period, p.counts) for p in content.periods]
        result["periods"] = bar_chart(periods, series[:3], text(language, "report.chart.periods"))
    return result
