"""No deploy role can escalate: every role a layer creates carries the layer's permissions boundary, the deploy
roles can create or change a role only with it, and the boundary caps what such a role may ever do."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pulumi
import pytest

from projects.bootstrap import permissions as perms
from shared.plan.planner import Plan
from shared.runtime.boundary import boundary_arn, boundary_transform
from shared.runtime.errors import CatalogError
from shared.runtime.layers import LAYER_NAMES
from tests.bootstrap.conftest import ACCOUNT, role_documents, statements
from tests.bootstrap.iam_eval import Request, decide, decide_bounded
from tests.conftest import SUFFIX

ROLE = "aws:iam/role:Role"
IAM_LAYERS = [n for n in LAYER_NAMES if any(s.prefix == "iam" for s in perms.ACCESS[n].services)]


def own_role(layer: str, name: str = "attacker") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/catalog-{name}-{SUFFIX}"


def tags(layer: str, key: str = "aws:ResourceTag") -> dict[str, str]:
    return {f"{key}/Layer": layer, f"{key}/Environment": SUFFIX}


def boundary_doc(boot: Plan, layer: str) -> dict[str, Any]:
    return json.loads(boot.by_name(f"{layer}-boundary").get("policy"))


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_every_role_a_layer_plans_carries_its_boundary(chain: dict[str, Plan], plan_with: Any, layer: str) -> None:
    from tests.bootstrap.test_bootstrap import with_sale_window

    roles = [r for r in with_sale_window(plan_with, chain, layer) if r.type == ROLE]
    expected = boundary_arn(ACCOUNT, layer, SUFFIX)
    assert all(r.get("permissionsBoundary") == expected for r in roles), \
        {r.name: r.get("permissionsBoundary") for r in roles}


def test_the_apigateway_account_role_carries_it_too(plan_with: Any) -> None:
    plan = plan_with("app", {"catalog-app:manageApiGatewayAccount": "true"})
    roles = plan.of_type(ROLE)
    assert "apigw-cloudwatch-role" in [r.name for r in roles]
    assert {r.get("permissionsBoundary") for r in roles} == {boundary_arn(ACCOUNT, "app", SUFFIX)}


def test_a_role_with_another_boundary_is_refused_in_one_line() -> None:
    transform = boundary_transform("app", SUFFIX, ACCOUNT)
    other = boundary_arn(ACCOUNT, "data", SUFFIX)
    args = pulumi.ResourceTransformArgs(True, ROLE, "api-role", {"permissionsBoundary": other},
                                        pulumi.ResourceOptions())
    with pytest.raises(CatalogError) as caught:
        transform(args)
    assert "\n" not in str(caught.value) and "catalog-app-boundary" in str(caught.value)
    assert "drop permissions_boundary=" in str(caught.value)
    unset = transform(pulumi.ResourceTransformArgs(True, ROLE, "api-role", {}, pulumi.ResourceOptions()))
    assert unset is not None and unset.props["permissionsBoundary"] == boundary_arn(ACCOUNT, "app", SUFFIX)


def test_a_role_trusting_an_account_is_refused_in_one_line() -> None:
    transform = boundary_transform("data", SUFFIX, ACCOUNT)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]})
    args = pulumi.ResourceTransformArgs(True, ROLE, "proxy-role", {"assumeRolePolicy": trust},
                                        pulumi.ResourceOptions())
    with pytest.raises(CatalogError) as caught:
        transform(args)
    assert "\n" not in str(caught.value)
    assert "trusts AWS:arn:aws:iam::999999999999:root: a data role may be assumed only by AWS services" in \
        str(caught.value)


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_every_planned_role_is_trusted_by_services_only(chain: dict[str, Plan], plan_with: Any, layer: str) -> None:
    from shared.runtime.boundary import foreign_principals
    from tests.bootstrap.test_bootstrap import with_sale_window

    for role in [r for r in with_sale_window(plan_with, chain, layer) if r.type == ROLE]:
        assert foreign_principals(role.get("assumeRolePolicy")) == [], role.name


def test_the_bootstrap_creates_one_boundary_per_layer(boot: Plan) -> None:
    names = {r.get("name") for r in boot.of_type("aws:iam/policy:Policy") if r.name.endswith("-boundary")}
    assert names == {f"catalog-{layer}-boundary-{SUFFIX}" for layer in LAYER_NAMES}


@pytest.mark.parametrize("layer", IAM_LAYERS)
def test_every_allowed_role_write_requires_the_boundary(boot: Plan, layer: str) -> None:
    arn = boundary_arn(ACCOUNT, layer, SUFFIX)
    for statement in statements(role_documents(boot, layer, "deploy")):
        if statement["Effect"] != "Allow":
            continue
        bounded = [a for a in statement["Action"] if a in perms.BOUNDED_IAM or a in ("iam:*", "iam:Put*")]
        if bounded:
            assert statement["Condition"]["ArnEquals"]["iam:PermissionsBoundary"] == arn, statement["Sid"]


@pytest.mark.parametrize("layer", IAM_LAYERS)
def test_the_escalation_paths_are_denied(boot: Plan, layer: str) -> None:
    docs = role_documents(boot, layer, "deploy")
    arn = boundary_arn(ACCOUNT, layer, SUFFIX)
    create = {**tags(layer, "aws:RequestTag"), "aws:TagKeys": ["Layer", "Environment"]}
    # A role named and tagged like the layer's own, without the boundary, then a `*:*` inline policy on it.
    assert decide(docs, Request("iam:CreateRole", own_role(layer), create)) != "Allow"
    assert decide(docs, Request("iam:PutRolePolicy", own_role(layer), tags(layer))) != "Allow"
    assert decide(docs, Request("iam:DeleteRolePermissionsBoundary", own_role(layer), tags(layer))) == "Deny"
    assert decide(docs, Request("iam:PutRolePermissionsBoundary", own_role(layer),
                                {**tags(layer), "iam:PermissionsBoundary": boundary_arn(ACCOUNT, "x", SUFFIX)})) \
        == "Deny"
    # The same calls with the boundary are what the layer's program does.
    assert decide(docs, Request("iam:CreateRole", own_role(layer), {**create, "iam:PermissionsBoundary": arn})) \
        == "Allow"
    assert decide(docs, Request("iam:PutRolePolicy", own_role(layer), {**tags(layer),
                                                                        "iam:PermissionsBoundary": arn})) == "Allow"
    # Another layer's or environment's role, even with a boundary.
    other = next(n for n in LAYER_NAMES if n != layer)
    assert decide(docs, Request("iam:PutRolePolicy", own_role(layer), {**tags(other),
                                                                        "iam:PermissionsBoundary": arn})) != "Allow"
    assert decide(docs, Request("iam:PutRolePolicy", own_role(layer), {
        "aws:ResourceTag/Layer": layer, "aws:ResourceTag/Environment": "other", "iam:PermissionsBoundary": arn})) \
        != "Allow"
    for action in ("cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet",
                   "serverlessrepo:CreateCloudFormationChangeSet"):
        assert decide(docs, Request(action, "*", tags(layer))) != "Allow", action


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_a_bounded_role_cannot_widen_itself_or_leave_the_layer(boot: Plan, layer: str) -> None:
    """What a role carrying the boundary may do, whatever inline policy the deploy role wrote into it."""
    boundary = boundary_doc(boot, layer)
    admin = [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]

    def check(action: str, resource: str, context: dict[str, Any] | None = None) -> str:
        return decide_bounded(boundary, admin, Request(action, resource, context or {}))

    arn = boundary_arn(ACCOUNT, layer, SUFFIX)
    with_boundary = {**tags(layer), "iam:PermissionsBoundary": arn}
    for action in ("iam:PutRolePolicy", "iam:CreateRole", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy",
                   "iam:DeleteRolePermissionsBoundary", "iam:CreateUser", "iam:PassRole"):
        assert check(action, own_role(layer), with_boundary) != "Allow", action
        # Outside the layer's names: denied explicitly, whatever the runtime services are.
        assert check(action, f"arn:aws:iam::{ACCOUNT}:role/admin") == "Deny", action
    # Trust: a bounded role writes no trust policy at all (IAM cannot condition on a trust policy's principals).
    assert check("iam:UpdateAssumeRolePolicy", own_role(layer), with_boundary) == "Deny"
    assert check("iam:CreateRole", own_role(layer), {**tags(layer, "aws:RequestTag"),
                                                     "iam:PermissionsBoundary": arn}) == "Deny"
    for action in ("kms:PutKeyPolicy", "kms:CreateGrant", "kms:CreateKey", "cloudformation:CreateStack",
                   "cloudformation:CreateChangeSet"):
        assert check(action, "*") == "Deny", action
    assert check("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole") == "Deny"
    assert check("sts:AssumeRole", "arn:aws:iam::999999999999:role/elsewhere") == "Deny"
    other = next(n for n in LAYER_NAMES if n != layer)
    assert check("sts:AssumeRole", own_role(other), tags(other)) == "Deny"
    state = f"arn:aws:s3:::catalog-state-{SUFFIX}-{ACCOUNT}/.pulumi/stacks/catalog-data/{SUFFIX}.json"
    assert check("s3:GetObject", state) == "Deny"


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_the_boundary_ceiling_holds_every_policy_the_layer_writes(chain: dict[str, Plan], plan_with: Any,
                                                                  boot: Plan, layer: str) -> None:
    """The boundary's Allow (the layer's runtime services) covers every inline policy its roles get, so the
    boundary never breaks the layer, and nothing wider is allowed."""
    from tests.bootstrap.test_bootstrap import with_sale_window

    resources = with_sale_window(plan_with, chain, layer)
    if layer == "app":
        resources += plan_with("app", {"catalog-app:manageApiGatewayAccount": "true"}).custom_resources()
    docs = [boundary_doc(boot, layer)]
    for resource in resources:
        if resource.type != "aws:iam/rolePolicy:RolePolicy":
            continue
        policy = resource.get("policy")
        for statement in (json.loads(policy) if isinstance(policy, str) else policy)["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in actions:
                for target in targets:  # the planned ARNs: the boundary names the environment's resources
                    for request in aws_requests(chain, layer, action, target):
                        assert decide(docs, request) == "Allow", (layer, resource.name, action, request)


def network_tags(plan: Plan, kind: str) -> list[dict[str, str]]:
    """The resource tags of every subnet or security group the network layer plans."""
    return [{f"aws:ResourceTag/{k}": v for k, v in r.get("tags").items()} for r in plan.of_type(kind)]


def aws_requests(chain: dict[str, Plan], layer: str, action: str, target: str) -> list[Request]:
    """What AWS authorizes for one action of a role policy on one of its resources: a VPC function's interface
    on `*` is the new network-interface plus the environment's subnet and group it is created in (their planned
    tags); the RDS-managed master secret carries RDS's tag naming the data layer's planned cluster."""
    if target == "*" and action == "ec2:CreateNetworkInterface":
        placed = [Request(action, ec2(kind, ident), context) for kind, ident, token in (
            ("subnet", "subnet-1", "aws:ec2/subnet:Subnet"), ("security-group", "sg-1",
                                                               "aws:ec2/securityGroup:SecurityGroup"))
                  for context in network_tags(chain["network"], token)]
        return [Request(action, ec2("network-interface", "eni-1")), *placed]
    if target == "*" and action in ENI_ACTIONS:
        return [Request(action, ec2("network-interface", "eni-1"))]
    if ":secret:rds!cluster-" in target:
        cluster = chain["data"].one("aws:rds/cluster:Cluster").get("clusterIdentifier")
        return [Request(action, target, {MASTER_TAG: f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:{cluster}"})]
    return [Request(action, target, tags(layer))]


ENI_ACTIONS = ("ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")
# RDS's tag on the master secret it manages (AmazonRDSServiceRolePolicy), as Secrets Manager's condition key.
MASTER_TAG = "secretsmanager:ResourceTag/aws:rds:primaryDBClusterArn"


@pytest.mark.parametrize("layer", ["app", "data"])
def test_a_function_gets_network_interfaces_only_in_its_environments_network(boot: Plan, layer: str) -> None:
    """A VPC function's interfaces are created with its execution role, which carries the boundary: only in
    subnets and groups the network layer tagged with this environment, so no function (whatever its deploy role
    configured) sits in another environment's subnets with its database's security group."""
    boundary = boundary_doc(boot, layer)
    admin = [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]

    def check(resource: str, context: dict[str, str] | None = None) -> str:
        return decide_bounded(boundary, admin, Request("ec2:CreateNetworkInterface", resource, context or {}))

    own = {"aws:ResourceTag/Layer": "network", "aws:ResourceTag/Environment": SUFFIX}
    assert check(ec2("network-interface", "eni-1")) == "Allow"
    for kind, ident in (("subnet", "subnet-1"), ("security-group", "sg-1")):
        assert check(ec2(kind, ident), own) == "Allow", kind
        for foreign in ({**own, "aws:ResourceTag/Environment": "prod"},  # another environment's network
                        {**own, "aws:ResourceTag/Layer": "app"},  # not the network layer's
                        {}):  # another product's, untagged
            assert check(ec2(kind, ident), foreign) != "Allow", (kind, foreign)
    # The ENI actions sit on their resource types, none on "*".
    for statement in boundary["Statement"]:
        if statement["Effect"] == "Allow" and "*" in statement["Resource"]:
            assert not {"ec2:CreateNetworkInterface", *ENI_ACTIONS} & set(statement["Action"]), statement["Sid"]


def test_every_planned_subnet_and_group_takes_a_functions_interface(chain: dict[str, Plan], boot: Plan) -> None:
    docs = [boundary_doc(boot, "app")]
    for token, kind in (("aws:ec2/subnet:Subnet", "subnet"), ("aws:ec2/securityGroup:SecurityGroup",
                                                                "security-group")):
        found = network_tags(chain["network"], token)
        assert found, token
        for context in found:
            assert decide(docs, Request("ec2:CreateNetworkInterface", ec2(kind, "x-1"), context)) == "Allow", context


def test_only_the_environments_own_master_secret_is_read(chain: dict[str, Plan], boot: Plan) -> None:
    """RDS tags the secret it manages with its cluster's ARN (a key under `aws:`, which no caller can set): the
    boundary reads only the one of this environment's cluster, as the data layer plans it."""
    cluster = chain["data"].one("aws:rds/cluster:Cluster").get("clusterIdentifier")
    own = f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:{cluster}"
    assert own == perms.cluster_arn(perms.placeholder_facts(SUFFIX))
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!cluster-0a1b2c3d-AbCdEf"
    boundary = boundary_doc(boot, "app")
    admin = [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]

    def check(action: str, context: dict[str, str]) -> str:
        return decide_bounded(boundary, admin, Request(action, secret, context))

    assert check("secretsmanager:GetSecretValue", {MASTER_TAG: own}) == "Allow"
    for foreign in (f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:catalog-db-prod",
                    f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:billing-prod"):
        assert check("secretsmanager:GetSecretValue", {MASTER_TAG: foreign}) != "Allow", foreign
    assert check("secretsmanager:GetSecretValue", {}) != "Allow"
    for action in ("secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"):
        assert check(action, {MASTER_TAG: own}) != "Allow", action  # read only
    # No other layer's roles read it at all.
    for layer in ("network", "data", "edge", "observability"):
        assert decide([boundary_doc(boot, layer)], Request("secretsmanager:GetSecretValue", secret,
                                                           {MASTER_TAG: own})) != "Allow", layer


@pytest.mark.parametrize(("layer", "action", "own", "foreign"), [
    ("app", "secretsmanager:GetSecretValue",
     f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:catalog-db-app-{SUFFIX}-AbCdEf",
     f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:other-product-db-password-AbCdEf"),
    ("app", "dynamodb:DeleteItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/catalog-cache-{SUFFIX}",
     f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/payments-ledger"),
    ("data", "rds:ModifyDBCluster", f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:catalog-db-{SUFFIX}",
     f"arn:aws:rds:us-east-1:{ACCOUNT}:cluster:billing-prod"),
    ("data", "secretsmanager:PutSecretValue",
     f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:catalog-db-owner-{SUFFIX}-XyZ123",
     f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:catalog-db-owner-staging-XyZ123"),
])
def test_a_bounded_role_reaches_only_its_environments_resources(boot: Plan, layer: str, action: str, own: str,
                                                                 foreign: str) -> None:
    # Even with its policy or trust rewritten by a deploy role, a layer's role cannot act outside its environment.
    boundary = boundary_doc(boot, layer)
    everything = [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
    assert decide_bounded(boundary, everything, Request(action, own, tags(layer))) == "Allow"
    assert decide_bounded(boundary, everything, Request(action, foreign, {})) != "Allow"


READ_PREFIXES = ("Describe", "List", "Get")


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_no_boundary_allows_a_write_on_every_resource_unless_listed_and_justified(boot: Plan, layer: str) -> None:
    """A boundary is the ceiling a rewritten role still obeys: a write on "*" reaches other environments' and
    other products' resources, so only the writes AWS offers nothing narrower for (RUNTIME_ON_ANY, each with
    why) may have it."""
    for statement in boundary_doc(boot, layer)["Statement"]:
        if statement["Effect"] != "Allow" or "*" not in statement["Resource"]:
            continue
        for action in statement["Action"]:
            read = action.split(":")[1].startswith(READ_PREFIXES)
            assert read or action in perms.RUNTIME_ON_ANY, f"{layer}: {action} on * ({statement['Sid']})"
    assert all(why.strip() for why in perms.RUNTIME_ON_ANY.values())


def bucket(kind: str, suffix: str = SUFFIX) -> str:
    return f"arn:aws:s3:::catalog-{kind}-{suffix}-{ACCOUNT}"


@pytest.mark.parametrize(("layer", "action"), [("app", "s3:GetObject"), ("observability", "s3:PutObject"),
                                               ("observability", "s3:DeleteObject")])
def test_a_bounded_role_reaches_only_its_environments_buckets(boot: Plan, layer: str, action: str) -> None:
    docs = [boundary_doc(boot, layer)]
    assert decide(docs, Request(action, f"{bucket('fis-config')}/FisConfigs/x")) == "Allow"
    if layer == "app":
        assert decide(docs, Request("s3:ListBucket", bucket("fis-config"))) == "Allow"
    for foreign in ("arn:aws:s3:::acme-fis-config", bucket("fis-config", "qa"),
                    f"arn:aws:s3:::catalog-fis-config-{SUFFIX}-210987654321",
                    # the environment's other buckets: the FIS configuration location is the only one
                    bucket("static"), bucket("artifacts"), bucket("logs")):
        assert decide(docs, Request(action, f"{foreign}/FisConfigs/x")) != "Allow", foreign
    # and only under its fixed prefix
    for key in ("other/x", "k", "FisConfigsX/x"):
        assert decide(docs, Request(action, f"{bucket('fis-config')}/{key}")) != "Allow", key


VPC = "vpc-0123456789abcdef0"


def network_boundary(vpc_id: str) -> list[dict[str, Any]]:
    facts = replace(perms.placeholder_facts(SUFFIX), network_vpc_id=vpc_id)
    return [perms.boundary_document("observability", facts)]


def ec2(kind: str, ident: str = "*") -> str:
    return f"arn:aws:ec2:us-east-1:{ACCOUNT}:{kind}/{ident}"


def test_the_network_faults_ceiling_is_the_environments_vpc() -> None:
    # (FIS's tag on the ACL: the entries and deletes ask for it, below)
    own = {"ec2:Vpc": ec2("vpc", VPC), "ec2:ResourceTag/managedByFIS": "true"}
    other = {"ec2:Vpc": ec2("vpc", "vpc-0fffffffffffffff0"), "ec2:ResourceTag/managedByFIS": "true"}
    docs = network_boundary(VPC)
    for action, resource in (("ec2:CreateNetworkAclEntry", ec2("network-acl", "acl-1")),
                             ("ec2:DeleteNetworkAcl", ec2("network-acl", "acl-1")),
                             ("ec2:ReplaceNetworkAclAssociation", ec2("network-acl", "acl-1")),
                             ("ec2:ReplaceNetworkAclAssociation", ec2("subnet", "subnet-1"))):
        assert decide(docs, Request(action, resource, own)) == "Allow", (action, resource)
        assert decide(docs, Request(action, resource, other)) != "Allow", (action, resource)
        assert decide(docs, Request(action, resource)) != "Allow", (action, resource)
        # Before the bootstrap knows the VPC (networkVpcId), no VPC's ACLs at all.
        assert decide(network_boundary(""), Request(action, resource, own)) != "Allow", (action, resource)
    # Entries and deletes only on ACLs FIS made (tagged at creation): never the VPC's default ACL.
    untagged = {"ec2:Vpc": ec2("vpc", VPC)}
    for action in ("ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"):
        assert decide(docs, Request(action, ec2("network-acl", "acl-default"), untagged)) != "Allow", action
    fis_tags = {"aws:RequestTag/managedByFIS": "true"}
    assert decide(docs, Request("ec2:CreateNetworkAcl", ec2("network-acl", "*"), fis_tags)) == "Allow"
    assert decide(docs, Request("ec2:CreateNetworkAcl", ec2("network-acl", "*"))) != "Allow"  # untagged
    assert decide(docs, Request("ec2:CreateNetworkAcl", ec2("vpc", VPC))) == "Allow"
    assert decide(docs, Request("ec2:CreateNetworkAcl", ec2("vpc", "vpc-0fffffffffffffff0"))) != "Allow"
    assert decide(docs, Request("ec2:CreateTags", ec2("network-acl", "acl-1"),
                                {"ec2:CreateAction": "CreateNetworkAcl", **fis_tags})) == "Allow"
    assert decide(docs, Request("ec2:CreateTags", ec2("network-acl", "acl-1"),
                                {"ec2:CreateAction": "CreateNetworkAcl"})) != "Allow"  # other tags
    assert decide(docs, Request("ec2:CreateTags", ec2("subnet", "subnet-1"),
                                {"ec2:CreateAction": "CreateNetworkAcl"})) != "Allow"
    assert decide(docs, Request("ec2:CreateTags", ec2("network-acl", "acl-1"))) != "Allow"  # retagging


def test_the_boundary_holds_the_network_faults_policy(chain: dict[str, Plan]) -> None:
    """With the bootstrap given the network layer's VPC, the experiments role's network statements fit inside
    the boundary (each request carrying what the role's own conditions ask for)."""
    from tests.conftest import plan_with_fault_injection

    plan = plan_with_fault_injection(chain, {
        "catalog-observability:faultExperiments": "dynamodb-disrupt,az-disrupt"})
    docs = network_boundary(chain["network"].exports["vpcId"])
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy", "fault-injection").get("policy"))
    checked = 0
    for statement in policy["Statement"]:
        context = {**tags("observability"), **{k: v for op, keys in statement.get("Condition", {}).items()
                                               if op in ("StringEquals", "ArnEquals") for k, v in keys.items()}}
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in actions:
            for target in targets:
                # EC2 puts ec2:Vpc in the request for an ACL or a subnet (their VPC).
                in_vpc = target.startswith((ec2("network-acl", ""), ec2("subnet", "")))
                vpc = {"ec2:Vpc": ec2("vpc", chain["network"].exports["vpcId"])} if in_vpc else {}
                checked += in_vpc
                assert decide(docs, Request(action, target, {**context, **vpc})) == "Allow", (
                    statement["Sid"], action, target)
    assert checked >= 5


@pytest.mark.parametrize("layer", ["app", "edge"])
def test_log_groups_of_an_environment_whose_suffix_starts_alike_are_out_of_reach(layer: str) -> None:
    """`eu`'s log patterns end at the name: eu2's and eu-west's groups (same start) are not eu's."""
    docs = [perms.boundary_document(layer, perms.placeholder_facts("eu"))]

    def group(name: str, region: str = "us-east-1") -> str:
        return f"arn:aws:logs:{region}:123456789012:log-group:{name}"

    own = ["/aws/lambda/catalog-api-eu", "/aws/lambda/us-east-1.catalog-edge-auth-eu", "aws-waf-logs-catalog-edge-eu",
           "/aws/rds/cluster/catalog-db-eu/postgresql", "/aws/apigateway/catalog-api-access-eu",
           "catalog-vpc-flow-logs-eu", "/catalog/catalog-rehearsal-eu"]
    for name in own:
        for arn in (group(name), group(name, "eu-west-1"), f"{group(name)}:*", f"{group(name)}:log-stream:s"):
            assert decide(docs, Request("logs:PutLogEvents", arn)) == "Allow", arn
    for name in ("/aws/lambda/catalog-api-eu2", "/aws/lambda/catalog-api-eu-west", "aws-waf-logs-catalog-edge-eu1",
                 "/aws/rds/cluster/catalog-db-eu2/postgresql", "/aws/lambda/us-east-1.catalog-edge-auth-eu2"):
        for arn in (group(name), f"{group(name)}:*", f"{group(name)}:log-stream:2026/12/07/[$LATEST]0a1b"):
            assert decide(docs, Request("logs:PutLogEvents", arn)) != "Allow", arn


def test_iam_database_auth_reaches_only_proxy_users_of_this_account(boot: Plan) -> None:
    docs = [boundary_doc(boot, "app")]
    dbuser = f"arn:aws:rds-db:us-east-1:{ACCOUNT}:dbuser"
    assert decide(docs, Request("rds-db:connect", f"{dbuser}:prx-0123456789abcdef0/catalog_app")) == "Allow"
    for foreign in (f"{dbuser}:cluster-ABCDEFGHIJKL/catalog_app",  # the cluster's own endpoint, not the proxy
                    "arn:aws:rds-db:us-east-1:210987654321:dbuser:prx-0123456789abcdef0/catalog_app",
                    f"arn:aws:rds-db:eu-west-1:{ACCOUNT}:dbuser:prx-0123456789abcdef0/catalog_app"):
        assert decide(docs, Request("rds-db:connect", foreign)) != "Allow", foreign
