"""The guardrails over the real offline plan of every layer that exists (longest legal suffix): the plan passes
every mandatory policy, and breaking the layers' real resources the way a careless edit would is caught."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from invoke import Context as InvokeContext
from invoke import Exit

from shared.plan.planner import Plan
from shared.policy import (
    BY_NAME,
    Context,
    Res,
    evaluate,
    mandatory,
    plan_resources,
    private_subnets,
    run_rules,
)
from shared.policy.naming_rules import NAMED, SCOPED

NAME_KEYS = ("name", "clusterIdentifier", "identifier", "dashboardName", "alarmName", "dbProxyEndpointName")


def test_full_plan_passes_every_mandatory_policy(chain: dict[str, Plan]) -> None:
    if not chain:
        pytest.skip("no layer has a program yet")
    violations = mandatory(run_rules(chain))
    assert [v.line() for v in violations] == []


def test_every_named_type_in_the_plan_is_judged(chain: dict[str, Plan]) -> None:
    """A new resource type with a physical name must be added to NAMED (or SCOPED, with the reason)."""
    unjudged = {r.type for plan in chain.values() for r in plan.custom_resources()
                if r.type not in NAMED and r.type not in SCOPED and any(k in r.inputs for k in NAME_KEYS)}
    assert unjudged == set()


def test_private_subnets_are_derived_from_the_network_routes(chain: dict[str, Plan]) -> None:
    if "network" not in chain:
        pytest.skip("network layer not written yet")
    private = private_subnets(plan_resources(chain["network"]))
    assert private == set(chain["network"].export_value("privateSubnetIds"))
    assert private.isdisjoint(chain["network"].export_value("publicSubnetIds"))


# ------------------------------------------------------------ mutations of the layers' real resources
def first(resources: list[Res], type_: str, pred: Callable[[Res], bool] = lambda r: True) -> Res:
    found = [r for r in resources if r.type == type_ and pred(r)]
    assert found, f"no {type_} in the plan"
    return found[0]


def drop(resources: list[Res], type_: str, pred: Callable[[Res], bool] = lambda r: True) -> None:
    victim = first(resources, type_, pred)
    resources.remove(victim)


def set_input(type_: str, path: tuple[str, ...], value: Any,
              pred: Callable[[Res], bool] = lambda r: True) -> Callable[[dict[str, list[Res]]], None]:
    def mutate(stacks: dict[str, list[Res]], layer: str) -> None:
        target = first(stacks[layer], type_, pred)
        node: Any = target.inputs
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return mutate  # type: ignore[return-value]


def is_api(r: Res) -> bool:
    return r.layer != "edge"


def is_api_function(r: Res) -> bool:
    """The API itself (not the waiting room controller, the API's image with another command and shape)."""
    return not r.inputs.get("imageConfig")


def elb_permission(r: Res) -> bool:
    return r.inputs.get("principal") == "elasticloadbalancing.amazonaws.com"


def add_statement(stacks: dict[str, list[Res]], layer: str) -> None:
    policy = first(stacks[layer], "aws:iam/rolePolicy:RolePolicy")
    doc = json.loads(policy.inputs["policy"])
    doc["Statement"] = [*doc["Statement"], {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]
    policy.inputs["policy"] = json.dumps(doc)


def edge_role_without_edgelambda(stacks: dict[str, list[Res]], layer: str) -> None:
    fn = first(stacks[layer], "aws:lambda/function:Function")
    role = first(stacks[layer], "aws:iam/role:Role", lambda r: fn.inputs.get("role") in r.idents)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    for st in trust["Statement"]:
        services = st.get("Principal", {}).get("Service")
        if services:
            st["Principal"]["Service"] = [s for s in ([services] if isinstance(services, str) else services)
                                          if s != "edgelambda.amazonaws.com"]
    role.inputs["assumeRolePolicy"] = json.dumps(trust)


def latest_association(stacks: dict[str, list[Res]], layer: str) -> None:
    dist = first(stacks[layer], "aws:cloudfront/distribution:Distribution")
    assoc = dist.inputs["defaultCacheBehavior"]["lambdaFunctionAssociations"][0]
    assoc["lambdaArn"] = assoc["lambdaArn"].rsplit(":", 1)[0] + ":$LATEST"


def public_subnet_for(type_: str, key: tuple[str, ...]) -> Callable[[dict[str, list[Res]], str], None]:
    def mutate(stacks: dict[str, list[Res]], layer: str) -> None:
        public = [i for r in stacks["network"] if r.type == "aws:ec2/subnet:Subnet"
                  and r.inputs.get("mapPublicIpOnLaunch") for i in r.idents if i.startswith("subnet-")]
        set_input(type_, key, public, is_api)(stacks, layer)  # type: ignore[call-arg]
    return mutate


def retarget_log_bucket_sse(stacks: dict[str, list[Res]], layer: str) -> None:
    alb = first(stacks["app"], "aws:lb/loadBalancer:LoadBalancer")
    sse = first(stacks["data"], "aws:s3/bucketServerSideEncryptionConfiguration:"
                                "BucketServerSideEncryptionConfiguration",
                lambda r: r.inputs.get("bucket") == alb.inputs["accessLogs"]["bucket"])
    sse.inputs["rules"] = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]


def drop_instance(stacks: dict[str, list[Res]], layer: str) -> None:
    drop(stacks[layer], "aws:rds/clusterInstance:ClusterInstance")


def drop_lifecycle(stacks: dict[str, list[Res]], layer: str) -> None:
    drop(stacks[layer], "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")


def drop_permission(stacks: dict[str, list[Res]], layer: str) -> None:
    for r in [r for r in stacks[layer] if r.type == "aws:lambda/permission:Permission" and elb_permission(r)]:
        stacks[layer].remove(r)


def drop_method_settings(stacks: dict[str, list[Res]], layer: str) -> None:
    drop(stacks[layer], "aws:apigateway/methodSettings:MethodSettings")


def cloudwatch_not_granted(stacks: dict[str, list[Res]], layer: str) -> None:
    for r in stacks[layer]:
        if r.type in ("aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy") and isinstance(r.inputs.get("policy"), str):
            doc = json.loads(r.inputs["policy"])
            doc["Statement"] = [s for s in doc["Statement"] if "cloudwatch.amazonaws.com" not in json.dumps(s)]
            r.inputs["policy"] = json.dumps(doc)


def strip_eni_permissions(stacks: dict[str, list[Res]], layer: str) -> None:
    for r in stacks[layer]:
        if r.type == "aws:iam/rolePolicy:RolePolicy" and "ec2:" in str(r.inputs.get("policy")):
            doc = json.loads(r.inputs["policy"])
            doc["Statement"] = [s for s in doc["Statement"] if "ec2:" not in json.dumps(s.get("Action"))]
            r.inputs["policy"] = json.dumps(doc)


MUTATIONS: list[tuple[str, str, Callable[..., None], str, str]] = [
    ("app", "lambda-api-shape", set_input("aws:lambda/function:Function", ("memorySize",), 1024.0, is_api_function),
     "3072"),
    ("app", "lambda-api-shape", set_input("aws:lambda/function:Function", ("architectures",), ["x86_64"],
                                          is_api_function), "Graviton2"),
    ("app", "lambda-api-shape", set_input("aws:lambda/function:Function", ("memorySize",), 3072.0,
                                          lambda r: bool(r.get("imageConfig", "commands"))
                                          and "waiting-room" in str(r.get("imageConfig", "commands"))),
     "the waiting room controller takes 512"),
    ("app", "private-subnets-only", public_subnet_for("aws:lambda/function:Function", ("vpcConfig", "subnetIds")),
     "not private"),
    ("app", "lambda-vpc-role", strip_eni_permissions, "ec2:CreateNetworkInterface"),
    ("app", "alb-health-check", set_input("aws:lb/targetGroup:TargetGroup", ("healthCheck", "interval"), 30.0),
     "interval"),
    ("app", "alb-lambda-no-stickiness", set_input("aws:lb/targetGroup:TargetGroup", ("stickiness",),
                                                  {"enabled": True, "type": "lb_cookie"}), "stickiness"),
    ("app", "alb-lambda-permission", drop_permission, "elasticloadbalancing"),
    ("app", "alb-access-log-bucket", retarget_log_bucket_sse, "SSE-S3"),
    ("app", "api-throttle-10k", set_input("aws:apigateway/usagePlan:UsagePlan", ("throttleSettings", "rateLimit"),
                                          5000.0), "10,000"),
    ("app", "api-throttle-present", drop_method_settings, "method settings"),
    ("app", "no-deletion-protection", set_input("aws:lb/loadBalancer:LoadBalancer", ("enableDeletionProtection",),
                                                True), "enableDeletionProtection"),
    ("data", "rds-proxy-pool", set_input("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
                                         ("connectionPoolConfig", "maxConnectionsPercent"), 100.0), "100"),
    ("data", "aurora-serverless-v2", drop_instance, "one writer and two readers"),
    ("data", "rds-proxy-auth", set_input("aws:rds/proxy:Proxy", ("requireTls",), False), "requireTls"),
    ("data", "dynamodb-on-demand", set_input("aws:dynamodb/table:Table", ("billingMode",), "PROVISIONED"),
     "PAY_PER_REQUEST"),
    ("data", "s3-bucket-baseline", drop_lifecycle, "BucketLifecycleConfiguration"),
    ("data", "private-subnets-only", public_subnet_for("aws:rds/subnetGroup:SubnetGroup", ("subnetIds",)),
     "not private"),
    ("data", "destroyable", set_input("aws:secretsmanager/secret:Secret", ("recoveryWindowInDays",), 7.0),
     "recoveryWindowInDays"),
    ("data", "iam-least-privilege", add_statement, "resource-level"),
    ("data", "named-resources-suffix", set_input("aws:dynamodb/table:Table", ("name",), "catalog-sessions"),
     "suffix"),
    ("network", "no-public-ingress", set_input("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                                               ("cidrIpv4",), "0.0.0.0/0"), "0.0.0.0/0"),
    ("network", "log-retention", set_input("aws:cloudwatch/logGroup:LogGroup", ("retentionInDays",), 0.0),
     "forever"),
    ("edge", "lambda-edge-shape", set_input("aws:lambda/function:Function", ("publish",), False), "publish"),
    ("edge", "lambda-edge-shape", set_input("aws:lambda/function:Function", ("environment",),
                                            {"variables": {"A": "b"}}), "environment"),
    ("edge", "lambda-edge-association", latest_association, "numbered version"),
    ("edge", "lambda-edge-role-trust", edge_role_without_edgelambda, "edgelambda"),
    # The real design: caching-only error responses, pages from origin-response on every behavior; take the
    # function off the default (site) behavior and nothing renders the site's pages any more.
    ("edge", "cloudfront-custom-errors", set_input("aws:cloudfront/distribution:Distribution",
                                                   ("defaultCacheBehavior", "lambdaFunctionAssociations"), []),
     "4xx"),
    ("edge", "cloudfront-web-acl", set_input("aws:cloudfront/distribution:Distribution", ("webAclId",), None),
     "without a web ACL"),
    ("edge", "waf-log-destination", set_input(
        "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", ("logDestinationConfigs",),
        ["arn:aws:logs:us-east-1:123456789012:log-group:catalog-waf-perf-eu-canary-9"]), "aws-waf-logs-"),
    ("app", "waf-log-destination", set_input(
        "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", ("logDestinationConfigs",), []),
     "no log destination"),
    ("edge", "s3-bucket-baseline", set_input("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                                             ("restrictPublicBuckets",), False), "restrictPublicBuckets"),
    ("observability", "alarm-topic-key", set_input("aws:sns/topic:Topic", ("kmsMasterKeyId",), "alias/aws/sns"),
     "alias/aws/sns"),
    ("observability", "alarm-topic-key", cloudwatch_not_granted, "cloudwatch.amazonaws.com"),
]


@pytest.fixture(scope="module")
def stacks(chain: dict[str, Plan]) -> dict[str, list[Res]]:
    return {layer: plan_resources(plan) for layer, plan in chain.items()}


@pytest.mark.parametrize(("layer", "policy", "mutate", "fragment"), MUTATIONS,
                         ids=[f"{m[0]}-{m[1]}-{i}" for i, m in enumerate(MUTATIONS)])
def test_breaking_a_real_resource_is_caught(chain: dict[str, Plan], stacks: dict[str, list[Res]], layer: str,
                                            policy: str, mutate: Callable[..., None], fragment: str) -> None:
    needed = {layer, "network"} | ({"data"} if policy == "alb-access-log-bucket" else set())
    if not needed <= set(stacks):
        pytest.skip(f"layers {sorted(needed - set(stacks))} not written yet")
    broken = copy.deepcopy(stacks)
    before = evaluate(broken[layer], _context(chain, broken, layer), [BY_NAME[policy]])
    assert before == [], before
    mutate(broken, layer)
    found = [m for _, _, m in evaluate(broken[layer], _context(chain, broken, layer), [BY_NAME[policy]])]
    assert any(fragment in m for m in found), found


def _context(chain: dict[str, Plan], stacks: dict[str, list[Res]], layer: str) -> Context:
    order = list(chain)
    return Context(suffix=chain[layer].suffix, layer=layer, private_subnet_ids=private_subnets(stacks["network"]),
                   upstream={u: stacks[u] for u in order[: order.index(layer)]})


def test_check_task_fails_on_a_mandatory_violation(capsys: pytest.CaptureFixture[str], chain: dict[str, Plan]) -> None:
    """`invoke check` plans offline and exits 1 when a legal config breaks a mandatory policy (pool of 50)."""
    if "data" not in chain:
        pytest.skip("data layer not written yet")
    from shared.policy.tasks import check

    with pytest.raises(Exit) as stopped:
        check(InvokeContext(), suffix="qa", layer="data", config=["data:proxyMaxConnections=50"])
    assert stopped.value.code == 1
    out = capsys.readouterr().out
    assert "rds-proxy-pool" in out and "= 50 connections" in out
