"""Each page shows what its reader needs: an activity's story, a cycle's progress, the steering
group's queue, the audit trail with its verification and CSV, administration, a process drawing."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from planflow.db import Database
from planflow.models import OpenTask, ProcessInstance
from tests.services.chain import Chain
from tests.spreadsheets import excel_rows
from tests.web.conftest import csrf_token, post


def _red_deviation_awaiting_decision(web: Database) -> Chain:
    chain = Chain(web)
    chain.start_cycle()
    chain.report_and_accept("1.1.1", "red", "Ingen budget")
    chain.do("processledare", "draft_recommendation", {"recommendation": "Skjut upp ett kvartal"}, "1.1.1")
    chain.do("lead1", "agree_recommendation", {"outcome": "agree"}, "1.1.1")
    return chain


def test_activity_page_tells_its_story(signed_in: Callable[[str], FlaskClient], web: Database) -> None:
    _red_deviation_awaiting_decision(web)
    html = signed_in("styrgrupp.nk").get("/activities/1.1.1").get_data(as_text=True)
    assert "Statushistorik" in html and "Ingen budget" in html and "Skjut upp ett kvartal" in html
    assert "<td>Statusrapport godkänd</td>" in html  # its audit events, in the reader's words
    assert "<td>Avvikelse öppnad</td>" in html and "status.accepted" not in html
    assert "Avvikelsehantering #" in html and "Aktivitetsrapport #" in html  # its processes
    assert signed_in("anna.nilsson").get("/activities/9.9.9").status_code == 404


def test_steering_page_lists_the_queue_and_lets_the_chair_record(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    _red_deviation_awaiting_decision(web)
    chair = signed_in("ordforande").get("/steering").get_data(as_text=True)
    assert "1.1.1" in chair and "Registrera styrgruppens beslut" in chair
    member = signed_in("styrgrupp.nk").get("/steering").get_data(as_text=True)
    assert "1.1.1" in member and "Ordföranden registrerar" in member


def test_cycle_page_shows_progress_and_the_leader_starts_a_cycle(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("processledare")
    bad = post(client, "/cycles", {"period": "2026-Q9", "deadline": "2026-12-15"}, "/cycles")
    assert bad.status_code == 400 and "2026-Q9" in bad.get_data(as_text=True)
    both = post(client, "/cycles", {"period": "2026-Q9", "deadline": "snart"}, "/cycles")
    html = both.get_data(as_text=True)
    assert both.status_code == 400 and 'id="e-period"' in html and 'id="e-deadline"' in html
    asked = post(client, "/cycles", {"period": "2026-Q4", "deadline": "2026-12-15"}, "/cycles")
    assert asked.status_code == 200 and 'name="confirm" value="1"' in asked.get_data(as_text=True)
    form = {"period": "2026-Q4", "deadline": "2026-12-15", "confirm": "1"}
    started = post(client, "/cycles", form, "/cycles")
    assert started.status_code == 302 and started.headers["Location"] == "/cycles/2026-Q4"
    html = client.get("/cycles/2026-Q4").get_data(as_text=True)
    assert "Omgången 2026-Q4 är startad." in html and "Ska rapportera" in html
    assert (
        post(signed_in("lead1"), "/cycles", {"period": "2027-Q1", "deadline": "2027-03-01"}).status_code
        == 403
    )


def test_audit_page_verifies_and_exports(signed_in: Callable[[str], FlaskClient], web: Database) -> None:
    Chain(web).start_cycle()
    client = signed_in("processledare")
    html = client.get("/audit?verify=1").get_data(as_text=True)
    assert "Kedjan är hel" in html
    html = client.get("/audit?action=cycle.").get_data(as_text=True)
    assert "<td>Omgång startad</td><td>Omgång 2026-Q4</td>" in html
    assert "<td>systemet</td>" in html  # the schedule opened the cycle
    assert "<td>Användare tillagd</td>" not in html and "cycle.started</td>" not in html
    assert '<option value="cycle." selected>cycle.</option>' in html  # a prefix typed in the address
    html = client.get("/audit?action=deviation.decided").get_data(as_text=True)
    assert '<option value="deviation.decided" selected>Styrgruppen har beslutat</option>' in html
    assert '<option value="status.reported">Status rapporterad</option>' in html
    export = client.get("/audit.csv?actor=processledare")
    rows = excel_rows(export.get_data())
    assert rows[0][:7] == ["seq", "occurred_at", "actor", "on_behalf_of", "role", "action", "action_text"]
    assert all(r[2] == "processledare" for r in rows[1:]) and len(rows) > 1
    assert ["cycle.started", "Omgång startad"] in [r[5:7] for r in rows]
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/inbox")})
    html = client.get("/audit?action=cycle.").get_data(as_text=True)
    assert "<td>Cycle started</td><td>Cycle 2026-Q4</td>" in html and "<td>the system</td>" in html


def test_admin_forms_list_people_and_the_roles_there_are(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    """People and roles are chosen from lists that name them (issue 20), never typed as codes."""
    html = signed_in("admin").get("/admin").get_data(as_text=True)
    assert '<select id="grant-username" name="username" required>' in html
    assert '<option value="anna.nilsson">Anna Nilsson (demo) (anna.nilsson)</option>' in html
    roles = html[html.index('<select id="grant-role"') :]
    roles = roles[: roles.index("</select>")]
    for spec in ("focus_area_lead:sodertalje-2016/1", "focus_area_lead:sodertalje-2016/5",
                 "working_group:sodertalje-2016/3", "process_leader", "admin"):  # fmt: skip
        assert f'<option value="{spec}">' in roles
    assert "/6" not in roles and 'value="focus_area_lead"' not in roles
    # the users' roles in words, each with the spec the command line takes
    assert 'Fokusområdesansvarig, fokusområde 1 <span class="muted">(focus_area_lead:1)</span>' in html
    assert 'Administratör <span class="muted">(admin)</span>' in html


def test_admin_names_a_substitute_and_issues_a_token(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    client = signed_in("admin")
    assert "Administration" in client.get("/admin").get_data(as_text=True)
    bad = post(
        client, "/admin/substitute", {"absent": "lead1", "substitute": "lead2", "starts_on": "x"}, "/admin"
    )
    assert bad.status_code == 400 and 'value="lead1"' in bad.get_data(as_text=True)
    ok = post(
        client,
        "/admin/substitute",
        {"absent": "lead1", "substitute": "lead2", "starts_on": "2026-01-01"},
        "/admin",
    )
    assert ok.status_code == 302
    token = post(client, "/admin/token", {"username": "anna.nilsson"}, "/admin").get_data(as_text=True)
    assert "pf_" in token
    assert signed_in("processledare").get("/admin").status_code == 403


def test_process_page_draws_the_diagram_with_marks(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    _red_deviation_awaiting_decision(web)
    with web.transaction() as session:
        instance_id = session.scalar(
            select(ProcessInstance.id).where(ProcessInstance.process_id == "deviation")
        )
    html = signed_in("processledare").get(f"/processes/{instance_id}").get_data(as_text=True)
    assert "<svg" in html and "Styrgruppens beslut" in html
    assert "#fff1c7" in html  # the current step is marked
    assert "Styrgruppens beslut: <strong>pågår nu</strong>" in html
    assert "Ta fram rekommendation till åtgärd: klart</li>" in html


def test_process_page_counts_a_loop_that_ran_twice(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    chain = Chain(web)
    chain.start_cycle()
    chain.do("anna.nilsson", "report_status", {"status": "green"}, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Ange antal besök."}, "1.1.1")
    chain.do("anna.nilsson", "report_status", {"status": "green", "comment": "12 besök."}, "1.1.1")
    with web.transaction() as session:
        instance_id = session.scalar(
            select(ProcessInstance.id)
            .where(ProcessInstance.process_id == "activity_report", ProcessInstance.activity_id.is_not(None))
            .where(
                ProcessInstance.id.in_(select(OpenTask.instance_id).where(OpenTask.name == "review_report"))
            )
        )
    client = signed_in("processledare")
    html = client.get(f"/processes/{instance_id}").get_data(as_text=True)
    assert ">×2</text>" in html
    assert "klart (2 gånger)</li>" in html
    assert ">Godkänns rapporten?</text>" in html and ">Återsänd</text>" in html
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/inbox")})
    html = client.get(f"/processes/{instance_id}").get_data(as_text=True)
    assert "Report status: done (2 times)</li>" in html and f"<h1>Activity report #{instance_id}</h1>" in html
    assert ">Report accepted?</text>" in html and ">Returned</text>" in html  # a gateway, a flow
    assert ">Activity owner</text>" in html and ">Focus-area lead</text>" in html  # the lanes
    assert "Godkänns" not in html and "Rapportera" not in html


def test_process_page_names_what_each_kind_of_process_is_about(
    signed_in: Callable[[str], FlaskClient], web: Database
) -> None:
    from datetime import UTC, datetime

    from planflow import clock
    from planflow.services.authority import people
    from planflow.services.chain import annual, proposals
    from planflow.services.records.audit import Actor

    chain = _red_deviation_awaiting_decision(web)
    for code in sorted({t.activity_code for t in chain.inbox_of_all() if t.name == "report_status"}):
        if code and code.startswith("5."):
            chain.report_and_accept(code)  # area 5 all in: its reconciliation starts
    with web.transaction() as session:
        lead = people.get_user(session, "lead3")
        proposals.propose_activity(
            session,
            lead,
            {
                "title": "Lokalguide för nya företag",
                "intervention_area": "3.4",
                "owner": "johan.ek",
                "start": "2027-01-01",
                "end": "2027-12-31",
                "why": "Efterfrågat.",
            },
        )
        clock.set_now(datetime(2026, 12, 1, 8, tzinfo=UTC))
        annual.start_annual_report(session, Actor(people.get_user(session, "processledare")), 2026)
    with web.reading() as session:
        first = {
            process: session.scalar(
                select(ProcessInstance.id)
                .where(ProcessInstance.process_id == process)
                .order_by(ProcessInstance.id)
            )
            for process in (
                "activity_report",
                "deviation",
                "area_reconciliation",
                "reporting_cycle",
                "activity_proposal",
                "annual_report",
            )
        }
    client = signed_in("processledare")
    says = {
        "activity_report": (
            'href="/activities/1.1.1"',
            "aktivitet 1.1.1 Företagsbesök politiker</a>, omgång 2026-Q4",
        ),
        "deviation": ('href="/activities/1.1.1"', "avvikelse i aktivitet 1.1.1 Företagsbesök politiker</a>"),
        "area_reconciliation": ('href="/cycles/2026-Q4"', "fokusområde 5: "),
        "reporting_cycle": ('href="/cycles/2026-Q4"', "uppföljningsomgången 2026-Q4</a>"),
        "activity_proposal": (
            'href="/proposals"',
            "förslaget ”Lokalguide för nya företag” i fokusområde 3</a>",
        ),
        "annual_report": ('href="/reports/annual/2026"', "årsrapporten 2026</a>"),
    }
    for process, instance_id in first.items():
        assert instance_id is not None, process
        html = client.get(f"/processes/{instance_id}").get_data(as_text=True)
        about = re.search(r'<p class="lead" id="process-subject">(.*?)</p>', html, re.S)
        assert about, process
        link, words = says[process]
        assert link in about[1] and words in about[1], (process, about[1])
