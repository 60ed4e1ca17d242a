"""Plan layers offline: run each layer's real program under mocks, in order, each fed its upstream exports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.declarations import upstream_of
from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT, forward_order, get_layer

DEFAULT_ORG = "organization"


class PlanError(CatalogError):
    """A layer's program failed under the offline planner. `resources`: what it had declared before it stopped."""

    resources: list[Resource] = []  # replaced per instance, never mutated


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]
    provider: str
    custom: bool
    options: dict[str, Any] = field(default_factory=dict)  # retainOnDelete, protect, dependsOn, ignoreChanges

    def get(self, *path: str, default: Any = None) -> Any:
        """Nested input lookup that sees through secret wrappers: `r.get("auth", 0, "iamAuth")`."""
        value: Any = self.inputs
        for key in path:
            value = unwrap(value)
            if isinstance(value, dict):
                value = value.get(key, default)
            elif isinstance(value, list) and isinstance(key, int) and key < len(value):
                value = value[key]
            else:
                return default
        return unwrap(value)


def unwrap(value: Any) -> Any:
    """Remove secret wrappers ({"$secret": v}) at any depth."""
    if isinstance(value, dict):
        if set(value) == {"$secret"}:
            return unwrap(value["$secret"])
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


def mask(value: Any) -> Any:
    """Replace secrets with a marker, for anything printed or written to disk."""
    if isinstance(value, dict):
        if set(value) == {"$secret"}:
            return "[secret]"
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


@dataclass
class Plan:
    layer: str
    suffix: str
    resources: list[Resource]
    invokes: list[dict[str, Any]]
    exports: dict[str, Any]
    secret_exports: set[str]
    reads: list[tuple[str, str, str]]
    seconds: float
    config: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_token)]
            raise AssertionError(f"expected one {type_token}{f' named {name}' if name else ''}, found {names}")
        return found[0]

    def by_name(self, name: str) -> Resource:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name}, found {len(found)}")
        return found[0]

    def custom_resources(self) -> list[Resource]:
        return [r for r in self.resources if r.custom and not r.type.startswith("pulumi:")]

    def export_value(self, name: str) -> Any:
        return unwrap(self.exports[name])

    def to_json(self) -> dict[str, Any]:
        """The plan as written to disk: secrets masked."""
        return {
            "layer": self.layer,
            "suffix": self.suffix,
            "seconds": round(self.seconds, 3),
            "resources": [
                {"type": r.type, "name": r.name, "provider": r.provider, "inputs": mask(r.inputs),
                 "options": {k: v for k, v in r.options.items() if v}}
                for r in self.custom_resources()
            ],
            "exports": {k: ("[secret]" if k in self.secret_exports else mask(v)) for k, v in self.exports.items()},
            "reads": [list(r) for r in self.reads],
        }


def stack_ref(layer: str, suffix: str, org: str = DEFAULT_ORG) -> str:
    return get_layer(layer).stack_reference(suffix, org)


def plan_layer(
    layer: str,
    suffix: str,
    config: Mapping[str, Any] | None = None,
    upstream: Mapping[str, Plan] | None = None,
    secret_keys: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    org: str = DEFAULT_ORG,
) -> Plan:
    """Run `projects/<layer>/__main__.py` under mocks. `config` keys are full (`catalog-data:minAcu`)."""
    spec = get_layer(layer)
    upstream = upstream or {}
    reads = upstream_of(layer)
    missing = [u for u in reads if u not in upstream]
    if missing:
        raise PlanError(f"layer {layer} needs the plan of {', '.join(missing)} first",
                        "plan the layers in order (invoke synth plans them all)")
    request = {
        "layer": layer,
        "suffix": suffix,
        "org": org,
        "program": str(spec.program),
        "config": {"aws:region": "us-east-1", **dict(config or {})},
        "secretKeys": list(secret_keys),
        "upstream": {
            stack_ref(name, suffix, org): {"outputs": plan.exports, "secrets": sorted(plan.secret_exports)}
            for name, plan in upstream.items()
            if name in reads
        },
    }
    started = time.perf_counter()
    result = run_planner(request, spec.directory, f"layer {layer}", env)
    if result["error"]:
        err = result["error"]
        detail = "" if err["kind"].endswith("Error") and "traceback" not in err else f"\n{err.get('traceback', '')}"
        failed = PlanError(f"layer {layer}: {err['kind']}: {err['message']}{detail}")
        failed.resources = [Resource(**r) for r in result["resources"]]
        raise failed
    return plan_from(result, request, started)


def run_planner(request: Mapping[str, Any], cwd: Path, what: str,
                env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run one Pulumi program under the mocks in its own interpreter (`shared.plan.runner`), from `cwd` (its
    project folder); the runner's result, or a PlanError naming `what` when the interpreter itself failed."""
    with tempfile.TemporaryDirectory(prefix="catalog-plan-") as tmp:
        req_path, res_path = Path(tmp) / "request.json", Path(tmp) / "result.json"
        req_path.write_text(json.dumps(request))
        proc_env = {**os.environ, **dict(env or {}), "PYTHONPATH": str(REPO_ROOT)}
        proc = subprocess.run(
            [sys.executable, "-m", "shared.plan.runner", str(req_path), str(res_path)],
            cwd=cwd, env=proc_env, capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0 or not res_path.exists():
            raise PlanError(f"the planner crashed on {what}:\n{proc.stderr.strip()[-4000:]}")
        result: dict[str, Any] = json.loads(res_path.read_text())
    return result


def plan_from(result: Mapping[str, Any], request: Mapping[str, Any], started: float) -> Plan:
    """The Plan of a successful runner result for `request` (planned since `started`)."""
    return Plan(
        layer=request["layer"],
        suffix=request["suffix"],
        resources=[Resource(**r) for r in result["resources"]],
        invokes=result["invokes"],
        exports=result["exports"],
        secret_exports=set(result["secretExports"]),
        reads=[tuple(r) for r in result["reads"]],  # type: ignore[misc]
        seconds=time.perf_counter() - started,
        config=dict(request["config"]),
    )


def plan_chain(
    suffix: str,
    config: Mapping[str, Any] | None = None,
    layers: Iterable[str] | None = None,
    secret_keys: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
) -> dict[str, Plan]:
    """Plan `layers` (default: all) in order, planning their upstream layers too."""
    wanted = set(layers) if layers else {layer.name for layer in forward_order()}
    needed = set(wanted)
    for layer in reversed(forward_order()):
        if layer.name in needed:
            needed.update(upstream_of(layer.name))
    plans: dict[str, Plan] = {}
    for layer in forward_order(sorted(needed)):
        plans[layer.name] = plan_layer(layer.name, suffix, config, plans, secret_keys, env)
    return plans
