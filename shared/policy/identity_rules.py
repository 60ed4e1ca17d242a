"""Identity and least privilege on every path: no credential in clear to an internet-facing origin,
the API never connects as the master user, the default security group holds no rules, service roles are
guarded against the confused deputy where AWS supports it."""

from __future__ import annotations

from collections.abc import Iterable

from shared.policy.iam_rules import _statements
from shared.policy.model import UNKNOWN, Context, Finding, Res, as_list, known, parse_json

# Services whose documentation describes aws:SourceAccount / aws:SourceArn in the trust policy of the roles they
# assume (RDS: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/cross-service-confused-deputy-prevention.html;
# VPC Flow Logs: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html). Lambda execution roles
# and API Gateway's CloudWatch role are not listed: AWS documents no such condition for them.
SOURCE_CONDITION_SERVICES = frozenset({"rds.amazonaws.com", "monitoring.rds.amazonaws.com",
                                       "vpc-flow-logs.amazonaws.com", "scheduler.amazonaws.com"})
SOURCE_KEYS = ("aws:sourceaccount", "aws:sourcearn")


def check_origin_https(res: Res, ctx: Context) -> Iterable[str]:
    """An origin reached over the internet (custom origin) is HTTPS only; VPC origins stay on AWS's network."""
    for origin in as_list(res.inputs.get("origins")):
        if not isinstance(origin, dict) or origin.get("vpcOriginConfig"):
            continue
        config = origin.get("customOriginConfig")
        if not isinstance(config, dict):
            continue
        policy = config.get("originProtocolPolicy")
        if known(policy) and policy != "https-only":
            yield (f"origin {origin.get('originId')} ({origin.get('domainName')}) uses {policy} across the "
                   "internet: use https-only or a VPC origin")


def check_alb_no_public_http(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """An internet-facing ALB has no plain HTTP listener: cookies and tokens would cross the internet in clear."""
    public = {ident for r in resources if r.type == "aws:lb/loadBalancer:LoadBalancer"
              and r.inputs.get("internal") is not True and known(r.inputs.get("internal", False))
              for ident in r.idents}
    for r in resources:
        if r.type != "aws:lb/listener:Listener" or r.inputs.get("protocol") != "HTTP":
            continue
        if str(r.inputs.get("loadBalancerArn")) in public:
            yield r, "HTTP listener on an internet-facing ALB: serve HTTPS only (or make the ALB internal)"


def _master_user(ctx: Context, resources: list[Res]) -> str | None:
    for r in [*resources, *ctx.upstream.get("data", [])]:
        if r.type == "aws:rds/cluster:Cluster" and isinstance(r.inputs.get("masterUsername"), str):
            return str(r.inputs["masterUsername"])
    return None


def check_connect_not_master(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """`rds-db:connect` never names the Aurora master user: the API connects as its least-privileged role."""
    master = _master_user(ctx, resources)
    if master is None:
        return
    for r in resources:
        if r.type not in ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"):
            continue
        document = parse_json(r.inputs.get("policy"))
        if document is UNKNOWN:
            continue
        for st in _statements(document):
            actions = [str(a).lower() for a in as_list(st.get("Action"))]
            if st.get("Effect") != "Allow" or not any(a in ("rds-db:connect", "rds-db:*", "*") for a in actions):
                continue
            for arn in as_list(st.get("Resource")):
                user = str(arn).rsplit("/", 1)[-1]
                if user == master or user == "*":
                    yield r, f"rds-db:connect on {arn}: names the master user {master!r} (use the app role)"


def check_default_sg_empty(res: Res, ctx: Context) -> Iterable[str]:
    """The VPC's default security group is held with no ingress and no egress rules."""
    for key in ("ingress", "egress"):
        value = res.inputs.get(key)
        if value is UNKNOWN:
            continue
        if value is None:
            yield f"{key} is not declared: Pulumi then leaves AWS's default rules in place; declare []"
        elif as_list(value):
            yield f"{key} has {len(as_list(value))} rule(s): the default security group must allow nothing"


def check_default_sg_taken_over(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """Every VPC of the stack has its default security group taken over (aws:ec2/defaultSecurityGroup)."""
    vpcs = [r for r in resources if r.type == "aws:ec2/vpc:Vpc"]
    held = [r for r in resources if r.type == "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"]
    for vpc in vpcs:
        if not any(str(h.inputs.get("vpcId")) in vpc.idents for h in held):
            yield vpc, "the VPC's default security group is not taken over (aws.ec2.DefaultSecurityGroup, no rules)"


def check_trust_source(res: Res, ctx: Context) -> Iterable[str]:
    """Roles assumed by a service that supports it carry aws:SourceAccount (or aws:SourceArn) in the trust."""
    document = parse_json(res.inputs.get("assumeRolePolicy"))
    if document is UNKNOWN:
        return
    for st in _statements(document):
        principal = st.get("Principal")
        services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
        guarded = [s for s in services if s in SOURCE_CONDITION_SERVICES]
        if not guarded or st.get("Effect") != "Allow":
            continue
        condition = st.get("Condition") if isinstance(st.get("Condition"), dict) else {}
        keys = {k.lower() for block in condition.values() if isinstance(block, dict) for k in block}
        if not keys.intersection(SOURCE_KEYS):
            yield f"trust of {', '.join(guarded)} has no aws:SourceAccount/aws:SourceArn condition (confused deputy)"
