"""The stack-reference contract: producers export exactly what they declare, consumers read through typed views
of declared outputs only, and a missing upstream output names the command that fixes it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.declarations import outputs_of, readers_of, reads_of, upstream_of, views_of
from shared.plan.planner import Plan, PlanError, plan_layer
from shared.runtime.contracts import LayerOutputs, OutputSpec, output_name, reads
from shared.runtime.errors import ContractError
from shared.runtime.layers import LAYERS, REPO_ROOT
from tests.conftest import BASE_CONFIG, SECRET_KEYS, SUFFIX


def test_every_layer_exports_exactly_its_contract_with_secrets_kept_secret(chain: dict[str, Plan]) -> None:
    for name, plan in chain.items():
        declared = outputs_of(name)
        assert set(plan.exports) == set(declared), name
        secret = {n for n, spec in declared.items() if spec.secret}
        assert plan.secret_exports >= secret, f"{name}: secret outputs exported in clear text"


def test_exported_values_have_their_declared_types(chain: dict[str, Plan]) -> None:
    python_type = {"str": str, "int": (int, float), "float": (int, float), "list[str]": list,
                   "dict[str, str]": dict}
    for name, plan in chain.items():
        for spec in outputs_of(name).values():
            value = plan.export_value(spec.name)
            assert isinstance(value, python_type[spec.type_name]), f"{name}:{spec.name} = {value!r}"


def test_what_the_programs_read_is_exactly_what_their_views_declare(chain: dict[str, Plan]) -> None:
    for consumer, plan in chain.items():
        actual: dict[str, set[str]] = {}
        for reader, producer, output in plan.reads:
            assert reader == consumer
            actual.setdefault(producer, set()).add(output)
        declared = {producer: set(reads_of(consumer, producer)) for producer in upstream_of(consumer)}
        assert actual == declared, consumer


def test_readers_and_upstream_lists_are_derived_from_the_consumers_views() -> None:
    # The app layer's view of the data layer names proxyEndpoint: so app is a reader of it, and data is upstream
    # of app; nobody reads the observability layer.
    assert "app" in readers_of("data", "proxyEndpoint")
    assert upstream_of("app") == ("network", "data")
    assert upstream_of("network") == ()
    assert all(not readers_of("observability", name) for name in outputs_of("observability"))
    order = [layer.name for layer in LAYERS]
    for layer in order:
        for producer in upstream_of(layer):
            assert order.index(producer) < order.index(layer), f"{layer} reads the later layer {producer}"


def test_a_view_field_must_name_a_declared_output() -> None:
    outputs = LayerOutputs("network", (OutputSpec("vpcId", str, "VPC id"),))
    with pytest.raises(ContractError, match=r"reads network:subnetIds, which layer network does not declare"):
        @reads(outputs)
        class Broken:
            subnet_ids: str
    assert output_name("proxy_read_only_endpoint") == "proxyReadOnlyEndpoint"
    assert views_of("network") == ()


def test_missing_upstream_output_names_the_command_to_run(chain: dict[str, Plan]) -> None:
    consumer, producer, output = chain["app"].reads[0]
    doctored = dict(chain)
    upstream = chain[producer]
    doctored[producer] = Plan(**{**upstream.__dict__,
                                 "exports": {k: v for k, v in upstream.exports.items() if k != output}})
    with pytest.raises(PlanError) as err:
        plan_layer(consumer, SUFFIX, BASE_CONFIG, doctored, secret_keys=SECRET_KEYS)
    message = str(err.value)
    assert f"layer {producer} (stack organization/catalog-{producer}/{SUFFIX}) has no output {output}" in message
    assert f"run `invoke up --layer {producer} --suffix {SUFFIX}` first" in message


def _run_program(tmp_path: Path, layer: str, source: str, upstream: dict) -> dict:
    program = tmp_path / "__main__.py"
    program.write_text(source)
    request = {"layer": layer, "suffix": "qa", "program": str(program), "config": {}, "upstream": upstream}
    (tmp_path / "req.json").write_text(json.dumps(request))
    subprocess.run([sys.executable, "-m", "shared.plan.runner", str(tmp_path / "req.json"),
                    str(tmp_path / "res.json")], cwd=REPO_ROOT, check=True, capture_output=True)
    return json.loads((tmp_path / "res.json").read_text())


def test_a_layer_may_not_read_a_later_layer(tmp_path: Path) -> None:
    result = _run_program(tmp_path, "network", "from shared.runtime.contracts import Upstream\n"
                          "Upstream('network', 'data', 'qa', 'organization')\n", {})
    assert result["error"]["kind"] == "ContractError"
    assert "layer network may not read layer data" in result["error"]["message"]


def test_exports_must_match_the_contract(tmp_path: Path) -> None:
    result = _run_program(tmp_path, "network", "from shared.runtime.contracts import export_outputs\n"
                          "from projects.network.outputs import OUTPUTS\n"
                          "export_outputs(OUTPUTS, {'vpcId': 'v', 'extra': 1})\n", {})
    assert result["error"]["kind"] == "ContractError"
    assert "undeclared ['extra']" in result["error"]["message"]
    assert "missing ['albHttpSecurityGroupId'" in result["error"]["message"]
