"""The app layer's API Gateway documents the API from the API's own OpenAPI document, under mocks: documentation
parts for the API, `/health` and the `/api/{proxy+}` method (every /api operation with who may call it), published
as a documentation version named after the document's hash and set on the stage. (That openapi.json is the current
document of the router is the API suite's test, test/contract.test.mjs.)"""

from __future__ import annotations

import json

import pytest

from shared.plan.computed import computed_state
from shared.plan.planner import Plan
from shared.runtime.api_document import document_version, load_api_document, operations

PART = "aws:apigateway/documentationPart:DocumentationPart"
VERSION = "aws:apigateway/documentationVersion:DocumentationVersion"
STAGE = "aws:apigateway/stage:Stage"
REST_API = "aws:apigateway/restApi:RestApi"


@pytest.fixture(scope="module")
def app(chain: dict[str, Plan]) -> Plan:
    return chain["app"]


def test_documentation_parts_carry_the_document(app: Plan) -> None:
    document = load_api_document()
    parts = {p.get("location")["type"] + " " + p.get("location").get("path", ""): p for p in app.of_type(PART)}
    assert set(parts) == {"API ", "METHOD /health", "METHOD /api/{proxy+}"}
    rest_api = app.one(REST_API)
    api_id = computed_state(rest_api.type, rest_api.name, rest_api.inputs)[1]["id"]
    assert {part.get("restApiId") for part in parts.values()} == {api_id}
    assert app.one(VERSION).get("restApiId") == api_id
    info = json.loads(parts["API "].get("properties"))["info"]
    assert info == {k: document["info"][k] for k in ("title", "version", "description")}
    proxy = parts["METHOD /api/{proxy+}"]
    assert proxy.get("location")["method"] == "ANY"
    listing = json.loads(proxy.get("properties"))["description"].splitlines()
    api_ops = [op for op in operations(document) if op.path.startswith("/api/")]
    assert [line.split(" (")[0] for line in listing] == [f"{op.method} {op.path}" for op in api_ops]
    assert "PUT /api/products/{sku}/inventory (bearer JWT, role `admin`)" in "\n".join(listing)
    for part in parts.values():
        assert len(part.get("properties").encode()) < 4096, "documentation parts stay small"


def test_the_stage_publishes_the_documentation_version_of_this_document(app: Plan) -> None:
    version = app.one(VERSION)
    assert version.get("version") == document_version()
    assert app.one(STAGE).get("documentationVersion") == document_version()
