"""GET /api/v1/tasks/{id} answers the task's case (views.cases.Case, as plain JSON) and the
OpenAPI document describes it: the answer validates against the published schema."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012 as DRAFT

from ...services.chain import Chain
from .conftest import Api
from .test_chain_http import task_of


def _validator(api: Api, component: str) -> Draft202012Validator:
    document = api("GET", "/openapi.json", None).json
    registry: Registry[Any] = Registry().with_resource("urn:openapi", Resource.from_contents(document, DRAFT))
    schema = {"$ref": f"urn:openapi#/components/schemas/{component}"}
    return Draft202012Validator(schema, registry=registry)


def test_a_returned_reports_case_is_sent_and_validates(api: Api, chain: Chain) -> None:
    sent = {"status": "yellow", "comment": "Sen start.", "cause": "Personalbrist."}
    chain.do("anna.nilsson", "report_status", sent, "1.1.1")
    chain.do("lead1", "review_report", {"outcome": "return", "comment": "Hur sen?"}, "1.1.1")
    task = task_of(api, "anna.nilsson", "report_status", "1.1.1")
    detail = api("GET", f"/tasks/{task['id']}", "anna.nilsson").json

    case = detail["case"]
    assert case["activity"]["code"] == "1.1.1" and case["subject_code"] == "1.1.1"
    assert case["returned"]["reason"] == "Hur sen?" and case["returned"]["step"] == "review_report"
    assert {v["field"]: v["value"] for v in case["sent_before"]} == sent
    assert "recent_reports" not in detail and "deviation" not in detail
    validator = _validator(api, "TaskDetail")
    validator.validate(detail)
    assert not validator.is_valid({**detail, "case": {**case, "returned": {"by": "lead1"}}})
