"""Identity on every path, under mocks with the longest legal suffix: no credential crosses the internet in clear
by default, the API connects as its app role, the master rotates, the default security group is empty, service trusts
carry aws:SourceAccount where AWS supports it, and Aurora logs DDL and role changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.plan.computed import ACCOUNT_ID
from shared.plan.planner import Plan, PlanError, Resource

LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CERT = f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/1a1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"


def statements(policy: Resource) -> list[dict[str, Any]]:
    return json.loads(policy.get("policy"))["Statement"]


def trust(role: Resource) -> list[dict[str, Any]]:
    return json.loads(role.get("assumeRolePolicy"))["Statement"]


# --- item 2: no credential over plain HTTP in the default deployment -------------------------------------------

def test_default_alb_is_internal_in_the_private_subnets(chain: dict[str, Plan]) -> None:
    alb = chain["app"].one(LB)
    assert alb.get("internal") is True
    assert alb.get("subnets") == chain["network"].export_value("privateSubnetIds")
    assert alb.get("securityGroups") == [chain["network"].export_value("albHttpSecurityGroupId")]


def test_default_plan_sends_no_credential_over_plain_http(chain: dict[str, Plan]) -> None:
    app = chain["app"]
    public = [lb for lb in app.of_type(LB) if lb.get("internal") is not True]
    assert public == []  # so the one HTTP listener is on an ALB nothing on the internet can reach
    assert [(li.get("port"), li.get("protocol")) for li in app.of_type(LISTENER)] == [(80, "HTTP")]
    vpc_origin = app.one("aws:cloudfront/vpcOrigin:VpcOrigin")
    assert vpc_origin.get("vpcOriginEndpointConfig", "arn") == app.export_value("albArn")
    for origin in chain["edge"].one(DISTRIBUTION).get("origins"):
        if "s3OriginConfig" in origin or origin["domainName"].endswith(".s3.us-east-1.amazonaws.com"):
            continue
        assert origin.get("vpcOriginConfig") or origin["customOriginConfig"]["originProtocolPolicy"] == "https-only"
    # No shared secret is sent or checked on the private path.
    assert all("httpHeader" not in json.dumps(r.inputs) for r in app.of_type("aws:lb/listenerRule:ListenerRule"))


def test_public_https_mode_refuses_without_a_certificate(plan_with: Callable[..., Plan]) -> None:
    with pytest.raises(PlanError) as err:
        plan_with("app", {"catalog-app:originMode": "public-https"})
    text = str(err.value)
    assert "ConfigError: catalog-app:certificateArn: is required with originMode=public-https" in text, text
    assert "Traceback" not in text


def test_public_https_mode_serves_https_only_with_the_origin_header(plan_with: Callable[..., Plan],
                                                                   chain: dict[str, Plan]) -> None:
    app = plan_with("app", {"catalog-app:originMode": "public-https", "catalog-app:certificateArn": CERT,
                            "catalog-app:originDomain": "api-origin.example.com"})
    alb = app.one(LB)
    assert alb.get("internal") is False
    assert alb.get("subnets") == chain["network"].export_value("publicSubnetIds")
    assert [(li.get("port"), li.get("protocol")) for li in app.of_type(LISTENER)] == [(443, "HTTPS")]
    rules = {r.name: r for r in app.of_type("aws:lb/listenerRule:ListenerRule")}
    assert "deny-without-origin-header" in rules
    assert not app.of_type("aws:cloudfront/vpcOrigin:VpcOrigin")
    assert app.export_value("originMode") == "public-https" and app.export_value("vpcOriginId") == ""


# --- item 3: least-privilege database roles --------------------------------------------------------------------

def test_the_api_connects_as_the_app_role_never_the_master(chain: dict[str, Plan]) -> None:
    data, app = chain["data"], chain["app"]
    assert data.export_value("databaseUser") == "catalog_app" != data.export_value("masterUser")
    api = {s["Sid"]: s for s in statements(app.by_name("api-role-policy"))}
    assert api["ProxyIamAuth"]["Resource"] == [
        f"arn:aws:rds-db:us-east-1:{ACCOUNT_ID}:dbuser:{data.export_value('proxyResourceId')}/catalog_app"]
    # No database secret: the one secret the API reads is the waiting room's HMAC key, and only that.
    secret_reads = [(a, s["Resource"]) for s in api.values() for a in s["Action"] if a.startswith("secretsmanager:")]
    assert secret_reads == [("secretsmanager:GetSecretValue", [data.export_value("waitingRoomKeySecretArn")])]
    env = app.by_name("api").get("environment", "variables")
    assert env["DB_USER"] == "catalog_app" and env["DB_IAM_AUTH"] == "true"
    assert [k for k in env if k.endswith("SECRET_ARN")] == ["WAITING_ROOM_SECRET_ARN"]


def test_the_migrate_function_alone_reads_exactly_the_three_role_secrets(chain: dict[str, Plan]) -> None:
    data, app = chain["data"], chain["app"]
    secrets = [data.export_value(k) for k in ("masterSecretArn", "ownerSecretArn", "appSecretArn")]
    assert all(secrets) and len(set(secrets)) == 3
    migrate = {s["Sid"]: s for s in statements(app.by_name("migrate-role-policy"))}
    # The master is only read; the owner and app secrets get their first value from the migrate task.
    assert migrate["MasterSecret"] == {"Sid": "MasterSecret", "Effect": "Allow",
                                       "Action": ["secretsmanager:GetSecretValue"], "Resource": secrets[:1]}
    assert migrate["RoleSecrets"] == {"Sid": "RoleSecrets", "Effect": "Allow", "Action": [
        "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
        "Resource": secrets[1:]}
    assert not any("rds-db:connect" in s["Action"] for s in migrate.values())
    fn = app.by_name("migrate")
    assert fn.get("imageConfig", "commands") == ["src/lambda.migrateHandler"]
    assert fn.get("vpcConfig", "securityGroupIds") == [chain["network"].export_value("dbAdminSecurityGroupId")]
    env = fn.get("environment", "variables")
    assert (env["DB_MASTER_SECRET_ARN"], env["DB_OWNER_SECRET_ARN"], env["DB_APP_SECRET_ARN"]) == tuple(secrets)
    assert env["DB_MIGRATE_HOST"] == data.export_value("writerEndpoint")
    assert app.by_name("api-migrate").get("functionName") == fn.get("name")


def test_the_proxy_serves_the_app_secret_only_with_iam_auth_required(chain: dict[str, Plan]) -> None:
    data = chain["data"]
    proxy = data.one("aws:rds/proxy:Proxy")
    auths = proxy.get("auths")
    assert [(a["secretArn"], a["iamAuth"], a["authScheme"]) for a in auths] == [
        (data.export_value("appSecretArn"), "REQUIRED", "SECRETS")]
    read = statements(data.by_name("proxy-read-secret"))
    assert read[0]["Resource"] == [data.export_value("appSecretArn")]


# --- item 4: rotation ------------------------------------------------------------------------------------------

def test_master_is_rds_managed_and_role_secrets_rotate(chain: dict[str, Plan]) -> None:
    data = chain["data"]
    cluster = data.one("aws:rds/cluster:Cluster")
    assert cluster.get("manageMasterUserPassword") is True and cluster.get("masterPassword") is None
    rotations = {r.name: r for r in data.of_type("aws:secretsmanager/secretRotation:SecretRotation")}
    assert set(rotations) == {"db-app-rotation", "db-owner-rotation", "waiting-room-key-rotation"}
    rotations.pop("waiting-room-key-rotation")  # no database login: its first rotation writes its first key
    rotation = data.one("aws:lambda/function:Function", "db-rotation")  # the layer's own, no CloudFormation
    assert rotation.get("vpcConfig", "securityGroupIds") == [chain["network"].export_value("dbAdminSecurityGroupId")]
    for r in rotations.values():
        assert r.get("rotationRules", "automaticallyAfterDays") == 30
        assert r.get("rotationLambdaArn", default="").startswith("arn:aws:lambda:us-east-1:")
    # No value from the program: the migrate task writes the first one (no credential in Pulumi state).
    assert data.of_type("aws:secretsmanager/secretVersion:SecretVersion") == []
    assert all(r.get("rotateImmediately") is False for r in rotations.values())


# --- item 5: default security group, trust conditions, DDL logging --------------------------------------------

def test_default_security_group_is_held_with_no_rules(chain: dict[str, Plan]) -> None:
    sg = chain["network"].one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert sg.get("ingress") in ([], None) and sg.get("egress") in ([], None)
    assert sg.get("vpcId") == chain["network"].export_value("vpcId")


@pytest.mark.parametrize(("layer", "role", "service"), [
    ("data", "proxy-role", "rds.amazonaws.com"),
    ("network", "flow-logs-role", "vpc-flow-logs.amazonaws.com"),
])
def test_service_trusts_carry_the_source_account(chain: dict[str, Plan], layer: str, role: str,
                                                 service: str) -> None:
    (st,) = trust(chain[layer].by_name(role))
    assert st["Principal"] == {"Service": service}
    assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_aurora_logs_ddl_and_role_changes_to_cloudwatch(chain: dict[str, Plan]) -> None:
    data = chain["data"]
    params = {p["name"]: p["value"] for p in data.one("aws:rds/clusterParameterGroup:ClusterParameterGroup")
              .get("parameters")}
    # pgaudit's DDL and ROLE classes, never log_statement=ddl (which writes ALTER ROLE ... PASSWORD '...' as sent).
    assert params["shared_preload_libraries"] == "pgaudit" and params["pgaudit.log"] == "ddl,role"
    assert "log_statement" not in params
    assert data.one("aws:rds/cluster:Cluster").get("enabledCloudwatchLogsExports") == ["postgresql"]
    group = data.by_name("db-postgresql-log")
    assert group.get("name").endswith("/postgresql") and group.get("retentionInDays") == 30


# --- item 6: the guardrails judge the real plan ----------------------------------------------------------------

def test_guardrails_catch_the_master_user_and_an_http_origin_in_the_real_plan(chain: dict[str, Plan]) -> None:
    from shared.policy import BY_NAME, Context, evaluate
    from shared.policy.engine import plan_resources

    app, data, edge = (plan_resources(chain[k]) for k in ("app", "data", "edge"))
    ctx = Context(suffix=chain["app"].suffix, layer="app", upstream={"data": data})
    rule = [BY_NAME["rds-connect-not-master"]]
    assert evaluate(app, ctx, rule) == []
    for r in app:
        if r.name == "api-role-policy":
            r.inputs["policy"] = r.inputs["policy"].replace("/catalog_app", "/catalogadmin")
    assert [m for _, _, m in evaluate(app, ctx, rule)] != []

    edge_ctx = Context(suffix=chain["edge"].suffix, layer="edge")
    origin_rule = [BY_NAME["cloudfront-origin-https"]]
    assert evaluate(edge, edge_ctx, origin_rule) == []
    (dist,) = [r for r in edge if r.type == DISTRIBUTION]
    for origin in dist.inputs["origins"]:
        if origin.get("vpcOriginConfig"):
            origin.pop("vpcOriginConfig")
            origin["customOriginConfig"] = {"originProtocolPolicy": "http-only", "httpPort": 80}
    assert any("http-only" in m for _, _, m in evaluate(edge, edge_ctx, origin_rule))
