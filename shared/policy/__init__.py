"""Guardrails: the mission's constraints and AWS's rules as pure functions over resource inputs.

The same rules serve the Pulumi policy pack (`crossguard/`, passed to every `pulumi preview/up` the deploy tool
runs: `enforce.require_pack`) and the offline plan (`run_rules(plans)`, used by `invoke synth` and `invoke check`).
"""

from shared.policy.catalog import BY_NAME, POLICIES
from shared.policy.enforce import PACK_DIR, pack_virtualenv_problem, require_pack
from shared.policy.engine import (
    evaluate,
    mandatory,
    plan_resources,
    private_subnets,
    run_rules,
    write_coverage,
)
from shared.policy.model import UNKNOWN, Context, Level, Policy, Res, Violation

__all__ = [
    "BY_NAME",
    "PACK_DIR",
    "POLICIES",
    "UNKNOWN",
    "Context",
    "Level",
    "Policy",
    "Res",
    "Violation",
    "evaluate",
    "mandatory",
    "pack_virtualenv_problem",
    "plan_resources",
    "private_subnets",
    "require_pack",
    "run_rules",
    "write_coverage",
]
