"""Scoping beyond the boundary: security-group adoption only in the network's own VPC, tag conditions on Layer and
Environment, and every remaining `Resource: "*"` declared with its reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from projects.bootstrap import permissions as perms
from shared.deploy import bootstrap as project
from shared.plan.planner import Plan, Resource
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


def data_docs() -> list[dict[str, object]]:
    return perms.role_policies("data", perms.placeholder_facts(SUFFIX), write=True)


def rds(kind: str, name: str) -> str:
    return f"arn:aws:rds:us-east-1:{ACCOUNT}:{kind}:{name}"


DATA_REQUEST = {"aws:RequestTag/Layer": "data", "aws:RequestTag/Environment": SUFFIX,
                "aws:TagKeys": ["Project", "Layer", "Environment"]}
DATA_OWN = {"aws:ResourceTag/Layer": "data", "aws:ResourceTag/Environment": SUFFIX}


@pytest.mark.parametrize(("action", "new", "named"), [
    ("rds:CreateDBInstance", rds("db", f"catalog-db-reader-9-{SUFFIX}"), rds("cluster", "catalog-db-prod")),
    ("rds:CreateDBInstance", rds("db", f"catalog-db-reader-9-{SUFFIX}"), rds("subgrp", "catalog-db-subnets-prod")),
    ("rds:CreateDBProxyEndpoint", rds("db-proxy-endpoint", "prx-endpoint-0123"), rds("db-proxy", "prx-0abc")),
    ("rds:CreateDBCluster", rds("cluster", f"catalog-db-{SUFFIX}"), rds("subgrp", "catalog-db-subnets-prod")),
    ("rds:CreateDBCluster", rds("cluster", f"catalog-db-{SUFFIX}"), rds("cluster-pg", "catalog-db-params-prod")),
])
def test_an_rds_create_never_reaches_into_another_environments_database(action: str, new: str, named: str) -> None:
    """The existing cluster, proxy or group a create names is checked by its own tags: a call tagged like this
    environment's cannot add an instance to prod's cluster or a proxy endpoint (into this environment's
    subnets) to prod's proxy."""
    docs = data_docs()
    assert decide(docs, Request(action, new, DATA_REQUEST)) == "Allow"
    assert decide(docs, Request(action, named, {**DATA_REQUEST, **DATA_OWN})) == "Allow"
    other = {**DATA_REQUEST, "aws:ResourceTag/Layer": "data", "aws:ResourceTag/Environment": "prod"}
    assert decide(docs, Request(action, named, other)) != "Allow"
    assert decide(docs, Request(action, named, DATA_REQUEST)) != "Allow"  # untagged: another product's
    # and never a global cluster (joining another cluster's global database)
    assert decide(docs, Request(action, f"arn:aws:rds::{ACCOUNT}:global-cluster:prod", DATA_REQUEST)) != "Allow"


