"""Offline tasks: `synth` (plan every layer under mocks, no AWS, no Pulumi CLI) and `layers`."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from invoke import Context, Exit

from shared.console import documented_task, parse_config_pairs, refuse_clearly
from shared.declarations import upstream_of
from shared.plan.credentials import credentials_line
from shared.plan.offline import offline_config
from shared.plan.planner import Plan, plan_chain
from shared.plan.report import exports_table, layer_table, write_outputs
from shared.policy import run_rules, write_coverage
from shared.runtime.layers import LAYERS, REPO_ROOT, forward_order, get_layer
from shared.runtime.naming import validate_suffix


def run_guardrails(plans: dict[str, Plan]) -> int:
    """Run the policy rules; return the number of mandatory violations."""
    violations = run_rules(plans)
    mandatory = [v for v in violations if v.level == "mandatory"]
    for v in violations:
        print(f"  [{v.level}] {v.layer} {v.resource_type} {v.resource_name}: {v.policy}: {v.message}")
    print(f"guardrails: {len(mandatory)} mandatory, {len(violations) - len(mandatory)} advisory violation(s)")
    return len(mandatory)


def plan_dir(suffix: str, layer: str = "") -> Path:
    """Where synth writes: a partial plan (--layer) in its own folder, so it never replaces the whole plan."""
    base = REPO_ROOT / "build" / "plan" / suffix
    return base / f"layer-{layer}" if layer else base


@documented_task(
    help={
        "suffix": "environment suffix, e.g. qa (2-16 lowercase letters, digits, single hyphens)",
        "layer": "plan only this layer (and the layers it reads); default: all",
        "config": "override a setting, repeatable: --config data:minAcu=1",
        "out": "folder for plan.json and the architecture graph (default build/plan/<suffix>; with --layer "
               "build/plan/<suffix>/layer-<layer>)",
        "quiet": "print only the summary",
    },
    iterable=["config"],
)
@refuse_clearly
def synth(c: Context, suffix: str, layer: str = "", config: list[str] | None = None, out: str = "",
          quiet: bool = False) -> None:
    """Plan the platform offline: every layer's real program under Pulumi mocks, in order."""
    validate_suffix(suffix)
    wanted = [get_layer(layer).name] if layer else None
    overrides = parse_config_pairs(config)
    full_config, secret_keys = offline_config(overrides)
    to_plan = [spec.name for spec in forward_order(wanted)]
    started = time.perf_counter()
    plans = plan_chain(suffix, full_config, layers=to_plan, secret_keys=secret_keys)
    elapsed = time.perf_counter() - started
    for name, plan in plans.items():
        spec = get_layer(name)
        print(f"\n== {name} ({spec.owner}) stack {spec.stack_reference(suffix)}: "
              f"{len(plan.custom_resources())} resources, planned in {plan.seconds:.1f} s")
        print(credentials_line(plan))
        if not quiet:
            print(layer_table(plan))
            print("  exports:")
            print(exports_table(plan))
    out_dir = Path(out) if out else plan_dir(suffix, wanted[0] if wanted else "")
    files = write_outputs(plans, out_dir)
    files.append(write_coverage(plans, out_dir))  # which planned inputs are held against AWS's API models
    total = sum(len(p.custom_resources()) for p in plans.values())
    print(f"\nplanned {len(plans)} layer(s), {total} resources in {elapsed:.1f} s; wrote "
          + ", ".join(str(f.relative_to(REPO_ROOT) if f.is_relative_to(REPO_ROOT) else f) for f in files))
    if wanted:
        print(f"partial plan: these files hold only {', '.join(plans)} (the whole platform's plan: invoke synth "
              f"--suffix {suffix}, in {plan_dir(suffix).relative_to(REPO_ROOT)})")
    if not shutil.which("dot"):
        print("graphviz `dot` not installed: architecture.dot written, no SVG/PNG (apt-get install graphviz)")
    if run_guardrails(plans):
        raise Exit("synth: mandatory guardrail violations (see above)", code=1)


@documented_task()
def layers(c: Context) -> None:
    """List the layers in deploy order with owners, folders and what they read."""
    print(f"{'#':<2} {'layer':<14} {'owner':<20} {'project folder':<34} reads")
    for index, spec in enumerate(LAYERS, 1):
        folder = f"projects/{spec.name}"
        print(f"{index:<2} {spec.name:<14} {spec.owner:<20} {folder:<34} {', '.join(upstream_of(spec.name)) or '-'}")
    print("up-all deploys top to bottom; down-all tears down bottom to top.")
