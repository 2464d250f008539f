"""English throughout: a reader who chose English meets no Swedish the catalogs or the forms could
have worded, on any page, as any role; what the plan says (it exists only in Swedish) is shown whole,
in Swedish, marked `lang="sv"`; and a Swedish reader's pages are as they were, unmarked."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask, g, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import select

from planflow import clock
from planflow.db import Database
from planflow.engine.forms import FormError
from planflow.models import Activity, FocusArea, InterventionArea, Plan, ProcessInstance, User
from planflow.services.authority import people
from planflow.services.chain import annual, instances
from planflow.services.records.audit import Actor
from planflow.web import taskforms
from tests.services.chain import Chain
from tests.test_i18n import _catalog
from tests.web.conftest import post
from tests.web.english import pieces, unmarked, words

FORMS = sorted(instances.library().forms.forms)
ROLES = [
    "anna.nilsson",
    "lead1",
    "processledare",
    "ordforande",
    "styrgrupp.nk",
    "kommunstyrelsen",
    "naringslivsradet",
    "admin",
]
PAGES = [
    "/",
    "/inbox",
    "/activities/1.1.1",
    "/activities/1.1.3",
    "/cycles",
    "/cycles/2026-Q4",
    "/steering",
    "/audit",
    "/reports/",
    "/reports/steering/2026-Q4",
    "/reports/annual/2026",
    "/proposals",
    "/proposals/new",
    "/dialogue",
    "/admin",
    "/admin/plan",
    "/admin/activities/1.1.1",
]


def _strings(schema: dict[str, Any], language: str) -> set[str]:
    """Every word a form has in `language`: titles, descriptions and choice labels, at any depth."""
    twin = (lambda key: key) if language == "sv" else (lambda key: f"x-{key.removeprefix('x-')}-{language}")
    found: set[str] = set()
    for key, value in schema.items():
        if key == "properties":
            for spec in value.values():
                found |= _strings(spec, language)
        elif key == "items" and isinstance(value, dict):
            found |= _strings(value, language)
        elif key in {twin(k) for k in ("title", "description", "x-enum-labels")}:
            found |= {value} if isinstance(value, str) else {str(v) for v in value.values()}
    return found


def _shown(schema: dict[str, Any], language: str) -> set[str]:
    """The words a form's fields show in `language` (its title is the page's, from the catalog)."""
    return {
        text
        for spec in schema["properties"].values()
        for text in _strings({k: v for k, v in spec.items() if k != "items"}, language)
    }


def _swedish_ui_words(db: Database) -> set[str]:
    """Words only Swedish UI text has: every word of the Swedish catalog and of the forms' Swedish
    words that neither the English catalog, the forms' English words, nor a person's or office's
    name or login (data, shown as it is) also has. Derived, so a new Swedish word is covered by itself."""
    library = instances.library().forms.forms
    swedish = {w for text in _catalog("sv").values() for w in words(text)}
    swedish |= {w for form in library.values() for text in _strings(form.schema, "sv") for w in words(text)}
    english = {w for text in _catalog("en").values() for w in words(text)}
    english |= {w for form in library.values() for text in _strings(form.schema, "en") for w in words(text)}
    with db.reading() as session:
        names = {
            w
            for u in session.scalars(select(User))
            for w in words(f"{u.username} {u.display_name} {u.office or ''}")
        }
    found = {w for w in swedish - english - names if len(w) > 2}
    assert {"grön", "gul", "röd", "godkänn", "kommentar", "återsänd", "bedömning", "avbryt"} <= found
    return found


def _plan_words(db: Database) -> set[str]:
    """What the plan says, each title, area and activity whole (the long enough to be unmistakable)."""
    with db.reading() as session:
        said = {p.title for p in session.scalars(select(Plan))}
        said |= {f.title for f in session.scalars(select(FocusArea))}
        said |= {text for a in session.scalars(select(InterventionArea)) for text in (a.title, a.approach)}
        said |= {a.title for a in session.scalars(select(Activity))}
    return {text for text in said if text and len(text) >= 12}


def _busy_cycle(web: Database) -> Chain:
    """A cycle with work everywhere: a red report on its way to the steering group, a yellow one
    to review, a returned one, a proposal to check and an annual report to compile. What people
    type here is plain tokens: what a user writes is shown as written, in whatever language."""
    chain = Chain(web)
    chain.start_cycle()
    chain.do("anna.nilsson", "report_status", {"status": "red", "cause": "ref-1"}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "accept"}, "1.1.1")
    chain.do("processledare", "draft_recommendation", {"recommendation": "ref-2"}, "1.1.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, "1.1.1")
    chain.do("anna.nilsson", "report_status", {"status": "yellow", "cause": "ref-3"}, "1.1.3")
    chain.do(chain.owner_of("1.3.1"), "report_status", {"status": "green"}, "1.3.1")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "ref-4"}, "1.3.1")
    with web.transaction() as session:
        lead = people.get_user(session, "lead1")
        proposal = {"title": "ref-5", "intervention_area": "1.2", "owner": "erik.berg", "why": "ref-6"}
        proposal |= {"start": "2027-01-01", "end": "2027-12-31"}
        from planflow.services.chain import proposals

        proposals.propose_activity(session, lead, proposal)
    clock.set_now(datetime(2026, 12, 1, 8, tzinfo=UTC))
    with web.transaction() as session:
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    return chain


def _walk(client: FlaskClient, urls: Iterable[str]) -> dict[str, str]:
    pages = {}
    for url in urls:
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            pages[url] = response.get_data(as_text=True)
    return pages


def test_every_page_as_every_role_is_english_and_the_plan_is_marked_swedish(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = _busy_cycle(web)
    swedish, plan = _swedish_ui_words(web), _plan_words(web)
    with web.reading() as session:
        processes = session.scalars(select(ProcessInstance.id).order_by(ProcessInstance.id).limit(3)).all()
    walked, marked = 0, 0
    for role in ROLES:
        client = signed_in(role)
        post(client, "/language", {"language": "en"})
        tasks = [f"/tasks/{task.id}" for task in chain.inbox(role)]
        pages = _walk(client, [*PAGES, *tasks, *(f"/processes/{i}" for i in processes)])
        for url, html in pages.items():
            for text in unmarked(html):
                assert not words(text) & swedish, (role, url, text, words(text) & swedish)
                assert not [p for p in plan if p in text], (role, url, text)  # the plan, unmarked
            marked += sum(1 for text, in_swedish in pieces(html) if in_swedish)
        walked += len(pages)
    assert walked > 80 and marked > 300  # the walk saw the pages, and the plan on them


def test_the_plan_is_whole_swedish_never_half_translated(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("lead1")
    post(client, "/language", {"language": "en"})
    html = client.get("/").get_data(as_text=True)
    area = "erbjuder mötesplatser och möjlighet till dialog"
    assert f'1.1 <span lang="sv">Kommunen {area}' in html and "The municipality" not in html
    assert '<span lang="sv">Företagsbesök politiker</span>' in html
    assert 'Focus area 1: <span lang="sv">Ett företagsklimat' in html
    form = client.get("/proposals/new").get_data(as_text=True)
    assert f'<option value="1.1" lang="sv">1.1 Kommunen {area}' in form
    swedish = signed_in("anna.nilsson").get("/").get_data(as_text=True)  # Swedish: unmarked
    assert f"1.1 Kommunen {area}" in swedish and 'lang="sv"' not in swedish.split("<body>", 1)[1]


def test_a_report_quotes_the_plan_in_swedish(signed_in: Callable[[str], FlaskClient], web: Database) -> None:
    Chain(web).start_cycle()
    client = signed_in("processledare")
    post(client, "/language", {"language": "en"})
    html = client.get("/reports/steering/2026-Q4").get_data(as_text=True)
    assert '<article class="report" lang="en">' in html
    assert re.search(r'<h3 id="[^"]+">Focus area 1: <span lang="sv">Ett företagsklimat', html)
    assert '<td><span lang="sv">Företagsbesök politiker</span></td>' in html
    word = client.get("/reports/files/annual/2026.docx")  # Word checks the plan's words as Swedish
    with zipfile.ZipFile(io.BytesIO(word.get_data())) as docx:
        body = docx.read("word/document.xml").decode("utf-8")
    quoted = re.findall(r'<w:r><w:rPr><w:lang w:val="sv-SE"/></w:rPr><w:t[^>]*>([^<]*)</w:t>', body)
    assert "Företagsbesök politiker" in quoted and "Status" not in quoted
    post(client, "/language", {"language": "sv"})
    assert "<td>Företagsbesök politiker</td>" in client.get("/reports/steering/2026-Q4").get_data(
        as_text=True
    )


@pytest.mark.parametrize("name", FORMS)
def test_every_form_speaks_the_readers_language(app: Flask, name: str) -> None:
    """Each form drawn for an English reader shows every English word of its fields, no word only
    its Swedish words have, and its errors in English; for a Swedish reader, the reverse."""
    form = instances.library().forms.get(name)
    try:
        form.validate({})
        errors = {}
    except FormError as refused:
        errors = refused.errors
    template = '{% from "macros/form.html" import form_fields %}{{ form_fields(fields) }}'
    drawn = {}
    for language in ("en", "sv"):
        with app.test_request_context():
            g.language = language
            fields = taskforms.fields(form.schema, language, {}, errors)
            drawn[language] = render_template_string(template, fields=fields)
    for language, other in (("en", "sv"), ("sv", "en")):
        said = [text for text, _ in pieces(drawn[language])]
        assert _shown(form.schema, language) - set(said) == set(), language
        foreign = {w for s in _shown(form.schema, other) for w in words(s)}
        foreign -= {w for s in _shown(form.schema, language) for w in words(s)}
        foreign = {w for w in foreign if len(w) > 2}  # not "i", Swedish "in" and English "I"
        assert {w for text in said for w in words(text)} & foreign == set(), language
        for message in errors.values():
            assert message.render(language) in said
    if name == "report_status":
        assert "Required when Status is Yellow / Red." in drawn["en"]
        assert "Obligatoriskt när Status är Gul / Röd." in drawn["sv"]


def test_a_refused_choice_is_named_by_the_choices_labels(app: Flask) -> None:
    form = instances.library().forms.get("report_status")
    with pytest.raises(FormError) as refused:
        form.validate({"status": "purple"})
    with app.test_request_context():
        (status,) = [
            f for f in taskforms.fields(form.schema, "en", {}, refused.value.errors) if f.name == "status"
        ]
    assert status.error == "must be one of: Green, Yellow, Red"


def test_mail_is_worded_in_english_too() -> None:
    """Every notice (the mail's subject and body) has English words of its own."""
    swedish, english = _catalog("sv"), _catalog("en")
    notices = [key for key in swedish if key.startswith("notice.")]
    assert len(notices) >= 10
    for key in notices:
        placeholders_only = not re.sub(r"%\(\w+\)s", "", swedish[key]).strip()
        assert english.get(key) and (english[key] != swedish[key] or placeholders_only), key
