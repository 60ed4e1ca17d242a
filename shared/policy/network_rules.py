"""Security groups, private placement, and the ALB's Lambda target groups."""

from __future__ import annotations

from collections.abc import Iterable

from shared.policy.compute_rules import FUNCTION, is_edge
from shared.policy.model import UNKNOWN, Context, Finding, Res, as_list, parse_json, refers
from shared.policy.storage_rules import BUCKET, BUCKET_POLICY, SSE
from shared.runtime import mission

OPEN = ("0.0.0.0/0", "::/0")
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
HEALTH_INTERVAL, HEALTH_TIMEOUT = mission.HEALTH_CHECK_INTERVAL_S, mission.HEALTH_CHECK_TIMEOUT_S
ELB_PRINCIPALS = ("arn:aws:iam::127311923021:root", "logdelivery.elasticloadbalancing.amazonaws.com")


def check_public_ingress(res: Res, ctx: Context) -> Iterable[str]:
    """No security group admits the whole internet (0.0.0.0/0 or ::/0) inbound."""
    if res.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        for key in ("cidrIpv4", "cidrIpv6"):
            if res.inputs.get(key) in OPEN:
                yield f"ingress from {res.inputs[key]}: only CloudFront's prefix list or other groups may reach us"
    elif res.type == "aws:ec2/securityGroupRule:SecurityGroupRule" and res.inputs.get("type") == "ingress":
        for cidr in as_list(res.inputs.get("cidrBlocks")) + as_list(res.inputs.get("ipv6CidrBlocks")):
            if cidr in OPEN:
                yield f"ingress from {cidr}"
    elif res.type == "aws:ec2/securityGroup:SecurityGroup":
        for rule in as_list(res.inputs.get("ingress")):
            if isinstance(rule, dict):
                for cidr in as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks")):
                    if cidr in OPEN:
                        yield f"inline ingress from {cidr} (port {rule.get('fromPort')})"


def check_private_placement(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """Aurora (its subnet group), RDS Proxy and the API function sit in the network layer's private subnets."""
    private = ctx.private_subnet_ids
    if private is None:
        return
    placed = [(r, "subnetIds") for r in resources if r.type == "aws:rds/subnetGroup:SubnetGroup"]
    placed += [(r, "vpcSubnetIds") for r in resources if r.type == "aws:rds/proxy:Proxy"]
    placed += [(r, "vpcConfig") for r in resources if r.type == FUNCTION and not is_edge(r, ctx)]
    for res, key in placed:
        subnets = res.get("vpcConfig", "subnetIds") if key == "vpcConfig" else res.inputs.get(key)
        ids = [s for s in as_list(subnets) if isinstance(s, str) and s is not UNKNOWN]
        public = [s for s in ids if s not in private]
        if public:
            yield res, f"subnets {', '.join(public)} are not private subnets of the network layer"
        if res.type == "aws:rds/subnetGroup:SubnetGroup" and subnets is not UNKNOWN and len(ids) < 2:
            yield res, "a DB subnet group needs subnets in at least two AZs (the mission: three)"


def check_health_check(res: Res, ctx: Context) -> Iterable[str]:
    """ALB target groups check health every 5 s with a 2 s timeout (Lambda targets: enabled explicitly)."""
    hc = res.inputs.get("healthCheck")
    if hc is UNKNOWN:
        return
    hc = hc if isinstance(hc, dict) else {}
    lambda_target = res.inputs.get("targetType") == "lambda"
    if hc.get("enabled") is False or (lambda_target and hc.get("enabled") is not True):
        yield "health check is off (Lambda target groups need enabled=true); the mission asks for 5 s / 2 s"
    if hc.get("interval") not in (HEALTH_INTERVAL, UNKNOWN):
        yield f"healthCheck.interval is {hc.get('interval', 'unset (35)')}; the mission asks for {HEALTH_INTERVAL} s"
    if hc.get("timeout") not in (HEALTH_TIMEOUT, UNKNOWN):
        yield f"healthCheck.timeout is {hc.get('timeout', 'unset')}; the mission asks for {HEALTH_TIMEOUT} s"


def check_lambda_tg_stickiness(res: Res, ctx: Context) -> Iterable[str]:
    """A Lambda target group takes no stickiness attributes (AWS refuses them); stickiness lives on the listener."""
    if res.inputs.get("targetType") == "lambda" and res.inputs.get("stickiness") not in (None, {}, []):
        yield ("stickiness block on a Lambda target group fails at deploy: remove it and use forward.stickiness "
               "on the listener action")


def check_lambda_tg_permission(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """Each Lambda target group may invoke its function: lambda:InvokeFunction for elasticloadbalancing."""
    perms = [p for p in resources if p.type == "aws:lambda/permission:Permission"
             and p.inputs.get("principal") == "elasticloadbalancing.amazonaws.com"]
    for tg in (r for r in resources if r.type == TARGET_GROUP and r.inputs.get("targetType") == "lambda"):
        if not any(refers(p, "sourceArn", tg) and p.inputs.get("action") in ("lambda:InvokeFunction", UNKNOWN)
                   for p in perms):
            yield tg, ("no lambda Permission for elasticloadbalancing.amazonaws.com with this target group as "
                       "sourceArn: registering the function fails")


def check_alb_log_bucket(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """The ALB's access-log bucket uses SSE-S3 and lets the ELB account write (AWS refuses otherwise)."""
    everything = resources + [r for layer in ctx.upstream.values() for r in layer]
    for alb in (r for r in resources if r.type == "aws:lb/loadBalancer:LoadBalancer"):
        logs = alb.inputs.get("accessLogs")
        if not isinstance(logs, dict) or logs.get("enabled") is not True:
            continue
        bucket = next((b for b in everything if b.type == BUCKET and logs.get("bucket") in b.idents), None)
        if bucket is None:
            continue  # the bucket lives in another stack: checked when the whole chain is planned
        algorithms = {rule["applyServerSideEncryptionByDefault"].get("sseAlgorithm")
                      for c in everything if c.type == SSE and refers(c, "bucket", bucket)
                      for rule in as_list(c.inputs.get("rules"))
                      if isinstance(rule, dict) and isinstance(rule.get("applyServerSideEncryptionByDefault"), dict)}
        if algorithms and algorithms != {"AES256"}:
            yield alb, f"access-log bucket {bucket.inputs.get('bucket')} uses {algorithms}: ALB logs need SSE-S3"
        docs = [parse_json(p.inputs.get("policy")) for p in everything
                if p.type == BUCKET_POLICY and refers(p, "bucket", bucket)]
        if any(d is UNKNOWN for d in docs):
            continue
        grants = any(isinstance(st, dict) and st.get("Effect") == "Allow" and "s3:PutObject" in as_list(
            st.get("Action")) and any(p in str(st.get("Principal")) for p in ELB_PRINCIPALS)
            for d in docs if isinstance(d, dict) for st in as_list(d.get("Statement")))
        if not grants:
            yield alb, f"bucket {bucket.inputs.get('bucket')} policy does not let the ELB account s3:PutObject"
