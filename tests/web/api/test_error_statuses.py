"""One status per refusal: a page, also one that shows its form again, answers a service's error
with the status the API answers it with (web.http_status), and says the error's message."""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from sqlalchemy import update

from planflow import reports
from planflow.audit_keys import SigningKey
from planflow.models import IssuedReportFile
from planflow.services.authority import people
from planflow.services.errors import Busy, Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from planflow.services.outputs import issued
from planflow.services.records.audit import Actor

from ...services.chain import Chain
from ..conftest import post
from .conftest import Api

EXISTS = (
    "Omgången 2026-Q4 finns redan i planen Handlingsplan för näringslivsstrategin Utvecklingskraft i "
    "Södertälje (pågår, sista dag 2026-12-15)."
)


def test_a_cycle_started_twice_is_a_conflict_on_the_page_as_in_the_api(
    api: Api, signed_in: Callable[[str], FlaskClient]
) -> None:
    client = signed_in("processledare")
    form = {"period": "2026-Q4", "deadline": "2026-12-15"}
    assert post(client, "/cycles", {**form, "confirm": "1"}, "/cycles").status_code == 302
    again = post(client, "/cycles", form, "/cycles")  # refused before the confirmation page
    assert again.status_code == 409 and EXISTS in again.get_data(as_text=True)
    assert 'value="2026-Q4"' in again.get_data(as_text=True)  # the form, shown again as it was sent
    through_api = api("POST", "/cycles", "processledare", json=form)
    assert through_api.status_code == 409 and through_api.json["detail"].startswith(EXISTS)


def test_each_kind_of_refusal_has_the_same_status_on_a_page_and_in_the_api(
    api: Api, signed_in: Callable[[str], FlaskClient]
) -> None:
    leader, outsider = signed_in("processledare"), signed_in("naringslivsradet")
    pairs = {
        "not found": (leader.get("/activities/9.9.9"), api("GET", "/activities/9.9.9", "processledare")),
        "forbidden": (outsider.get("/audit"), api("GET", "/audit", "naringslivsradet")),
        "invalid": (leader.get("/audit?from=snart"), api("GET", "/audit?from=snart", "processledare")),
        "bad cursor": (leader.get("/audit?cursor=x"), api("GET", "/audit?cursor=x", "processledare")),
    }
    said = {kind: (page.status_code, answer.status_code) for kind, (page, answer) in pairs.items()}
    assert said == {
        "not found": (404, 404),
        "forbidden": (403, 403),
        "invalid": (400, 400),
        "bad cursor": (400, 400),
    }
    # who may read the trail comes first: an outsider's bad day or download is refused as such
    assert [outsider.get(url).status_code for url in ("/audit?from=snart", "/audit.csv?to=x")] == [403, 403]
    invalid_page = pairs["invalid"][0].get_data(as_text=True)
    assert "ska vara ett datum som ÅÅÅÅ-MM-DD" in invalid_page and 'value="snart"' in invalid_page


def test_the_one_table_gives_each_kind_of_error_its_status() -> None:
    from planflow.web.http_status import STATUS, status_of

    class Unlisted(ServiceError):
        pass

    class Narrower(Conflict):
        pass

    assert {kind: status_of(kind("error.input.invalid")) for kind in STATUS} == {
        InvalidInput: 400,
        Forbidden: 403,
        NotFound: 404,
        Conflict: 409,
        Busy: 503,
        ServiceError: 409,
    }
    assert status_of(Unlisted("x")) == 409 and status_of(Narrower("x")) == 409


def test_a_tampered_issued_file_answers_as_the_api_would_with_the_message(
    chain: Chain, signed_in: Callable[[str], FlaskClient]
) -> None:
    chain.report_and_accept("1.1.1", "yellow", cause="Färre besök än planerat.")
    with chain.db.transaction() as session:
        leader = Actor(people.get_user(session, "processledare"))
        signer = SigningKey(Ed25519PrivateKey.generate())
        report_id = issued.issue_report(
            session, leader, signer, "steering", "2026-Q4", render=reports.render
        ).id
        session.execute(
            update(IssuedReportFile)
            .where(IssuedReportFile.report_id == report_id, IssuedReportFile.format == "pdf")
            .values(data=b"%PDF-1.4 forged")
        )
    client = signed_in("processledare")
    refused = client.get(f"/reports/issued/{report_id}.pdf")
    assert refused.status_code == 409  # a Conflict's, as the API answers one (web.http_status)
    assert f"Den utfärdade rapporten {report_id} (pdf) stämmer inte med sin SHA-256" in refused.get_data(
        as_text=True
    )
    assert client.get(f"/reports/issued/{report_id}.html").status_code == 200  # the untouched file
    assert client.get(f"/reports/issued/{report_id + 1}.pdf").status_code == 404
