"""The bootstrap's offline plan, and the documents it deploys, for the tests under tests/bootstrap/."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.deploy import bootstrap as project
from shared.plan.planner import Plan
from tests.conftest import SUFFIX

REPO = "acme/catalog-platform"
ACCOUNT = "123456789012"


@pytest.fixture(scope="session")
def boot() -> Plan:
    return project.plan(SUFFIX, project.config_for(REPO))


def role_documents(plan: Plan, layer: str, kind: str) -> list[dict[str, Any]]:
    """The documents attached to a layer's deploy or plan role, as the bootstrap deploys them."""
    prefix = f"{layer}-{kind}-"
    docs = [json.loads(r.get("policy")) for r in plan.of_type("aws:iam/policy:Policy") if r.name.startswith(prefix)]
    assert docs, f"no documents for {layer}-{kind}"
    return docs


def statements(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for doc in docs for s in doc["Statement"]]
