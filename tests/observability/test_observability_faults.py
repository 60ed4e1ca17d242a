"""The sale rehearsal's FIS experiment templates: off by default (the default plan has none), and when on, each
stopped by the layer's composite alarm, run by a role that reaches only the experiment's targets and carries the
layer's boundary; the observability deploy role may create them (bootstrap permissions); guardrails pass."""

from __future__ import annotations

import json
import re
from typing import Any

import botocore.session
import pytest

from projects.bootstrap import program_actions as table
from shared.deploy import bootstrap
from shared.plan import Plan, PlanError
from shared.policy import POLICIES, Context, Level, evaluate, plan_resources, private_subnets
from shared.runtime.boundary import boundary_arn
from shared.runtime.faults import FAULTS
from tests.bootstrap.conftest import REPO, role_documents
from tests.bootstrap.iam_eval import allows_action
from tests.conftest import FAULT_CONFIG_LOCATION, SUFFIX

LOCATION = FAULT_CONFIG_LOCATION
TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
FIS = botocore.session.get_session().get_service_model("fis")
ACLS = "arn:aws:ec2:us-east-1:123456789012:network-acl/*"


def faults_on(plan_faults: Any, **extra: str) -> Plan:
    """Every fault, over a chain whose app layer has the FIS extension on (its faultConfigLocation output)."""
    return plan_faults({"catalog-observability:faultExperiments": json.dumps(list(FAULTS)),
                        **{f"catalog-observability:{k}": v for k, v in extra.items()}})


@pytest.fixture(scope="module")
def boot() -> Plan:
    return bootstrap.plan(SUFFIX, bootstrap.config_for(REPO))


@pytest.fixture(scope="module")
def with_faults(plan_faults: Any) -> Plan:
    return faults_on(plan_faults)


def test_off_by_default(chain: dict[str, Plan]) -> None:
    plan = chain["observability"]
    assert not plan.of_type(TEMPLATE)
    assert not plan.of_type("aws:iam/role:Role")
    assert plan.export_value("faultExperimentTemplateIds") == {}


def test_the_template_ids_are_exported_per_fault_for_the_rehearsal(with_faults: Plan) -> None:
    from shared.plan.computed import computed_state

    ids = with_faults.export_value("faultExperimentTemplateIds")
    expected = {t.name: computed_state(t.type, t.name, t.inputs)[1]["id"] for t in with_faults.of_type(TEMPLATE)}
    assert ids == expected and sorted(ids) == sorted(FAULTS)


def test_one_template_per_fault_stopped_by_the_composite_alarm(with_faults: Plan, chain: dict[str, Plan]) -> None:
    templates = {t.name: t for t in with_faults.of_type(TEMPLATE)}
    assert sorted(templates) == sorted(FAULTS)
    (composite,) = with_faults.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
    role = with_faults.one("aws:iam/role:Role")
    for name, template in templates.items():
        (stop,) = template.get("stopConditions")
        assert stop["source"] == "aws:cloudwatch:alarm"
        assert stop["value"].endswith(f":alarm:{composite.get('alarmName')}")
        (action,) = template.get("actions")
        assert action["actionId"] == FAULTS[name].action_id
        assert action["target"] == {"key": FAULTS[name].target_key, "value": "target"}
        (target,) = template.get("targets")
        assert target["resourceType"] == FAULTS[name].target_type and target["selectionMode"] == "ALL"
        assert target["resourceArns"] == expected_targets(name, chain)
        assert len(target["resourceArns"]) <= FIS.shape_for("ResourceArnList").metadata["max"]  # 5 per target
        assert role.get("name") in template.get("roleArn")
    params = {p["key"]: p["value"] for p in templates["lambda-latency"].get("actions")[0]["parameters"]}
    assert params == {"duration": "PT5M", "invocationPercentage": "10", "startupDelayMilliseconds": "1000"}
    assert not templates["aurora-failover"].get("actions")[0].get("parameters")
    for name, scope in (("dynamodb-disrupt", "dynamodb"), ("az-disrupt", "all")):
        params = {p["key"]: p["value"] for p in templates[name].get("actions")[0]["parameters"]}
        assert params == {"duration": "PT5M", "scope": scope}


