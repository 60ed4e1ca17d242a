"""Scoping beyond the boundary: security-group adoption only in the network's own VPC, tag conditions on Layer and
Environment, and every remaining `Resource: "*"` declared with its reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from projects.bootstrap import permissions as perms
from shared.deploy import bootstrap as project
from shared.runtime.errors import CatalogError
from shared.runtime.layers import LAYER_NAMES
from tests.bootstrap.conftest import ACCOUNT, REPO
from tests.bootstrap.iam_eval import Request, decide
from tests.conftest import SUFFIX

VPC = "vpc-0abc1234def567890"
SG = f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/sg-0123456789abcdef0"


def adopt(vpc: str, layer_tag: str | None = None, env: str = SUFFIX) -> Request:
    context = {"aws:RequestTag/Layer": "network", "aws:RequestTag/Environment": env,
               "aws:TagKeys": ["Layer", "Environment", "Name"], "ec2:Vpc": f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/{vpc}"}
    if layer_tag:
        context["aws:ResourceTag/Layer"] = layer_tag
    return Request("ec2:CreateTags", SG, context)


def network_docs(vpc: str) -> list[dict[str, object]]:
    facts = replace(perms.placeholder_facts(SUFFIX), network_vpc_id=vpc)
    return perms.role_policies("network", facts, write=True)


def test_the_default_group_is_adopted_only_in_the_networks_vpc() -> None:
    docs = network_docs(VPC)
    assert decide(docs, adopt(VPC)) == "Allow"
    assert decide(docs, adopt("vpc-0fff1234def567890")) != "Allow"  # any other VPC's untagged group
    assert decide(docs, adopt(VPC, layer_tag="app")) != "Allow"  # a group another layer already tagged
    assert decide(docs, adopt(VPC, env="staging")) != "Allow"


def test_before_the_network_exists_no_group_is_adopted() -> None:
    docs = network_docs("")
    assert decide(docs, adopt(VPC)) != "Allow"
    assert f"vpc/{perms.NO_VPC_YET}" in str(docs)


def test_a_bad_vpc_id_is_refused_in_one_line() -> None:
    with pytest.raises(CatalogError, match="networkVpcId: 'sg-123' is not a VPC id"):
        project.validate("qa", project.config_for(REPO, network_vpc_id="sg-123"))


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_every_wildcard_resource_says_why(layer: str) -> None:
    """Each `Resource: "*"` grant comes from a table entry whose `why` names the reason (docs/delivery.md's table
    lists the same)."""
    for service in perms.ACCESS[layer].services:
        star = "*" in service.resources or service.describe or service.unscoped or service.create_on_any
        if star:
            assert len(service.why) > 20, (layer, service.prefix)


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_tag_conditions_name_layer_and_environment(layer: str) -> None:
    facts = perms.placeholder_facts(SUFFIX)
    for statement in perms.service_statements(layer, facts, write=True):
        keys = statement.condition.get("StringEquals", {})
        for kind in ("ResourceTag", "RequestTag"):
            if f"aws:{kind}/Layer" in keys and statement.effect == "Allow":
                assert keys.get(f"aws:{kind}/Environment") == SUFFIX, statement.sid


OWN = {"aws:ResourceTag/Layer": "network", "aws:ResourceTag/Environment": SUFFIX}
REQUEST_TAGS = {"aws:RequestTag/Layer": "network", "aws:RequestTag/Environment": SUFFIX}


@pytest.mark.parametrize(("action", "new", "named"), [
    ("ec2:AuthorizeSecurityGroupIngress", "security-group-rule/sgr-1", "security-group/sg-1"),
    ("ec2:CreateSubnet", "subnet/subnet-1", "vpc/vpc-1"),
    ("ec2:CreateFlowLogs", "vpc-flow-log/fl-1", "vpc/vpc-1"),
    ("ec2:CreateSecurityGroup", "security-group/sg-2", "vpc/vpc-1"),
])
def test_a_create_never_reaches_into_another_teams_resource(action: str, new: str, named: str) -> None:
    """Each resource of a create call is authorized on its own: the new one with the request's tags, the one it
    names (a VPC, a security group) only when that one is the network layer's own. Tagging the request is not
    enough to open another team's security group or build in a foreign VPC."""
    docs = network_docs("vpc-0123456789abcdef0")
    arn = f"arn:aws:ec2:us-east-1:{ACCOUNT}:"
    assert decide(docs, Request(action, arn + new, REQUEST_TAGS)) == "Allow"
    assert decide(docs, Request(action, arn + named, {**REQUEST_TAGS, **OWN})) == "Allow"
    foreign = {**REQUEST_TAGS, "aws:ResourceTag/Layer": "data", "aws:ResourceTag/Environment": SUFFIX}
    assert decide(docs, Request(action, arn + named, foreign)) != "Allow"
    assert decide(docs, Request(action, arn + named, REQUEST_TAGS)) != "Allow"  # untagged: another product's
