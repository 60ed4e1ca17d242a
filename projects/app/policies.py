"""The API function's IAM policies, as plain dicts (values may be Outputs): one place, read by tests."""

from __future__ import annotations

import json
from typing import Any

import pulumi

# Every DynamoDB call the API makes (GetCommand, PutCommand, DeleteCommand, QueryCommand, BatchWriteCommand)
# plus their near relatives; no Scan, no table management.
TABLE_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)
# Indexes are only ever queried.
INDEX_ACTIONS = ("dynamodb:Query",)
# The waiting room table, from the API (containers/catalog-api README "What the infrastructure must provide"):
# tickets and passes are single-item reads and writes (claiming a pass, a room's first join setting openedAt:
# UpdateItem), leaving and returning a spent pass's slot a TransactWriteItems (authorized per item: UpdateItem,
# ConditionCheckItem); no Query, no Batch, no index: reading the queue is the controller's.
ROOM_TABLE_ACTIONS = ("dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem",
                      "dynamodb:UpdateItem")
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# What Lambda needs to attach the function to the VPC (the managed AWSLambdaVPCAccessExecutionRole minus its
# logs:* on "*", which would undo "exactly its log group"). The Describe calls have no resource-level
# permissions and Lambda checks these on the role with Resource "*" when the function is created.
ENI_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
)
XRAY_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")


def assume_role_policy(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


# The migrate task writes the first value of the owner and app secrets (containers/catalog-api/src/db-secrets.mjs):
# DescribeSecret tells "no value yet" from "no such secret", PutSecretValue stores the password it generated. The
# master secret (RDS-managed) is only read.
ROLE_SECRET_ACTIONS = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                       "secretsmanager:PutSecretValue")


def migrate_policy(log_group_arn: pulumi.Input[str], master_secret_arn: pulumi.Input[str],
                   role_secret_arns: list[pulumi.Input[str]]) -> pulumi.Output[str]:
    """The migrate function's role: its log group, VPC attachment, GetSecretValue on exactly the master secret and
    DescribeSecret/GetSecretValue/PutSecretValue on exactly the owner and app secrets (the aws/secretsmanager key's
    policy already allows encrypting and decrypting through Secrets Manager for principals of the account)."""

    def render(args: list[Any]) -> str:
        log_arn, master, *roles = args
        statements: list[dict[str, Any]] = [
            {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": list(LOG_ACTIONS),
             "Resource": [log_arn, f"{log_arn}:*"]},
            {"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Action": list(ENI_ACTIONS), "Resource": "*"},
            {"Sid": "RoleSecrets", "Effect": "Allow", "Action": list(ROLE_SECRET_ACTIONS),
             "Resource": [arn for arn in roles if arn]},
        ]
        if master:  # "" when the master password comes from config (no RDS-managed secret)
            statements.append({"Sid": "MasterSecret", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                               "Resource": [master]})
        return json.dumps({"Version": "2012-10-17", "Statement": statements})

    return pulumi.Output.all(log_group_arn, master_secret_arn, *role_secret_arns).apply(render)


def dbuser_arn(region: str, account_id: str, proxy_resource_id: pulumi.Input[str],
               user: pulumi.Input[str]) -> pulumi.Output[str]:
    """`rds-db:connect` resource of a user through RDS Proxy: the proxy's resource id (prx-...), not the cluster's."""
    return pulumi.Output.concat(f"arn:aws:rds-db:{region}:{account_id}:dbuser:", proxy_resource_id, "/", user)


def index_arns(table_arn: pulumi.Input[str], names: pulumi.Input[list[str]]) -> pulumi.Output[list[str]]:
    return pulumi.Output.all(table_arn, names).apply(lambda a: [f"{a[0]}/index/{n}" for n in (a[1] or [])])


def function_policy(
    log_group_arn: pulumi.Input[str],
    dbuser: pulumi.Input[str],
    table_arns: list[pulumi.Input[str]],
    index_arn_lists: list[pulumi.Input[list[str]]],
    room_table_arn: pulumi.Input[str] = "",
    key_secret_arn: pulumi.Input[str] = "",
    extra: list[dict[str, Any]] | None = None,
) -> pulumi.Output[str]:
    """The execution role's inline policy: its log group, VPC attachment, the proxy user, its tables, X-Ray, the
    waiting room: its table (single items) and reading its HMAC key (GetSecretValue, nothing else), and `extra`:
    the FIS extension's reads of its configuration, with faultInjection."""

    def render(args: list[Any]) -> str:
        log_arn, user_arn, room_arn, key_arn, tables, *lists = args
        indexes = [arn for lst in lists for arn in (lst or [])]
        statements: list[dict[str, Any]] = [
            {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": list(LOG_ACTIONS),
             "Resource": [log_arn, f"{log_arn}:*"]},
            {"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Action": list(ENI_ACTIONS), "Resource": "*"},
            {"Sid": "ProxyIamAuth", "Effect": "Allow", "Action": ["rds-db:connect"], "Resource": [user_arn]},
            {"Sid": "Tables", "Effect": "Allow", "Action": list(TABLE_ACTIONS), "Resource": list(tables)},
            # X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level permissions: "*" is required.
            {"Sid": "XRay", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"},
        ]
        if indexes:  # an empty Resource list is an invalid policy
            statements.insert(4, {"Sid": "TableIndexes", "Effect": "Allow", "Action": list(INDEX_ACTIONS),
                                  "Resource": indexes})
        if room_arn:
            statements.append({"Sid": "WaitingRoomTable", "Effect": "Allow", "Action": list(ROOM_TABLE_ACTIONS),
                               "Resource": [room_arn]})
        if key_arn:
            statements.append({"Sid": "WaitingRoomKey", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                               "Resource": [key_arn]})
        statements += extra or []
        return json.dumps({"Version": "2012-10-17", "Statement": statements})

    return pulumi.Output.all(log_group_arn, dbuser, room_table_arn, key_secret_arn, pulumi.Output.all(*table_arns),
                             *index_arn_lists).apply(render)
