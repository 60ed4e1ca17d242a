"""The data layer's own rotation function, planned under mocks: the function, its role, policy, log group and
invoke permission, and one SecretRotation per secret; no CloudFormation anywhere. The function's behaviour is
proven by its node:test suite (projects/data/rotation/test) against PostgreSQL and moto."""

from __future__ import annotations

import json
import shutil
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from projects.bootstrap import access
from projects.bootstrap import permissions as perms
from projects.data import credentials
from projects.data.rotation_package import ROTATION_DIR, package_files, zip_bytes
from shared.plan.planner import Plan
from shared.runtime.errors import CatalogError
from tests.conftest import SUFFIX

ACCOUNT = "123456789012"
FUNCTION = "aws:lambda/function:Function"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"


@pytest.fixture(scope="module")
def data(chain: dict[str, Plan]) -> Plan:
    return chain["data"]


def policy_statements(plan: Plan, name: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(plan.by_name(name).get("policy"))["Statement"]}


def test_the_function_is_a_node24_zip_arm64_3gb_in_the_private_subnets_with_the_db_admin_group(
        data: Plan, chain: dict[str, Plan]) -> None:
    fn = data.one(FUNCTION, "db-rotation")
    network = chain["network"]
    assert fn.get("name") == f"catalog-db-rotation-{SUFFIX}"
    assert (fn.get("packageType"), fn.get("runtime"), fn.get("handler")) == ("Zip", "nodejs24.x", "index.handler")
    assert (fn.get("architectures"), fn.get("memorySize")) == (["arm64"], 3072)
    assert fn.get("vpcConfig", "subnetIds") == network.export_value("privateSubnetIds")
    assert fn.get("vpcConfig", "securityGroupIds") == [network.export_value("dbAdminSecurityGroupId")]
    assert fn.get("role") == f"arn:aws:iam::{ACCOUNT}:role/catalog-db-rotation-{SUFFIX}"
    assert fn.get("code", "$archive").startswith("sha256:")  # the zip's content, the same on every plan
    env = fn.get("environment", "variables")
    assert env == {"SECRETS_MANAGER_ENDPOINT": "https://secretsmanager.us-east-1.amazonaws.com",
                   "EXCLUDE_CHARACTERS": "/@\"' \\`", "NODE_EXTRA_CA_CERTS": "/var/runtime/ca-cert.pem",
                   "HMAC_KEY_SECRET_ARNS": data.export_value("waitingRoomKeySecretArn")}
    log = data.one("aws:cloudwatch/logGroup:LogGroup", "db-rotation-logs")
    assert log.get("name") == fn.get("loggingConfig", "logGroup") == f"/aws/lambda/{fn.get('name')}"
    assert log.get("retentionInDays") == 30


def test_the_function_name_is_the_one_the_deploy_role_may_rotate_with(data: Plan) -> None:
    """RotateSecret is allowed only with secretsmanager:RotationLambdaARN = the bootstrap's rotation function."""
    facts = perms.placeholder_facts(SUFFIX)
    expected = perms._format(access.ROTATION_FUNCTION_ARN, facts)
    rotations = data.of_type(ROTATION)
    assert {r.get("rotationLambdaArn") for r in rotations} == {expected}
    assert access.ROTATION_FUNCTION.resources == (access.ROTATION_FUNCTION_ARN,)


def test_the_role_is_trusted_by_lambda_only_and_carries_the_data_boundary(data: Plan) -> None:
    role = data.by_name("db-rotation-role")
    trust = json.loads(role.get("assumeRolePolicy"))
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]
    assert role.get("permissionsBoundary") == f"arn:aws:iam::{ACCOUNT}:policy/catalog-data-boundary-{SUFFIX}"


