"""The bootstrap's offline plan, and the documents it deploys, for the tests under tests/bootstrap/."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.deploy import bootstrap as project
from shared.deploy.interface import OpResult, StackOutput
from shared.deploy.runner import Orchestrator
from shared.plan.planner import Plan
from shared.runtime.layers import Layer
from tests.conftest import SUFFIX
from tests.support.memory import InMemoryBackend

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


class BootstrapMemory(InMemoryBackend):
    """The in-memory backend, with an `up` that needs no layer contract (the bootstrap has none)."""

    def up(self, layer: Layer, suffix: str, on_event: Any, *, policy_packs: Any) -> OpResult:
        self._call("up", layer, suffix)
        self.policy_packs.append(("up", layer.name, tuple(policy_packs)))
        self._get(layer, suffix).outputs = {"stateBackend": StackOutput(f"s3://catalog-state-{suffix}-{ACCOUNT}")}
        return OpResult({"create": 49})


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> BootstrapMemory:
    import shared.deploy.tasks as deploy

    monkeypatch.delenv("GITHUB_TOKEN", raising=False)  # no API asked: a preview warns, an apply needs a flag
    backend = BootstrapMemory()
    orchestrator = Orchestrator(backend, remove_readers=lambda cluster, managed: [], env={})
    monkeypatch.setattr(deploy, "_session", lambda *a, **k: orchestrator)
    return backend