def subnet_arns(ids: list[str]) -> list[str]:
    return [f"arn:aws:ec2:us-east-1:123456789012:subnet/{i}" for i in ids]


def expected_targets(name: str, chain: dict[str, Plan], az_index: int = 0) -> list[str]:
    """Each fault's target: the cluster, the function, every private subnet (the function's), or one AZ's."""
    private = chain["network"].exports["privateSubnetIds"]
    return {"aurora-failover": [chain["data"].exports["clusterArn"]],
            "lambda-errors": [chain["app"].exports["functionArn"]],
            "lambda-latency": [chain["app"].exports["functionArn"]],
            "dynamodb-disrupt": subnet_arns(private),
            "az-disrupt": subnet_arns([private[az_index]])}[name]


def test_the_network_faults_cut_the_functions_subnets_or_one_az(plan_with: Any, chain: dict[str, Plan]) -> None:
    # The API function's own subnets are the network layer's private subnets: what dynamodb-disrupt cuts.
    function = chain["app"].by_name("api")
    private = chain["network"].exports["privateSubnetIds"]
    assert sorted(function.get("vpcConfig")["subnetIds"]) == sorted(private)
    plan = plan_with("observability", {"catalog-observability:faultExperiments": "az-disrupt",
                                       "catalog-observability:faultAzIndex": "2"})
    (template,) = plan.of_type(TEMPLATE)
    assert template.get("targets")[0]["resourceArns"] == expected_targets("az-disrupt", chain, az_index=2)
    assert chain["network"].exports["azs"][2].endswith("c")  # index 2: the third AZ, us-east-1c


def default_acl(chain: dict[str, Plan]) -> str:
    acl = chain["network"].exports["defaultNetworkAclId"]
    assert acl.startswith("acl-")
    return f"arn:aws:ec2:us-east-1:123456789012:network-acl/{acl}"


def test_the_role_reaches_only_the_targets_and_carries_the_boundary(with_faults: Plan,
                                                                    chain: dict[str, Plan]) -> None:
    role = with_faults.one("aws:iam/role:Role")
    assert role.get("permissionsBoundary") == boundary_arn("123456789012", "observability", SUFFIX)
    (trust,) = json.loads(role.get("assumeRolePolicy"))["Statement"]
    assert trust["Principal"] == {"Service": "fis.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    doc = json.loads(with_faults.one("aws:iam/rolePolicy:RolePolicy").get("policy"))
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in doc["Statement"]}
    vpc = f"arn:aws:ec2:us-east-1:123456789012:vpc/{chain['network'].exports['vpcId']}"
    assert grants == {
        "FailOverTheCluster": (["rds:FailoverDBCluster", "rds:DescribeDBClusters"],
                               chain["data"].exports["clusterArn"]),
        "ReadTheFunction": ("lambda:GetFunction", chain["app"].exports["functionArn"]),
        "WriteFaultConfig": (["s3:PutObject", "s3:DeleteObject"], f"{LOCATION}/*"),
        "ReadTheNetwork": (["ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls", "ec2:DescribeSubnets",
                            "ec2:DescribeVpcs"], "*"),
        "CreateAclInTheVpc": ("ec2:CreateNetworkAcl", vpc),
        "CreateFisAcl": ("ec2:CreateNetworkAcl", ACLS),
        "TagFisAclOnCreate": ("ec2:CreateTags", ACLS),
        "FillAndDeleteFisAcl": (["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"], ACLS),
        "SwapTheTargetSubnetsAcl": ("ec2:ReplaceNetworkAclAssociation",
                                    [*subnet_arns(sorted(chain["network"].exports["privateSubnetIds"])),
                                     default_acl(chain)]),
        "SwapOntoFisAcl": ("ec2:ReplaceNetworkAclAssociation", ACLS),
        "ReadDynamoDbPrefixList": ("ec2:GetManagedPrefixListEntries", "arn:aws:ec2:us-east-1:aws:prefix-list/*"),
        "ResolveTargets": ("tag:GetResources", "*"),
    }
    conditions = {s["Sid"]: s.get("Condition") for s in doc["Statement"]}
    # Only ACLs FIS made (it tags them on create), only in the network layer's VPC.
    assert conditions["CreateFisAcl"] == {"StringEquals": {"aws:RequestTag/managedByFIS": "true"}}
    assert conditions["TagFisAclOnCreate"] == {"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl",
                                                                "aws:RequestTag/managedByFIS": "true"}}
    assert conditions["FillAndDeleteFisAcl"] == {"StringEquals": {"ec2:ResourceTag/managedByFIS": "true",
                                                                  "ec2:Vpc": vpc}}
    assert conditions["SwapTheTargetSubnetsAcl"] == {"StringEquals": {"ec2:Vpc": vpc}}
    # Onto the subnets only FIS's ACLs or the VPC's default one (theirs): never another ACL of the VPC.
    assert conditions["SwapOntoFisAcl"] == {"StringEquals": {"ec2:ResourceTag/managedByFIS": "true", "ec2:Vpc": vpc}}
    assert not conditions["CreateAclInTheVpc"] and not conditions["ReadDynamoDbPrefixList"]


