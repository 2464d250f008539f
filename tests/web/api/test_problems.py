"""Errors are problem+json in the caller's language, never HTML: malformed JSON, a body too
large, a wrong method (with Allow), an unknown address, a wrong media type, slowing down."""

from __future__ import annotations

from .conftest import Api


def test_malformed_json_oversized_body_wrong_method_and_unknown_route(api: Api) -> None:
    bad = api("POST", "/cycles", "processledare", data="{nope", content_type="application/json")
    assert bad.status_code == 400 and bad.json["code"] == "error.api.malformed_json"
    big = api("POST", "/cycles", "processledare", json={"period": "x" * (300 * 1024)})
    assert big.status_code == 413 and big.mimetype == "application/problem+json"
    wrong = api("DELETE", "/plan", "processledare")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    assert wrong.mimetype == "application/problem+json"
    nowhere = api("GET", "/no/such/thing", None)
    assert nowhere.status_code == 404 and nowhere.mimetype == "application/problem+json"
    form = api("POST", "/cycles", "processledare", data="period=2026-Q4")
    assert form.status_code == 415
    typed = api("GET", "/inbox?limit=many&colour=red", "processledare", headers={"Accept-Language": "en"})
    assert typed.status_code == 400
    assert set(typed.json["errors"]) == {"limit", "colour"}
    assert typed.json["detail"] == "The input is not valid."


def test_repeated_bad_tokens_from_one_address_are_slowed_down_but_good_ones_are_not(api: Api) -> None:
    statuses = [
        api.client.get("/api/v1/me", headers={"Authorization": "Bearer pf_guess"}).status_code
        for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:]
    slowed = api.client.get("/api/v1/me", headers={"Authorization": "Bearer pf_guess"})
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) >= 1
    # Everyone else behind the same address (a municipal NAT) goes on working.
    good = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {api.token('admin')}"})
    assert good.status_code == 200
    other = api.client.get(
        "/api/v1/me",
        headers={"Authorization": f"Bearer {api.token('admin')}"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 200


def test_the_document_and_its_reference_page(api: Api) -> None:
    document = api("GET", "/openapi.json", None).json
    assert document["openapi"].startswith("3.1")
    assert "form.report_status" in document["components"]["schemas"]
    assert "/api/v1/tasks/{task_id}/complete" in document["paths"]
    page = api("GET", "/docs", None)
    assert page.status_code == 200 and b"/api/v1/inbox" in page.data


def test_a_nul_character_is_refused_as_a_field_error_not_a_server_error(api: Api, chain: object) -> None:
    """Found by the property tests: PostgreSQL text cannot hold NUL, and the insert failed (500)."""
    tasks = api("GET", "/inbox", "anna.nilsson").json["items"]
    report = next(t for t in tasks if t["name"] == "report_status")
    data = {"status": "red", "cause": "Ingen\x00budget."}
    refused = api("POST", f"/tasks/{report['id']}/complete", "anna.nilsson", json={"data": data})
    assert (
        refused.status_code == 400
        and refused.json["errors"]["data.cause"]["code"] == "form.control_characters"
    )
    query = api("GET", "/inbox?q=a%00b", "anna.nilsson")
    assert query.status_code == 400 and "q" in query.json["errors"]
