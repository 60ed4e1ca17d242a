"""The guardrails run where deploys happen: every preview and up passes the CrossGuard pack to Pulumi, a mandatory
violation stops the update (and every layer after it), and a deploy without the pack is refused before anything
is touched."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pulumi import automation as auto

from shared.deploy.automation import AutomationBackend
from shared.deploy.doctor import check_guardrails
from shared.deploy.environment import DeployEnvironment
from shared.policy import PACK_DIR, pack_virtualenv_problem, require_pack
from shared.runtime.errors import CatalogError
from shared.runtime.layers import LAYER_NAMES, REPO_ROOT, get_layer
from tests.deploy.test_orchestration import World, set_identity

S = "qa"

# A `pulumi` on PATH that records its arguments and answers like a CLI with nothing to do.
STUB_PULUMI = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.path.join(os.path.dirname(__file__), "..", "calls.jsonl"), "a") as log:
    log.write(json.dumps(args) + "\\n")
if "version" in args[:2] or args[-1:] == ["version"]:
    print("v{version}")
elif "ls" in args:
    print("[]")
"""


def stub_backend(tmp_path: Path) -> tuple[AutomationBackend, Path]:
    stub = tmp_path / "bin" / "pulumi"
    stub.parent.mkdir()
    stub.write_text(STUB_PULUMI.format(python=sys.executable, version="3.272.0"))
    stub.chmod(0o755)
    env = DeployEnvironment(f"file://{tmp_path}/state", "file", "passphrase",
                            env_vars={"PULUMI_CONFIG_PASSPHRASE": "test"})
    return AutomationBackend(env, auto.PulumiCommand(root=str(tmp_path), skip_version_check=True)), tmp_path


@pytest.mark.parametrize("operation", ["preview", "up"])
def test_the_real_backend_hands_the_pack_to_the_pulumi_cli(tmp_path: Path, operation: str) -> None:
    backend, root = stub_backend(tmp_path)
    layer = get_layer("network")
    run = getattr(backend, operation)
    # The stub prints no result, so the Automation API fails after the call: only the command line matters here.
    with pytest.raises(Exception):  # noqa: B017 - whatever the SDK makes of an empty answer
        run(layer, S, lambda event: None, policy_packs=require_pack())
    calls = [json.loads(line) for line in (root / "calls.jsonl").read_text().splitlines()]
    (call,) = [argv for argv in calls if operation in argv]
    assert call[call.index("--policy-pack") + 1] == str(PACK_DIR)


def prepared_world() -> World:
    """The orchestration tests' world (in-memory stacks, stand-ins for AWS) with secrets and identity set."""
    world = World()
    world.orch.ensure_secrets(S)
    set_identity(world)
    return world


def test_every_preview_and_up_of_every_layer_carries_the_pack() -> None:
    world = prepared_world()
    world.orch.up_all(S)
    world.orch.preview(get_layer("data"), S)
    received = world.backend.policy_packs
    # Each layer's up follows its own preview (the one the question showed), both with the pack.
    assert [(op, layer) for op, layer, _ in received] == [*((op, name) for name in LAYER_NAMES
                                                            for op in ("preview", "up")), ("preview", "data")]
    assert all(packs == (str(PACK_DIR),) for _, _, packs in received)


def test_a_mandatory_violation_stops_the_update_and_every_layer_after_it() -> None:
    world = prepared_world()
    world.backend.violations["data"] = "[mandatory] rds-proxy-pool: pool is 90 connections, the mission limits it"
    results = {r.layer: r for r in world.orch.up_all(S)}
    assert results["data"].ok is False and "mandatory policy violation: [mandatory] rds-proxy-pool" in results[
        "data"].detail
    assert [results[name].result for name in ("app", "edge", "observability")] == ["not run"] * 3
    ups = [layer for op, layer, _ in world.backend.calls if op == "up"]
    # The violation shows in data's preview: its update never starts, nor do app's, edge's, observability's.
    assert ups == ["network"]
    assert [q for q in world.questions if "catalog-data" in q] == []  # never asked to deploy what the pack refused


def test_a_deploy_without_the_pack_is_refused_before_anything_is_touched(tmp_path: Path) -> None:
    world = World()
    world.orch.guardrails = lambda: require_pack(tmp_path / "crossguard")
    for run in (lambda: world.orch.up(get_layer("network"), S), lambda: world.orch.preview(get_layer("network"), S),
                lambda: world.orch.up_all(S)):
        with pytest.raises(CatalogError) as err:
            run()
        assert "\n" not in str(err.value)
        assert "the guardrails pack" in str(err.value) and "is missing" in str(err.value)
    assert world.backend.calls == [] and world.backend.stacks == {}


def test_the_pack_needs_pulumi_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "pulumi_policy" else real(name))
    with pytest.raises(CatalogError, match="needs the pulumi-policy package"):
        require_pack()


def test_doctor_reports_a_pack_that_would_run_in_another_virtualenv(tmp_path: Path) -> None:
    assert pack_virtualenv_problem(python_prefix=str(REPO_ROOT / ".venv")) is None
    problem = pack_virtualenv_problem(python_prefix=str(tmp_path))
    assert problem is not None and str((REPO_ROOT / ".venv").resolve()) in problem and "python3 -m venv" in problem
    assert check_guardrails(prefix=str(tmp_path)).status == "FAIL"
    assert check_guardrails(prefix=str(REPO_ROOT / ".venv")).status == "OK"
