"""The offline planner itself: plans are real, secrets stay masked on disk, failures are clear."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared.plan.mocks import PlannerError, answer_invoke
from shared.plan.planner import Plan, mask, unwrap
from shared.plan.report import architecture_dot, write_outputs
from tests.conftest import DB_PASSWORD, ORIGIN_VERIFY

REPO = Path(__file__).resolve().parents[2]


def test_plan_json_on_disk_never_holds_a_secret(chain: dict[str, Plan], tmp_path: Path) -> None:
    files = write_outputs(chain, tmp_path)
    text = (tmp_path / "plan.json").read_text()
    assert DB_PASSWORD not in text and ORIGIN_VERIFY not in text
    data = json.loads(text)
    assert set(data) == set(chain)
    assert tmp_path / "architecture.dot" in files


def _graph(dot: str) -> tuple[dict[str, tuple[str, str]], set[tuple[tuple[str, str], tuple[str, str]]]]:
    """The dot text read back: node id -> (layer, resource name), and edges as (user, used) pairs."""
    nodes: dict[str, tuple[str, str]] = {}
    layer = ""
    for line in dot.splitlines():
        if found := re.match(r"\s*subgraph cluster_(\w+) ", line):
            layer = found.group(1)
        elif found := re.match(r'\s*(\w+) \[label="([^"\\]+)\\n', line):
            nodes[found.group(1)] = (layer, found.group(2))
    edges = {(nodes[a], nodes[b]) for a, b in re.findall(r"^\s*(\w+) -> (\w+);$", dot, re.MULTILINE)}
    return nodes, edges


def test_architecture_graph_has_a_cluster_per_layer_and_edges(chain: dict[str, Plan]) -> None:
    dot = architecture_dot(chain)
    for layer in chain:
        assert f"subgraph cluster_{layer}" in dot
    nodes, edges = _graph(dot)
    assert {layer for layer, _ in nodes.values()} == set(chain)
    # An edge points from the resource that names another to the one it names (who depends on whom).
    for user, used in [(("app", "api"), ("app", "api-role")), (("edge", "cdn"), ("app", "alb")),
                       (("data", "db-proxy"), ("network", "proxy-sg")),
                       (("observability", "cloudfront-5xx-rate"), ("edge", "cdn"))]:
        assert (user, used) in edges and (used, user) not in edges, (user, used)
    # Layers deploy in order, so an edge across layers always points back to an earlier layer.
    order = list(chain)
    across = [(a, b) for a, b in edges if a[0] != b[0]]
    assert across and all(order.index(a[0]) > order.index(b[0]) for a, b in across), across


def test_mask_and_unwrap() -> None:
    value = {"a": {"$secret": "s"}, "b": [{"$secret": {"c": 1}}], "d": 2}
    assert mask(value) == {"a": "[secret]", "b": ["[secret]"], "d": 2}
    assert unwrap(value) == {"a": "s", "b": [{"c": 1}], "d": 2}


def test_unknown_data_source_says_where_to_add_it() -> None:
    with pytest.raises(PlannerError, match=r"add one to shared/plan/mocks\.py"):
        answer_invoke("aws:ec2/getVpc:getVpc", {})


def test_a_failing_program_is_reported_with_its_message(tmp_path: Path) -> None:
    program = tmp_path / "__main__.py"
    program.write_text("raise RuntimeError('boom in the program')\n")
    request = {"layer": "network", "suffix": "qa", "program": str(program), "config": {}, "upstream": {}}
    (tmp_path / "req.json").write_text(json.dumps(request))
    subprocess.run([sys.executable, "-m", "shared.plan.runner", str(tmp_path / "req.json"),
                    str(tmp_path / "res.json")], cwd=REPO, check=True, capture_output=True)
    result = json.loads((tmp_path / "res.json").read_text())
    assert result["error"]["kind"] == "RuntimeError" and "boom in the program" in result["error"]["message"]


def test_resource_options_are_recorded(chain: dict[str, Plan]) -> None:
    """Options are not inputs; the planner records them so tests and policies can check them."""
    for plan in chain.values():
        for resource in plan.custom_resources():
            assert set(resource.options) >= {"retainOnDelete", "protect", "dependsOn", "ignoreChanges"}
            assert resource.options["protect"] is False, f"{plan.layer}:{resource.name} is protected"
    retained = {(p.layer, r.name) for p in chain.values() for r in p.custom_resources()
                if r.options["retainOnDelete"]}
    # Only the Lambda@Edge functions are retained: AWS deletes their replicas hours after disassociation.
    assert retained and all(layer == "edge" for layer, _ in retained)
