"""The rehearsal stack (`projects/rehearsal`) as the ops tools see it: its config, its checks, its offline plan.

Like the bootstrap it is not one of the five layers; its modules are loaded by convention (importlib), never
imported statically. The offline plan runs its program under the planner's mocks with the target environment's
planned exports as the stack references' answers, so the same typed views are read as on AWS.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping

from shared.plan import Plan, PlanError, plan_from, run_planner
from shared.runtime.layers import PROJECTS_DIR, Layer, get_layer
from shared.runtime.naming import validate_suffix

NAME = "rehearsal"
PROJECT = f"catalog-{NAME}"
READS = ("network", "app", "edge", "observability")  # the layers projects/rehearsal/upstream.py reads
ORG = "organization"
# A Layer-shaped handle so the deploy tool's stack backend drives the project like a layer (stack
# `catalog-rehearsal/<suffix>`, in the same state backend as the target's stacks).
TARGET = Layer(NAME, "operations", "Locust master and workers on ECS Fargate for a sale rehearsal")


def config_for(users: int, image: str, signing_key_secret_arn: str, duration_seconds: int = 600,
               spawn_rate: float = 0, think_time_seconds: float = 0, sale_sku: str = "") -> dict[str, str]:
    """The stack config (`catalog-rehearsal:<key>`) for the task's flags; empty flags keep the defaults."""
    config = {"users": str(users), "image": image, "signingKeySecretArn": signing_key_secret_arn,
              "durationSeconds": str(duration_seconds)}
    if spawn_rate:
        config["spawnRate"] = str(spawn_rate)
    if think_time_seconds:
        config["thinkTimeSeconds"] = str(think_time_seconds)
    if sale_sku:
        config["saleSku"] = sale_sku
    return config


def validate(suffix: str, config: Mapping[str, str]) -> None:
    """Every check the program makes on its settings, before any stack is touched: one CatalogError."""
    validate_suffix(suffix)
    from shared.runtime.settings import load_settings

    settings = load_settings(importlib.import_module(f"projects.{NAME}.settings").Settings, PROJECT, dict(config))
    settings.validate_environment(suffix)


def plan(suffix: str, config: Mapping[str, str], target: Mapping[str, Plan]) -> Plan:
    """Run `projects/rehearsal/__main__.py` under the planner's mocks; `target`: the environment's layer plans."""
    validate(suffix, config)
    missing = [layer for layer in READS if layer not in target]
    if missing:
        raise PlanError(f"the rehearsal reads {', '.join(missing)}: plan the environment first")
    program = PROJECTS_DIR / NAME / "__main__.py"
    request = {"layer": NAME, "suffix": suffix, "org": ORG, "program": str(program),
               "config": {"aws:region": "us-east-1", **{f"{PROJECT}:{k}": v for k, v in config.items()}},
               "secretKeys": [],
               "upstream": {get_layer(layer).stack_reference(suffix, ORG): {
                   "outputs": target[layer].exports, "secrets": sorted(target[layer].secret_exports)}
                   for layer in READS}}
    started = time.perf_counter()
    result = run_planner(request, program.parent, "the rehearsal")
    if result["error"]:
        raise PlanError(f"rehearsal: {result['error']['kind']}: {result['error']['message']}")
    return plan_from(result, request, started)