def test_the_data_layers_own_rds_creates_are_allowed_resource_by_resource(chain: dict[str, Plan]) -> None:
    """Each RDS create the data layer plans, checked resource by resource as RDS authorizes it (the new resource
    with its planned tags as request tags, what it names with that resource's planned tags, and AWS's default
    parameter and option groups where the call names none)."""
    plan, docs = chain["data"], data_docs()

    def request_tags(resource: Resource) -> dict[str, object]:
        planned = resource.get("tags")
        return {**{f"aws:RequestTag/{k}": v for k, v in planned.items()}, "aws:TagKeys": sorted(planned)}

    def own(token: str, name_key: str, kind: str, name: str) -> tuple[str, dict[str, object]]:
        (found,) = [r for r in plan.of_type(token) if r.get(name_key) == name]
        return rds(kind, name), {f"aws:ResourceTag/{k}": v for k, v in found.get("tags").items()}

    checked = []
    cluster = plan.one("aws:rds/cluster:Cluster")
    family = plan.one("aws:rds/clusterParameterGroup:ClusterParameterGroup").get("family")
    creates = [("rds:CreateDBCluster", cluster, rds("cluster", cluster.get("clusterIdentifier")), [
        own("aws:rds/subnetGroup:SubnetGroup", "name", "subgrp", cluster.get("dbSubnetGroupName")),
        own("aws:rds/clusterParameterGroup:ClusterParameterGroup", "name", "cluster-pg",
            cluster.get("dbClusterParameterGroupName")),
        (rds("og", f"default:{cluster.get('engine')}-{cluster.get('engineVersion').split('.')[0]}"), {})])]
    for instance in plan.of_type("aws:rds/clusterInstance:ClusterInstance"):
        creates.append(("rds:CreateDBInstance", instance, rds("db", instance.get("identifier")), [
            own("aws:rds/cluster:Cluster", "clusterIdentifier", "cluster", instance.get("clusterIdentifier")),
            own("aws:rds/subnetGroup:SubnetGroup", "name", "subgrp", instance.get("dbSubnetGroupName")),
            (rds("pg", f"default.{family}"), {})]))
    for endpoint in plan.of_type("aws:rds/proxyEndpoint:ProxyEndpoint"):
        proxy = plan.one("aws:rds/proxy:Proxy")
        assert endpoint.get("dbProxyName") == proxy.get("name")
        creates.append(("rds:CreateDBProxyEndpoint", endpoint, rds("db-proxy-endpoint", "prx-endpoint-0123"), [
            (rds("db-proxy", "prx-0abc"), {f"aws:ResourceTag/{k}": v for k, v in proxy.get("tags").items()})]))
    for action, resource, new, named in creates:
        context = request_tags(resource)
        assert decide(docs, Request(action, new, context)) == "Allow", (action, new)
        for arn, tags in named:
            assert decide(docs, Request(action, arn, {**context, **tags})) == "Allow", (action, arn)
        checked.append(action)
    assert set(checked) == {"rds:CreateDBCluster", "rds:CreateDBInstance", "rds:CreateDBProxyEndpoint"}


@pytest.mark.parametrize("layer", ["data", "app"])
def test_registering_a_scalable_target_never_updates_another_environments(layer: str) -> None:
    """RegisterScalableTarget registers or updates: with this environment's request tags it may create a target,
    but an existing one (another environment's capacity limits) only when that target is the layer's own."""
    docs = perms.role_policies(layer, perms.placeholder_facts(SUFFIX), write=True)
    target = f"arn:aws:application-autoscaling:us-east-1:{ACCOUNT}:scalable-target/0abc1234"
    request = {"aws:RequestTag/Layer": layer, "aws:RequestTag/Environment": SUFFIX,
               "aws:TagKeys": ["Project", "Layer", "Environment"]}
    action = "application-autoscaling:RegisterScalableTarget"
    assert decide(docs, Request(action, target, request)) == "Allow"  # a new target
    own = {"aws:ResourceTag/Layer": layer, "aws:ResourceTag/Environment": SUFFIX}
    assert decide(docs, Request(action, target, {**request, **own})) == "Allow"  # its own, updated
    for other in ({"aws:ResourceTag/Layer": layer, "aws:ResourceTag/Environment": "prod"},
                  {"aws:ResourceTag/Layer": "app" if layer == "data" else "data",
                   "aws:ResourceTag/Environment": SUFFIX}):
        assert decide(docs, Request(action, target, {**request, **other})) != "Allow", other


def test_the_data_role_reaches_only_its_own_clusters_master_secret() -> None:
    """RDS creates, tags, rotates and deletes the master secret on the deploy role's behalf: create and tag before
    the secret carries its cluster's tag, everything else only on the environment's own cluster's secret."""
    docs = data_docs()
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!cluster-0123abcd-AbCdEf"
    ours = {"secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn": rds("cluster", f"catalog-db-{SUFFIX}")}
    prods = {"secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn": rds("cluster", "catalog-db-prod")}
    for action in ("secretsmanager:RotateSecret", "secretsmanager:DeleteSecret", "secretsmanager:UpdateSecret",
                   "secretsmanager:DescribeSecret"):
        assert decide(docs, Request(action, secret, ours)) == "Allow", action
        assert decide(docs, Request(action, secret, prods)) != "Allow", action
    assert decide(docs, Request("secretsmanager:CreateSecret", secret)) == "Allow"
    assert decide(docs, Request("secretsmanager:GetSecretValue", secret, ours)) != "Allow"  # no value, ever
