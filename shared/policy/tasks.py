"""Guardrail task: `check` plans every layer offline and runs only the policy rules (no tables, no files)."""

from __future__ import annotations

from invoke import Context, Exit

from shared.console import documented_task, parse_config_pairs, refuse_clearly
from shared.plan import plan_chain
from shared.policy import BY_NAME, run_rules
from shared.runtime.layers import forward_order, get_layer
from shared.runtime.naming import validate_suffix


@documented_task(
    help={
        "suffix": "environment suffix, e.g. qa (2-16 lowercase letters, digits, single hyphens)",
        "layer": "check only this layer (its upstream layers are planned, not reported); default: all",
        "config": "override a setting, repeatable: --config data:minAcu=1",
        "advisory": "also list advisory findings (default: counted only)",
    },
    iterable=["config"],
)
@refuse_clearly
def check(c: Context, suffix: str, layer: str = "", config: list[str] | None = None, advisory: bool = False) -> None:
    """Run the guardrails (docs/policy.md) over the offline plan; exit 1 on a mandatory violation."""
    from shared.plan import offline_config

    validate_suffix(suffix)
    wanted = [get_layer(layer).name] if layer else None
    full_config, secret_keys = offline_config(parse_config_pairs(config))
    to_plan = [spec.name for spec in forward_order(wanted)]
    plans = plan_chain(suffix, full_config, layers=to_plan, secret_keys=secret_keys)
    violations = [v for v in run_rules(plans) if not wanted or v.layer in wanted]
    total_mandatory = 0
    for name in plans:
        if wanted and name not in wanted:
            continue
        own = [v for v in violations if v.layer == name]
        mandatory = [v for v in own if v.level == "mandatory"]
        total_mandatory += len(mandatory)
        print(f"== {name}: {len(plans[name].custom_resources())} resources, {len(mandatory)} mandatory, "
              f"{len(own) - len(mandatory)} advisory finding(s)")
        for v in own:
            if v.level == "mandatory" or advisory:
                where = f"{v.resource_type} {v.resource_name}".strip()
                print(f"  [{v.level}] {v.policy}: {where}: {v.message}")
    print(f"checked {len(BY_NAME)} policies over {len(plans)} planned layer(s), suffix {suffix!r}: "
          f"{total_mandatory} mandatory violation(s)")
    if total_mandatory:
        raise Exit("check: mandatory guardrail violations (see above)", code=1)
