"""The waiting room's data side under mocks: its DynamoDB table equals the API's own definition
(containers/catalog-api/src/waiting-room.mjs tableDefinition(), printed by Node), and its HMAC key is a Secrets
Manager secret without a value in the program, filled by its first rotation inside the account."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from shared.dev import node_env
from shared.plan.planner import Plan, Resource
from shared.runtime.layers import REPO_ROOT
from tests.conftest import SUFFIX

TABLE = "aws:dynamodb/table:Table"
SECRET = "aws:secretsmanager/secret:Secret"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
API = REPO_ROOT / "containers" / "catalog-api"
NODE = node_env()
needs_node = pytest.mark.skipif(
    shutil.which("node", path=NODE["PATH"]) is None or not (API / "node_modules" / "@aws-sdk").is_dir(),
    reason="node and the API's dependencies (`invoke install`) print the API's table definition",
)


@pytest.fixture(scope="module")
def data(chain: dict[str, Plan]) -> Plan:
    return chain["data"]


@pytest.fixture(scope="module")
def table(data: Plan) -> Resource:
    return data.one(TABLE, "waiting-room")


def as_create_table(table: Resource) -> dict[str, Any]:
    """The planned table in CreateTable's terms (what tableDefinition() answers)."""
    gsis = [
        {
            "IndexName": i["name"],
            "KeySchema": [{"AttributeName": k["attributeName"], "KeyType": k["keyType"]} for k in i["keySchemas"]],
            "Projection": {"ProjectionType": i["projectionType"]},
        }
        for i in table.get("globalSecondaryIndexes")
    ]
    return {
        "TableName": table.get("name"),
        "BillingMode": table.get("billingMode"),
        "AttributeDefinitions": [
            {"AttributeName": a["name"], "AttributeType": a["type"]} for a in table.get("attributes")
        ],
        "KeySchema": [{"AttributeName": table.get("hashKey"), "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": gsis,
    }


@needs_node
def test_the_table_is_the_one_the_api_defines(table: Resource) -> None:
    script = (
        "import('./src/waiting-room.mjs').then((m) => "
        f"console.log(JSON.stringify(m.tableDefinition({json.dumps(table.get('name'))}))))"
    )
    out = subprocess.run(
        ["node", "-e", script], cwd=API, env=NODE, capture_output=True, text=True, timeout=60, check=True
    )
    api = json.loads(out.stdout)
    ours = as_create_table(table)
    by_name = lambda items: sorted(items, key=json.dumps)  # noqa: E731 - order carries no meaning in DynamoDB
    assert by_name(ours.pop("AttributeDefinitions")) == by_name(api.pop("AttributeDefinitions"))
    assert ours == api


def test_the_table_is_on_demand_with_ttl_pitr_encryption_and_destroyable(table: Resource) -> None:
    assert table.get("name") == f"catalog-waiting-room-{SUFFIX}"
    assert table.get("billingMode") == "PAY_PER_REQUEST"
    assert table.get("ttl") == {"attributeName": "expiresAt", "enabled": True}
    assert table.get("pointInTimeRecovery", "enabled") is True
    assert table.get("serverSideEncryption", "enabled") is True
    assert table.get("deletionProtectionEnabled") is False
    assert [i["name"] for i in table.get("globalSecondaryIndexes")] == ["queue"]
    assert table.get("tags", "Layer") == "data"


def test_the_exports_name_the_table_its_index_and_the_key_secret(data: Plan, table: Resource) -> None:
    assert data.export_value("waitingRoomTableName") == table.get("name")
    assert data.export_value("waitingRoomTableArn").endswith(f":table/{table.get('name')}")
    assert data.export_value("waitingRoomTableIndexNames") == ["queue"]
    secret = data.one(SECRET, "waiting-room-key")
    assert data.export_value("waitingRoomKeySecretArn").startswith("arn:aws:secretsmanager:us-east-1:")
    assert secret.get("name") == f"catalog-waiting-room-key-{SUFFIX}"


def test_the_key_has_no_value_in_the_program_and_its_first_rotation_writes_it(data: Plan) -> None:
    assert not data.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    secret = data.one(SECRET, "waiting-room-key")
    assert secret.get("recoveryWindowInDays") == 0
    rotation = data.one(ROTATION, "waiting-room-key-rotation")
    assert rotation.get("rotateImmediately") is True  # the first value, made by the function in the account
    db = data.one(ROTATION, "db-app-rotation")
    assert db.get("rotateImmediately") is False
    assert rotation.get("rotationLambdaArn") == db.get("rotationLambdaArn")  # the one function the deploy may use


def test_the_rotation_function_knows_the_key_as_an_hmac_secret_and_may_rotate_it(data: Plan) -> None:
    fn = data.one("aws:lambda/function:Function", "db-rotation")
    key_arn = data.export_value("waitingRoomKeySecretArn")
    assert fn.get("environment", "variables", "HMAC_KEY_SECRET_ARNS") == key_arn
    statements = json.loads(data.by_name("db-rotation-policy").get("policy"))["Statement"]
    rotate = next(s for s in statements if s["Sid"] == "RotateOwnSecrets")
    assert key_arn in rotate["Resource"] and len(rotate["Resource"]) == 3
