"""Run the guardrails over resources: one stack (`evaluate`) or the whole offline plan (`run_rules`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.policy.aws_models import coverage_markdown
from shared.policy.catalog import POLICIES
from shared.policy.model import (
    UNKNOWN,
    Context,
    Policy,
    Res,
    Violation,
    as_list,
    refers,
    run_resource_check,
    run_stack_check,
)
from shared.policy.naming_rules import NAMED
from shared.policy.source_scan import scan_options

if TYPE_CHECKING:
    from shared.plan import Plan

Finding = tuple[Policy, Res | None, str]
# Computed outputs other resources use to point at a resource.
IDENT_KEYS = ("id", "arn", "name", "bucket", "keyId", "clusterIdentifier", "identifier", "qualifiedArn",
              "dbProxyEndpointName", "dashboardName", "alarmName")


def evaluate(resources: list[Res], ctx: Context, policies: Iterable[Policy] = POLICIES) -> list[Finding]:
    """Every finding of `policies` over one stack's resources."""
    findings: list[Finding] = []
    for policy in policies:
        if policy.resource_check is not None:
            for res in resources:
                if policy.types is None or res.type in policy.types:
                    findings += [(policy, res, msg) for msg in run_resource_check(policy.resource_check, res, ctx)]
        if policy.stack_check is not None:
            findings += [(policy, res, msg) for res, msg in run_stack_check(policy.stack_check, resources, ctx)]
    return findings


def private_subnets(resources: list[Res]) -> frozenset[str]:
    """Ids of subnets whose route table sends nothing to an internet gateway (and that get no public IPs)."""
    igws = [r for r in resources if r.type == "aws:ec2/internetGateway:InternetGateway"]

    def to_igw(route: Mapping[str, Any], source: Res | None = None) -> bool:
        gateway = route.get("gatewayId")
        if isinstance(gateway, str) and (gateway.startswith("igw-") or any(gateway in g.idents for g in igws)):
            return True
        return source is not None and any(refers(source, "gatewayId", g) for g in igws)

    tables = [r for r in resources if r.type == "aws:ec2/routeTable:RouteTable"]
    public_tables = set()
    for table in tables:
        inline = any(to_igw(route) for route in as_list(table.inputs.get("routes")) if isinstance(route, dict))
        separate = any(to_igw(route.inputs, route) for route in resources
                       if route.type == "aws:ec2/route:Route" and refers(route, "routeTableId", table))
        if inline or separate:
            public_tables.add(table.name)
    private: set[str] = set()
    for subnet in (r for r in resources if r.type == "aws:ec2/subnet:Subnet"):
        if subnet.inputs.get("mapPublicIpOnLaunch") is True:
            continue
        assoc_tables = [t for a in resources if a.type == "aws:ec2/routeTableAssociation:RouteTableAssociation"
                        and refers(a, "subnetId", subnet) for t in tables if refers(a, "routeTableId", t)]
        if assoc_tables and not any(t.name in public_tables for t in assoc_tables):
            private.update(i for i in subnet.idents if isinstance(i, str) and i.startswith("subnet-"))
    return frozenset(private)


def _provider_region(plan: Plan, provider: str) -> str | None:
    if not provider:
        return None
    for r in plan.resources:
        if r.type.startswith("pulumi:providers:aws") and f"::{r.name}::" in f"{provider}::":
            region = r.inputs.get("region")
            return region if isinstance(region, str) else None
    return None


def identities(type_token: str, name: str, inputs: dict[str, Any]) -> frozenset[str]:
    """What other resources use to point at this one offline: physical name, and the id/ARN AWS would compute."""
    from shared.plan import computed_state

    rid, state = computed_state(type_token, name, inputs)
    idents = {rid} | {state[k] for k in IDENT_KEYS if isinstance(state.get(k), str)}
    named = NAMED.get(type_token)
    if named and isinstance(inputs.get(named[0]), str):
        idents.add(inputs[named[0]])
    return frozenset(idents)


def plan_resources(plan: Plan) -> list[Res]:
    """The plan's custom resources as rule inputs: secrets unwrapped, identities computed like AWS would."""
    from shared.plan import unwrap

    default_region = plan.config.get("aws:region", "us-east-1")
    out = []
    for r in plan.custom_resources():
        inputs = unwrap(r.inputs)
        options = getattr(r, "options", None) or {}
        out.append(Res(type=r.type, name=r.name, inputs=inputs, urn="",
                       region=inputs.get("region") or _provider_region(plan, r.provider) or default_region,
                       protect=options.get("protect"), retain_on_delete=options.get("retainOnDelete"),
                       idents=identities(r.type, r.name, inputs), layer=plan.layer))
    return out


def _violation(layer: str, policy: Policy, res: Res | None, message: str) -> Violation:
    return Violation(policy=policy.name, level=policy.level.value, layer=layer,
                     resource_type=res.type if res else "stack", resource_name=res.name if res else "",
                     message=message)


def run_rules(plans: Mapping[str, Plan], policies: Iterable[Policy] = POLICIES,
              scan_sources: bool = True) -> list[Violation]:
    """Every violation over the offline plan of the given layers, in layer order, mandatory first per layer."""
    policies = tuple(policies)
    resources = {layer: plan_resources(plan) for layer, plan in plans.items()}
    private = private_subnets(resources["network"]) if "network" in resources else None
    violations: list[Violation] = []
    seen: list[str] = []
    for layer, plan in plans.items():
        ctx = Context(suffix=plan.suffix, layer=layer, default_region=plan.config.get("aws:region", "us-east-1"),
                      private_subnet_ids=private, upstream={u: resources[u] for u in seen})
        found = [_violation(layer, p, r, m) for p, r, m in evaluate(resources[layer], ctx, policies)]
        if scan_sources and any(p.name == "no-retain-on-delete" for p in policies):
            by_name = {p.name: p for p in policies}
            found += [_violation(layer, by_name[name], None, msg) for name, msg in scan_options(layer)
                      if name in by_name]
        violations += sorted(found, key=lambda v: v.level != "mandatory")
        seen.append(layer)
    return violations


def mandatory(violations: Iterable[Violation]) -> list[Violation]:
    return [v for v in violations if v.level == "mandatory"]


__all__ = ["UNKNOWN", "evaluate", "identities", "mandatory", "plan_resources", "private_subnets", "run_rules"]


def write_coverage(plans: Mapping[str, Plan], out_dir: Path) -> Path:
    """build/plan/<suffix>/model-coverage.md for `invoke synth`: which planned inputs are held against AWS's models."""
    resources = [r for plan in plans.values() for r in plan_resources(plan)]
    suffix = next(iter(plans.values())).suffix if plans else ""
    path = out_dir / "model-coverage.md"
    path.write_text(coverage_markdown(resources, suffix))
    return path
