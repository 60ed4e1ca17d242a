"""The stack-reference contract: producers export exactly what they declare, consumers read only declared
outputs they are listed for, and a missing upstream output names the command that fixes it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.contracts import outputs_of
from shared.layers import LAYERS, REPO_ROOT, get_layer
from shared.plan.planner import Plan, PlanError, plan_layer
from tests.conftest import BASE_CONFIG, SECRET_KEYS, SUFFIX


def test_every_layer_exports_exactly_its_contract(chain: dict[str, Plan]) -> None:
    for name, plan in chain.items():
        declared = outputs_of(name)
        assert set(plan.exports) == set(declared), name
        secret = {n for n, spec in declared.items() if spec.secret}
        assert plan.secret_exports >= secret, f"{name}: secret outputs exported in clear text"


def test_every_declared_output_is_described_and_readers_come_later() -> None:
    for layer in LAYERS:
        for spec in outputs_of(layer.name).values():
            assert spec.description, f"{layer.name}:{spec.name}"
            for reader in spec.readers:
                assert layer.name in get_layer(reader).upstream, f"{reader} may not read {layer.name}"


def test_reads_are_declared_and_declared_readers_really_read(chain: dict[str, Plan]) -> None:
    actual: dict[tuple[str, str], set[str]] = {}
    for plan in chain.values():
        for consumer, producer, output in plan.reads:
            assert consumer == plan.layer
            spec = outputs_of(producer)[output]
            assert consumer in spec.readers
            actual.setdefault((producer, output), set()).add(consumer)
    for producer in chain:
        for spec in outputs_of(producer).values():
            present = {r for r in spec.readers if r in chain}
            assert actual.get((producer, spec.name), set()) == present, (
                f"{producer}:{spec.name} declares readers {sorted(present)} but is read by "
                f"{sorted(actual.get((producer, spec.name), set()))}")


def _downstream_with_reads(chain: dict[str, Plan]) -> tuple[str, str, str] | None:
    for plan in chain.values():
        if plan.reads:
            return plan.reads[0]
    return None


def test_missing_upstream_output_names_the_command_to_run(chain: dict[str, Plan]) -> None:
    read = _downstream_with_reads(chain)
    if read is None:
        pytest.skip("no layer reads another layer yet")
    consumer, producer, output = read
    doctored = {name: plan for name, plan in chain.items()}
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


def test_undeclared_reads_are_refused(tmp_path: Path) -> None:
    upstream = {"organization/catalog-network/qa": {"outputs": {"vpcId": "vpc-1"}, "secrets": []}}
    result = _run_program(tmp_path, "app", "from shared.contracts import Upstream\n"
                          "Upstream('app', 'network', 'qa', 'organization').require('vpcId')\n", upstream)
    assert result["error"]["kind"] == "ContractError"
    assert "layer app reads network:vpcId but is not a declared reader" in result["error"]["message"]

    result = _run_program(tmp_path, "app", "from shared.contracts import Upstream\n"
                          "Upstream('app', 'network', 'qa', 'organization').require('subnets')\n", upstream)
    assert "layer network declares no output 'subnets'" in result["error"]["message"]

    result = _run_program(tmp_path, "network", "from shared.contracts import Upstream\n"
                          "Upstream('network', 'data', 'qa', 'organization')\n", upstream)
    assert "layer network may not read layer data" in result["error"]["message"]


def test_exports_must_match_the_contract(tmp_path: Path) -> None:
    result = _run_program(tmp_path, "network", "from shared.contracts import export_outputs\n"
                          "export_outputs('network', {'vpcId': 'v', 'extra': 1})\n", {})
    assert result["error"]["kind"] == "ContractError"
    assert "undeclared ['extra']" in result["error"]["message"]
