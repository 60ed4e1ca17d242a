"""The bootstrap project as the deploy tool sees it: input checks, the offline plan, the Automation API target.

`projects/bootstrap` is not one of the five layers (LAYERS): up-all and down-all never touch it. Its modules are
loaded by convention (importlib), as `declarations` loads a layer's, never imported statically.
"""

from __future__ import annotations

import importlib
import json
import time
from types import ModuleType

from shared.plan import Plan, PlanError, plan_from, run_planner
from shared.runtime.errors import ConfigError
from shared.runtime.layers import LAYER_NAMES, PROJECTS_DIR, Layer
from shared.runtime.naming import validate_suffix

NAME = "bootstrap"
PROJECT = f"catalog-{NAME}"
# A Layer-shaped handle so the orchestration's Automation API backend can drive the project like a layer.
TARGET = Layer(NAME, "platform", "state bucket, secrets key, GitHub OIDC provider, per-team roles")


def module(name: str) -> ModuleType:
    return importlib.import_module(f"projects.{NAME}.{name}")


def config_for(github_repo: str, layers: list[str] | None = None, state_bucket: str = "",
               main_branch: str = "", network_vpc_id: str = "") -> dict[str, str]:
    """The stack config (`catalog-bootstrap:<key>`) for the task's flags; empty flags keep the defaults."""
    config = {"githubRepo": github_repo}
    if layers:
        config["layers"] = json.dumps(layers)
    if state_bucket:
        config["stateBucket"] = state_bucket
    if main_branch:
        config["mainBranch"] = main_branch
    if network_vpc_id:
        config["networkVpcId"] = network_vpc_id
    return config


def validate(suffix: str, config: dict[str, str]) -> None:
    """Every check the program makes, before any stack is touched: one CatalogError naming the value and rule."""
    validate_suffix(suffix)
    settings = module("settings")
    for name in json.loads(config.get("layers", "[]")):
        if name not in LAYER_NAMES:
            raise ConfigError(f"unknown layer {name!r}", f"choose from: {', '.join(LAYER_NAMES)}")
    from shared.runtime.settings import load_settings

    load_settings(settings.Settings, PROJECT, config)


def plan(suffix: str, config: dict[str, str]) -> Plan:
    """Run `projects/bootstrap/__main__.py` under the planner's mocks (no AWS, no Pulumi CLI)."""
    validate(suffix, config)
    program = PROJECTS_DIR / NAME / "__main__.py"
    request = {"layer": NAME, "suffix": suffix, "org": "organization", "program": str(program),
               "config": {"aws:region": "us-east-1", **{f"{PROJECT}:{k}": v for k, v in config.items()}},
               "secretKeys": [], "upstream": {}}
    started = time.perf_counter()
    result = run_planner(request, program.parent, "the bootstrap")
    if result["error"]:
        raise PlanError(f"bootstrap: {result['error']['kind']}: {result['error']['message']}")
    return plan_from(result, request, started)


def summary(result: Plan) -> list[str]:
    """Lines for the terminal: resources by type, then the exports (what the repository variables become)."""
    counts: dict[str, int] = {}
    for resource in result.custom_resources():
        counts[resource.type] = counts.get(resource.type, 0) + 1
    lines = [f"bootstrap/{result.suffix}: {sum(counts.values())} resources (offline plan)"]
    lines += [f"  {count:3d}  {kind}" for kind, count in sorted(counts.items())]
    lines += [f"  export {name} = {json.dumps(value)}" for name, value in sorted(result.exports.items())]
    return lines
