"""Guardrails: the mission's constraints and AWS's rules as pure functions over resource inputs.

The same rules serve the Pulumi policy pack (`policy/`, on a real `pulumi preview --policy-pack policy`) and the
offline plan (`run_rules(plans)`, used by `invoke synth` and `invoke check`).
"""

from shared.policy.catalog import BY_NAME, POLICIES
from shared.policy.engine import (
    evaluate,
    mandatory,
    plan_resources,
    private_subnets,
    run_rules,
    write_coverage,
)
from shared.policy.model import UNKNOWN, Context, Level, Policy, Res, Violation

__all__ = ["BY_NAME", "POLICIES", "UNKNOWN", "Context", "Level", "Policy", "Res", "Violation", "evaluate",
           "mandatory", "plan_resources", "private_subnets", "run_rules", "write_coverage"]
