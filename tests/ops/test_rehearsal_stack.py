"""The rehearsal stack (projects/rehearsal) planned under mocks against the planned environment: what it reads, how
it is sized, what its role may do, and the guardrails over it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.ops import rehearsal_stack as stack
from shared.plan import Plan, PlanError
from shared.policy import POLICIES, Context, Level, evaluate, plan_resources, private_subnets
from shared.runtime.errors import CatalogError
from shared.runtime.rehearsal_sizing import MASTER_PORT
from tests.conftest import SUFFIX

ACCOUNT = "123456789012"  # the planner's mocked account
IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/catalog-rehearsal:2.47.0"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:catalog-rehearsal-key-{SUFFIX}-AbCdEf"


def config(**kw: Any) -> dict[str, str]:
    return stack.config_for(**{"users": 5000, "image": IMAGE, "signing_key_secret_arn": SECRET,
                               "duration_seconds": 600, **kw})


@pytest.fixture(scope="module")
def rehearsal(chain: dict[str, Plan]) -> Plan:
    return stack.plan(SUFFIX, config(), chain)


def container(plan: Plan, family_kind: str) -> dict[str, Any]:
    (td,) = [r for r in plan.of_type("aws:ecs/taskDefinition:TaskDefinition") if r.name == family_kind]
    (c,) = json.loads(td.get("containerDefinitions"))
    return {"task": td, **c}


def test_it_reads_the_target_through_the_layers_views(rehearsal: Plan, chain: dict[str, Plan]) -> None:
    assert sorted({producer for _, producer, _ in rehearsal.reads}) == sorted(stack.READS)
    assert rehearsal.exports["subnetIds"] == chain["network"].exports["privateSubnetIds"]
    sg = rehearsal.one("aws:ec2/securityGroup:SecurityGroup")
    assert sg.get("vpcId") == chain["network"].exports["vpcId"]
    master = container(rehearsal, "master")
    assert master["command"][-2:] == ["--host", f"https://{chain['edge'].exports['distributionDomainName']}"]
    worker = container(rehearsal, "worker")
    env = {e["name"]: e["value"] for e in worker["environment"]}
    assert env["REHEARSAL_ISSUER"] == chain["app"].exports["authIssuer"]
    assert env["REHEARSAL_AUDIENCE"] == chain["app"].exports["authAudience"]
    assert env["REHEARSAL_MIX"] == "0.3,0.5,0.2" and env["REHEARSAL_THINK_S"] == "5"
    # The signing key comes from its secret at start, never as a value in the plan or the state.
    assert worker["secrets"] == [{"name": "REHEARSAL_KEY_PEM", "valueFrom": SECRET}]
    assert not container(rehearsal, "master")["secrets"]


def test_it_is_sized_from_the_users(rehearsal: Plan, chain: dict[str, Plan]) -> None:
    cmd = container(rehearsal, "master")["command"]
    assert cmd[cmd.index("--expect-workers") + 1] == "3" == str(rehearsal.exports["workerCount"])  # 5,000 / 2,000
    assert cmd[cmd.index("--users") + 1] == "5000" and cmd[cmd.index("--spawn-rate") + 1] == "500"
    assert cmd[cmd.index("--run-time") + 1] == "600s"
    big = stack.plan(SUFFIX, config(users=50_000, spawn_rate=250), chain)
    cmd = container(big, "master")["command"]
    assert big.exports["workerCount"] == 25 and cmd[cmd.index("--spawn-rate") + 1] == "250"
    for kind in ("master", "worker"):
        td = container(rehearsal, kind)["task"]
        assert (td.get("cpu"), td.get("memory"), td.get("networkMode")) == ("1024", "2048", "awsvpc")
        assert td.get("requiresCompatibilities") == ["FARGATE"]


def test_nothing_keeps_running(rehearsal: Plan) -> None:
    # Tasks are started for one run by the task (RunTask): a service would restart the master into a second load.
    assert not rehearsal.of_type("aws:ecs/service:Service")
    assert {r.type for r in rehearsal.custom_resources()} == {
        "aws:ecs/cluster:Cluster", "aws:cloudwatch/logGroup:LogGroup", "aws:ec2/securityGroup:SecurityGroup",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy", "aws:ecs/taskDefinition:TaskDefinition"}


def test_the_network_is_closed(rehearsal: Plan) -> None:
    (ingress,) = rehearsal.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert ingress.get("fromPort") == ingress.get("toPort") == MASTER_PORT
    assert ingress.get("cidrIpv4") is None and ingress.get("referencedSecurityGroupId")
    egress = {(r.get("fromPort"), r.get("cidrIpv4")) for r in
              rehearsal.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")}
    assert egress == {(443, "0.0.0.0/0"), (MASTER_PORT, None)}


def test_the_execution_role_reaches_only_its_image_logs_and_key(rehearsal: Plan) -> None:
    role = rehearsal.one("aws:iam/role:Role")
    trust = json.loads(role.get("assumeRolePolicy"))["Statement"][0]
    assert trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    doc = json.loads(rehearsal.one("aws:iam/rolePolicy:RolePolicy").get("policy"))
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in doc["Statement"]}
    assert grants["SigningKey"] == ("secretsmanager:GetSecretValue", SECRET)
    assert grants["PullImage"][1] == f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/catalog-rehearsal"
    assert grants["EcrLogin"] == ("ecr:GetAuthorizationToken", "*")
    assert grants["Logs"][1].endswith(":log-stream:*") and ":log-group:/catalog/" in grants["Logs"][1]
    for td in rehearsal.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        assert td.get("taskRoleArn") is None  # Locust calls no AWS API: its tasks get no role


def test_guardrails_pass(rehearsal: Plan, chain: dict[str, Plan]) -> None:
    resources = plan_resources(rehearsal)
    upstream = {layer: plan_resources(chain[layer]) for layer in chain}
    ctx = Context(suffix=SUFFIX, layer="rehearsal", default_region="us-east-1",
                  private_subnet_ids=private_subnets(upstream["network"]), upstream=upstream)
    found = [(p.name, r.name, m) for p, r, m in evaluate(resources, ctx, POLICIES) if p.level == Level.MANDATORY]
    assert found == []
    for res in resources:  # every resource carries the rehearsal's tags
        if "tags" in res.inputs:
            assert res.inputs["tags"]["Layer"] == "rehearsal" and res.inputs["tags"]["Environment"] == SUFFIX


@pytest.mark.parametrize(("kw", "says"), [
    ({"users": 0}, "catalog-rehearsal:users"),
    ({"users": 300_000}, "catalog-rehearsal:users"),
    ({"image": "locustio/locust:2.47.0"}, "catalog-rehearsal:image"),
    ({"signing_key_secret_arn": "my-key"}, "catalog-rehearsal:signingKeySecretArn"),
    # ECS would inject any secret of the account into the container: only the environment's own ones.
    ({"signing_key_secret_arn": SECRET.replace(SUFFIX, "qa")},
     "signingKeySecretArn: secret 'catalog-rehearsal-key-qa-AbCdEf' is not environment perf-eu-canary-9's"),
    ({"signing_key_secret_arn": SECRET.replace("catalog-rehearsal-key", "payments-key")}, "is not environment"),
    ({"duration_seconds": 2}, "catalog-rehearsal:durationSeconds"),
])
def test_bad_settings_are_refused_before_planning(kw: dict[str, Any], says: str, chain: dict[str, Plan]) -> None:
    with pytest.raises(CatalogError, match=says):
        stack.plan(SUFFIX, config(**kw), chain)


def test_another_accounts_image_or_a_missing_target_is_refused(chain: dict[str, Plan]) -> None:
    with pytest.raises(PlanError, match="catalog-rehearsal:image is in 210987654321/us-east-1"):
        stack.plan(SUFFIX, config(image=IMAGE.replace(ACCOUNT, "210987654321")), chain)
    with pytest.raises(PlanError, match="reads observability"):
        stack.plan(SUFFIX, config(), {k: v for k, v in chain.items() if k != "observability"})


def test_the_guardrails_see_the_rehearsal(rehearsal: Plan, chain: dict[str, Plan]) -> None:
    # The pass above must be able to fail: an open ingress and a log group kept forever are caught.
    import dataclasses

    upstream = {layer: plan_resources(chain[layer]) for layer in chain}
    ctx = Context(suffix=SUFFIX, layer="rehearsal", default_region="us-east-1",
                  private_subnet_ids=private_subnets(upstream["network"]), upstream=upstream)
    broken = []
    for res in plan_resources(rehearsal):
        if res.type == "aws:cloudwatch/logGroup:LogGroup":
            res = dataclasses.replace(res, inputs={k: v for k, v in res.inputs.items() if k != "retentionInDays"})
        if res.type == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
            res = dataclasses.replace(res, inputs={**res.inputs, "cidrIpv4": "0.0.0.0/0",
                                                   "referencedSecurityGroupId": None})
        broken.append(res)
    names = {p.name for p, _, _ in evaluate(broken, ctx, POLICIES)}
    assert {"log-retention", "no-public-ingress"} <= names, names