def test_the_policy_names_exactly_the_three_secrets_and_its_own_log_group(data: Plan) -> None:
    found = policy_statements(data, "db-rotation-policy")
    secrets = found["RotateOwnSecrets"]
    assert secrets["Action"] == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                                 "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"]
    assert sorted(secrets["Resource"]) == sorted([data.export_value("appSecretArn"),
                                                  data.export_value("ownerSecretArn"),
                                                  data.export_value("waitingRoomKeySecretArn")])
    log_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/catalog-db-rotation-{SUFFIX}"
    assert found["OwnLogGroup"]["Resource"] == [log_arn, f"{log_arn}:*"]
    assert found["OwnLogGroup"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    # "*" only where AWS has no resource-level permission (ENIs, traces); nothing secret there.
    for sid in ("VpcNetworkInterfaces", "Traces"):
        assert all(a.startswith(("ec2:", "xray:")) for a in found[sid]["Action"]), sid
    every = {a for s in found.values() for a in s["Action"]}
    assert not [a for a in every if a.startswith("secretsmanager:") and a not in credentials.SECRET_ACTIONS]
    assert "secretsmanager:GetRandomPassword" not in every
    # The boundary's ceiling for the data layer leaves every one of them (the role could do nothing otherwise).
    assert every <= set(perms.ACCESS["data"].runtime)


def test_only_secrets_manager_of_this_account_may_invoke_it(data: Plan) -> None:
    permission = data.one("aws:lambda/permission:Permission", "db-rotation-invoke")
    assert permission.get("principal") == "secretsmanager.amazonaws.com"
    assert permission.get("action") == "lambda:InvokeFunction"
    assert permission.get("sourceAccount") == ACCOUNT
    assert permission.get("function") == data.one(FUNCTION, "db-rotation").get("name")


def test_each_database_secret_rotates_on_schedule_not_at_once(data: Plan, plan_with: Any) -> None:
    rotations = {r.name: r for r in data.of_type(ROTATION)}
    assert set(rotations) == {"db-app-rotation", "db-owner-rotation", "waiting-room-key-rotation"}
    # The key's rotation starts at once: that first rotation writes its first value (test_waiting_room.py).
    rotations.pop("waiting-room-key-rotation")
    assert rotations["db-app-rotation"].get("secretId") == data.export_value("appSecretArn")
    assert rotations["db-owner-rotation"].get("secretId") == data.export_value("ownerSecretArn")
    for r in rotations.values():
        assert r.get("rotateImmediately") is False
        assert r.get("rotationRules", "automaticallyAfterDays") == 30
    weekly = plan_with("data", {"catalog-data:rotationDays": "7"})
    assert {r.get("rotationRules", "automaticallyAfterDays") for r in weekly.of_type(ROTATION)} == {7}


def test_no_layer_declares_a_cloudformation_stack(chain: dict[str, Plan]) -> None:
    for layer, plan in chain.items():
        assert not [r.type for r in plan.custom_resources()
                    if r.type.startswith(("aws:serverlessrepository/", "aws:cloudformation/"))], layer


def test_the_package_holds_the_handler_and_its_production_dependencies_only() -> None:
    files = package_files()
    assert {"index.mjs", "hmac-key.mjs", "package.json"} <= set(files)
    for module in ("pg", "@aws-sdk/client-secrets-manager", "pg-protocol"):
        assert f"node_modules/{module}/package.json" in files, module
    assert not [n for n in files if n.endswith((".d.ts", ".map")) or "/.bin/" in n or "dist-types" in n]
    assert not [n for n in files if n.startswith(("test/", "package-lock"))]
    assert files["index.mjs"] == ROTATION_DIR / "index.mjs"
    # Deterministic: the same sources give the same bytes (the function redeploys only when its code changes).
    first = zip_bytes(files)
    assert first == zip_bytes(package_files())
    with zipfile.ZipFile(BytesIO(first)) as zf:
        assert zf.read("index.mjs") == (ROTATION_DIR / "index.mjs").read_bytes()
    assert len(first) < 50 * 1024 * 1024  # Lambda's direct-upload zip limit


def test_a_missing_dependency_install_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    for name in ("index.mjs", "package.json"):
        shutil.copy(ROTATION_DIR / name, tmp_path / name)
    with pytest.raises(CatalogError, match=r"lacks pg, @aws-sdk/client-secrets-manager.*invoke install --layer data"):
        package_files(tmp_path)