def test_aurora_only_reaches_no_function(plan_with: Any) -> None:
    plan = plan_with("observability", {"catalog-observability:faultExperiments": "aurora-failover"})
    assert [t.name for t in plan.of_type(TEMPLATE)] == ["aurora-failover"]
    doc = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy").get("policy"))
    assert [s["Sid"] for s in doc["Statement"]] == ["FailOverTheCluster", "ResolveTargets"]


def test_az_loss_alone_needs_no_prefix_list_and_no_function(plan_with: Any, chain: dict[str, Plan]) -> None:
    plan = plan_with("observability", {"catalog-observability:faultExperiments": "az-disrupt"})
    doc = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy").get("policy"))
    sids = [s["Sid"] for s in doc["Statement"]]
    assert "ReadDynamoDbPrefixList" not in sids and "ReadTheFunction" not in sids
    (swap,) = [s for s in doc["Statement"] if s["Sid"] == "SwapTheTargetSubnetsAcl"]
    assert swap["Resource"] == [*expected_targets("az-disrupt", chain), default_acl(chain)]  # one AZ's subnet only


@pytest.mark.parametrize(("overrides", "says"), [
    ({"faultExperiments": "az-loss"}, "faultExperiments: unknown fault 'az-loss'"),
    ({"faultExperiments": "az-disrupt", "faultAzIndex": "3"}, "faultAzIndex: 3 is not an AZ index"),
    # The chain's app layer has faultInjection off: its faultConfigLocation output is empty.
    ({"faultExperiments": "lambda-errors,lambda-latency"},
     "faultExperiments lambda-errors, lambda-latency need the FIS Lambda extension in the API"),
    ({"faultExperiments": "aurora-failover,aurora-failover"}, "a fault is listed twice"),
    ({"faultInvocationPercentage": "0"}, "faultInvocationPercentage"),
])
def test_bad_fault_settings_are_refused_in_one_line(plan_with: Any, overrides: dict[str, str], says: str) -> None:
    with pytest.raises(PlanError, match=re.escape(says)) as caught:
        plan_with("observability", {f"catalog-observability:{k}": v for k, v in overrides.items()})
    assert "Traceback" not in str(caught.value)


def test_guardrails_pass_with_faults(with_faults: Plan, chain: dict[str, Plan]) -> None:
    upstream = {layer: plan_resources(chain[layer]) for layer in ("network", "data", "app", "edge")}
    ctx = Context(suffix=SUFFIX, layer="observability", default_region="us-east-1",
                  private_subnet_ids=private_subnets(upstream["network"]), upstream=upstream)
    found = [(p.name, r.name, m) for p, r, m in evaluate(plan_resources(with_faults), ctx, POLICIES)
             if p.level == Level.MANDATORY]
    assert found == []


def test_the_observability_deploy_role_may_create_them(with_faults: Plan, boot: Plan) -> None:
    need = table.required_actions({r.type for r in with_faults.custom_resources()},
                                  {i["token"] for i in with_faults.invokes})
    docs = role_documents(boot, "observability", "deploy")
    lacking = [action for action in sorted(need["deploy"]) if not allows_action(docs, action)]
    assert lacking == []
    # ...and pass the experiments' role to FIS only
    assert allows_action(docs, "iam:PassRole")
