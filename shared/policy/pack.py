"""Adapter from the guardrails to Pulumi CrossGuard (`pulumi_policy`), used by `crossguard/__main__.py`.

How a real `pulumi preview --policy-pack shared/policy/crossguard` gives the rules what the offline plan gives them:
- inputs: `args.props` are the engine's resource inputs with the provider schema's camelCase names (the same
  names the offline plan records); secrets arrive unwrapped; values unknown during preview arrive as sentinel
  strings, turned into `UNKNOWN` here so rules skip what they cannot judge yet (`pulumi up` runs them again).
- suffix and layer: from the URN (`urn:pulumi:<stack>::catalog-<layer>::...`): the stack name is the suffix;
  `pulumi.get_stack()` is the fallback (policy packs get PULUMI_STACK from the CLI).
- region: the resource's own `region` input (pulumi-aws v7), else `args.provider.props["region"]` (explicit and
  default providers both carry it), else the `aws:region` stack config.
- options: `args.opts.protect` is visible; `retain_on_delete` is not part of the analyzer protocol, so the stack
  policy `no-retain-on-delete-source` reads the layer's source instead (source_scan.py).
- references between resources: a new resource's id/ARN is unknown in preview, so stack rules match references
  through `property_dependencies` (resource URNs per input) as well as by name.
- the network layer's private subnets live in another stack: configure them for `private-subnets-only` with
  `--policy-pack-config` ({"private-subnets-only": {"privateSubnetIds": [...]}}); without them it reports
  not-applicable. Checks that need another layer's resources (ALB log bucket in the data stack) run offline.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import proxy as _proxy

from shared.policy.catalog import POLICIES
from shared.policy.model import (
    UNKNOWN,
    Context,
    Level,
    Policy,
    Res,
    normalize_type,
    run_resource_check,
    run_stack_check,
)
from shared.policy.naming_rules import NAMED
from shared.policy.source_scan import scan_options
from shared.runtime import APP

PACK_NAME = "catalog-guardrails"
_SENTINELS = frozenset(v for k, v in vars(_proxy).items() if k.startswith("UNKNOWN_") and k.endswith("_VALUE"))
_URN = re.compile(r"^urn:pulumi:(?P<stack>[^:]+)::(?P<project>[^:]+)::")


def plain(value: Any) -> Any:
    """The analyzer's proxies as plain dicts/lists; unknown sentinels become UNKNOWN."""
    if isinstance(value, (_proxy._DictProxy, _proxy._ListProxy)):
        value = value["__target"]
    if isinstance(value, Mapping):
        return {str(k): plain(value[k]) for k in value}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, str) and value in _SENTINELS:
        return UNKNOWN
    return value


def stack_and_layer(urn: str) -> tuple[str, str | None]:
    match = _URN.match(urn or "")
    stack = match.group("stack") if match else pulumi.get_stack()
    project = match.group("project") if match else pulumi.get_project()
    layer = project[len(APP) + 1:] if project.startswith(f"{APP}-") else None
    return stack, layer


def _default_region() -> str | None:
    return pulumi.Config("aws").get("region") or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def to_res(r: Any, deps: Mapping[str, Iterable[Any]] | None = None) -> Res:
    """A ResourceValidationArgs or PolicyResource as a rule input."""
    inputs = plain(r.props)
    provider = getattr(r, "provider", None)
    provider_region = plain(provider.props).get("region") if provider is not None and provider.props else None
    region = inputs.get("region") if isinstance(inputs.get("region"), str) else None
    region = region or (provider_region if isinstance(provider_region, str) else None) or _default_region()
    type_token = normalize_type(r.resource_type)
    idents = {r.urn}
    named = NAMED.get(type_token)
    if named and isinstance(inputs.get(named[0]), str):
        idents.add(inputs[named[0]])
    _, layer = stack_and_layer(r.urn)
    opts = getattr(r, "opts", None)
    return Res(type=r.resource_type, name=r.name, inputs=inputs, urn=r.urn, region=region,
               protect=bool(opts.protect) if opts is not None else None, retain_on_delete=None,
               deps={k: tuple(d.urn for d in v) for k, v in (deps or {}).items()},
               idents=frozenset(idents), layer=layer)


def context_for(urn: str, config: Mapping[str, Any] | None = None) -> Context:
    stack, layer = stack_and_layer(urn)
    private = (config or {}).get("privateSubnetIds")
    return Context(suffix=stack, layer=layer, default_region=_default_region(),
                   private_subnet_ids=frozenset(private) if private else None)


def _level(policy: Policy) -> EnforcementLevel:
    return EnforcementLevel.MANDATORY if policy.level is Level.MANDATORY else EnforcementLevel.ADVISORY


def _resource_validator(policy: Policy) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    check = policy.resource_check
    assert check is not None

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if policy.types is not None and normalize_type(args.resource_type) not in policy.types:
            return
        res = to_res(args)
        for message in run_resource_check(check, res, context_for(args.urn, args.get_config())):
            report(message)

    return validate


def _stack_validator(policy: Policy) -> Callable[[StackValidationArgs, ReportViolation], None]:
    check = policy.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [to_res(r, r.property_dependencies) for r in args.resources
                     if not r.resource_type.startswith("pulumi:")]
        if not resources:
            return
        ctx = context_for(resources[0].urn, args.get_config())
        if policy.name == "private-subnets-only" and ctx.private_subnet_ids is None:
            args.not_applicable("set privateSubnetIds (the network layer's export) in --policy-pack-config")
        for res, message in run_stack_check(check, resources, ctx):
            report(message, res.urn if res is not None and res.urn else None)

    return validate


def _source_scan(args: StackValidationArgs, report: ReportViolation) -> None:
    """retain_on_delete never reaches a policy: read it from the layer's program instead."""
    urn = next((r.urn for r in args.resources if r.urn), "")
    _, layer = stack_and_layer(urn)
    if layer is None:
        return
    try:
        found = scan_options(layer)
    except Exception:  # an unknown layer: not ours to judge
        return
    for name, message in found:
        if name == "no-retain-on-delete":
            report(message)


def build_policies(policies: Iterable[Policy] = POLICIES) -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """Every guardrail as a CrossGuard policy (plus the source scan for retain_on_delete)."""
    out: list[ResourceValidationPolicy | StackValidationPolicy] = []
    for policy in policies:
        description = f"{policy.description} Why: {policy.why}"
        if policy.resource_check is not None:
            out.append(ResourceValidationPolicy(name=policy.name, description=description,
                                                enforcement_level=_level(policy),
                                                validate=_resource_validator(policy)))
        if policy.stack_check is not None:
            schema = None
            if policy.name == "private-subnets-only":
                schema = PolicyConfigSchema(properties={"privateSubnetIds": {"type": "array",
                                                                             "items": {"type": "string"}}})
            out.append(StackValidationPolicy(name=policy.name, description=description,
                                             enforcement_level=_level(policy), config_schema=schema,
                                             validate=_stack_validator(policy)))
    out.append(StackValidationPolicy(
        name="no-retain-on-delete-source", enforcement_level=EnforcementLevel.MANDATORY,
        description="No retain_on_delete in the layer's program (the engine does not show options to policies); "
                    "inline on a Lambda@Edge Function is the documented exception.",
        validate=_source_scan))
    return out
