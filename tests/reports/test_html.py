"""The standalone HTML report, read by others than the templates that wrote it: libxml2's HTML parser
(lxml.html) for its stylesheet, languages and headings, and Chromium for whether the stylesheet
is applied."""

from __future__ import annotations

import os
import shutil

import lxml.html
import pytest

from planflow import reports
from planflow.documents.compose import compose
from planflow.documents.content import Content

from ..browser.test_journey import WCAG
from .test_document_model import ISSUE, annual_content, steering_content

CONTENTS = [steering_content(), annual_content()]
IDS = ["steering", "annual"]


def _page(content: Content, language: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(reports.render(content, "html", language, ISSUE))


def _language_of(element: lxml.html.HtmlElement) -> str | None:
    """The language an element is in: its own lang, or the nearest ancestor's."""
    for node in (element, *element.iterancestors()):
        if node.get("lang"):
            return str(node.get("lang"))
    return None


def _plan_words(content: Content) -> set[str]:
    """The plan's own (Swedish) words the report quotes: its areas' and activities' titles."""
    words = {content.plan.organisation, content.plan.title}
    for area in content.areas:
        words.add(area.title)
        words |= {a.title for a in getattr(area, "activities", None) or getattr(area, "lines", [])}
    return words


@pytest.mark.parametrize("content", CONTENTS, ids=IDS)
def test_the_reports_stylesheet_reaches_the_browser_unescaped(content: Content) -> None:
    page = _page(content, "sv")
    styles = " ".join(style.text_content() for style in page.iter("style"))
    assert 'font-family: "DejaVu Sans"' in styles and "&#34;" not in styles and "&quot;" not in styles


@pytest.mark.parametrize("content", CONTENTS, ids=IDS)
def test_an_english_report_marks_the_plans_swedish_words_as_swedish(content: Content) -> None:
    page = _page(content, "en")
    assert page.get("lang") == "en" and page.find(".//article").get("lang") == "en"
    quoted = _plan_words(content)
    found = 0
    for element in page.iter():
        # an element's tail (the text after it) is in its parent's language
        for text, owner in ((element.text, element), (element.tail, element.getparent())):
            if text and text.strip() in quoted:
                assert _language_of(owner) == "sv", f"{text.strip()!r} is not marked Swedish"
                found += 1
    assert found >= len(quoted)
    assert [e.get("lang") for e in _page(content, "sv").iter() if e.get("lang")] == ["sv", "sv"]


@pytest.mark.parametrize("content", CONTENTS, ids=IDS)
def test_a_reports_headings_are_one_h1_and_never_skip_a_level(content: Content) -> None:
    page = _page(content, "sv")
    headings = [(int(h.tag[1]), h) for h in page.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    levels = [level for level, _ in headings]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    assert [(level, h.text_content()) for level, h in headings] == compose(content, "sv", ISSUE).headings()
    ids = {h.get("id") for _, h in headings}
    for region in page.find_class("table-scroll"):  # every table is named by the heading above it
        assert region.get("aria-labelledby") in ids
    for image in page.iter("img"):
        assert image.get("alt")


CHROMIUM = os.environ.get("PLANFLOW_TEST_CHROMIUM") or shutil.which("chromium")


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="Debian's chromium is not installed (apt-get install chromium, or set PLANFLOW_TEST_CHROMIUM)",
)
@pytest.mark.parametrize("language", ["sv", "en"])
def test_chromium_applies_the_reports_stylesheet_and_axe_finds_nothing(language: str) -> None:
    """The downloaded page as a browser shows it: the stylesheet applied, and axe-core (WCAG 2.1
    A/AA, as the web pages are checked) finds no violation."""
    sync_api = pytest.importorskip("playwright.sync_api")
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            for content in CONTENTS:
                page.set_content(reports.render(content, "html", language, ISSUE).decode("utf-8"))
                family = page.eval_on_selector(".report", "e => getComputedStyle(e).fontFamily")
                number = page.eval_on_selector("td.num", "e => getComputedStyle(e).textAlign")
                assert family.startswith('"DejaVu Sans"') and number == "right", content.kind
                result = axe.Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
                violations = result.response["violations"]
                assert [(v["id"], v["nodes"][0]["target"]) for v in violations] == [], content.kind
        finally:
            browser.close()
