"""The waiting room's controller: the API's image run by EventBridge Scheduler once a minute.

The API answers joins and polls; the controller (containers/catalog-api/src/waiting-room-controller.mjs) is what
admits shoppers: each run loops for about 55 s advancing the serving watermark of every queued SKU, then ends, and
the next minute's run takes over (the state item's version check lets two overlap). It needs the table only: no
VPC (DynamoDB over Lambda's own network, so no network interfaces and no ec2 rights), no database, no key.

- Function: the API's image with ImageConfig command `src/waiting-room-controller.handler`, arm64, 512 MB, 60 s,
  reserved concurrency 2 (shared/runtime/waiting_room.py says why), its own log group and role.
- Role: GetItem, BatchGetItem and UpdateItem on the waiting-room table, Query on its `queue` index, its log group,
  X-Ray; the layer's permissions boundary is set on it like on every role (shared/runtime/boundary.py).
- Schedule: `rate(1 minute)`, its own role that may only invoke this function, assumable by EventBridge Scheduler
  for this account's default schedule group only (aws:SourceAccount + aws:SourceArn: the confused deputy).

The schedule's StartDate is the room's start less 5 minutes (left out once that is near or past: Scheduler
refuses a StartDate more than 5 minutes old) and its EndDate the room's end (`waitingRoomEndsAt`) plus one pass
lifetime: it runs for the sale only, with no deploy on the day. A deploy after that end disables it and gives the
API no room (shared/runtime/waiting_room.py `controller_window`).

Always declared, the schedule DISABLED while `waitingRoomSkus` is empty: a sale then turns it on with an update of
one schedule instead of creating a function, two roles and a schedule on the day, and every deploy exercises the
pipeline's rights on all of them (the program-derived IAM map test sees them in every plan).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from projects.app.policies import LOG_ACTIONS, XRAY_ACTIONS, assume_role_policy
from shared.runtime import REGION, mission
from shared.runtime import waiting_room as room

# What the controller calls (containers/catalog-api README "What the infrastructure must provide"): on the table,
# read the room state and the 16 load items (GetItem, BatchGetItem) and write the state under its version check
# (UpdateItem); on the index, the arrivals in order (Query). Nothing else: it writes no ticket and deletes nothing.
CONTROLLER_TABLE_ACTIONS = ("dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:UpdateItem")
CONTROLLER_INDEX_ACTIONS = ("dynamodb:Query",)
SCHEDULE_GROUP = "default"


@dataclass(frozen=True)
class WaitingRoomArgs:
    function_name: str
    role_name: str
    schedule_name: str
    schedule_role_name: str
    image_uri: pulumi.Input[str]
    account_id: str
    log_retention_days: int
    table_arn: pulumi.Input[str]
    index_names: pulumi.Input[list[str]]
    environment: Mapping[str, pulumi.Input[str]]
    window: room.ControllerWindow  # enabled while a SKU is listed and the room has not closed; its dates


def controller_policy(log_group_arn: str, table_arn: str, index_names: list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OwnLogGroup",
                    "Effect": "Allow",
                    "Action": list(LOG_ACTIONS),
                    "Resource": [log_group_arn, f"{log_group_arn}:*"],
                },
                {
                    "Sid": "WaitingRoomTable",
                    "Effect": "Allow",
                    "Action": list(CONTROLLER_TABLE_ACTIONS),
                    "Resource": [table_arn],
                },
                {
                    "Sid": "WaitingRoomQueue",
                    "Effect": "Allow",
                    "Action": list(CONTROLLER_INDEX_ACTIONS),
                    "Resource": [f"{table_arn}/index/{n}" for n in index_names],
                },
                # X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level permissions.
                {"Sid": "XRay", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"},
            ],
        }
    )


def schedule_trust(account_id: str) -> dict[str, Any]:
    """EventBridge Scheduler may assume it for this account's default schedule group only: the Scheduler user
    guide's confused-deputy conditions, where aws:SourceArn is the schedule *group* ARN, not the schedule's."""
    group_arn = f"arn:aws:scheduler:{REGION}:{account_id}:schedule-group/{SCHEDULE_GROUP}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id, "aws:SourceArn": group_arn}},
            }
        ],
    }


def invoke_policy(function_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "InvokeController",
                    "Effect": "Allow",
                    "Action": "lambda:InvokeFunction",
                    "Resource": [function_arn, f"{function_arn}:*"],
                }
            ],
        }
    )


class WaitingRoomController(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: WaitingRoomArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:app:WaitingRoomController", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.log_group = aws.cloudwatch.LogGroup(
            "waiting-room-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        self.role = aws.iam.Role(
            "waiting-room-role",
            name=args.role_name,
            description="the waiting room controller: its table and index, its log group",
            assume_role_policy=json.dumps(assume_role_policy("lambda.amazonaws.com")),
            opts=child,
        )
        self.role_policy = aws.iam.RolePolicy(
            "waiting-room-role-policy",
            role=self.role.id,
            policy=pulumi.Output.all(self.log_group.arn, args.table_arn, args.index_names).apply(
                lambda a: controller_policy(a[0], a[1], list(a[2] or []))
            ),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            "waiting-room-controller",
            name=args.function_name,
            role=self.role.arn,
            package_type="Image",
            image_uri=args.image_uri,
            image_config=aws.lambda_.FunctionImageConfigArgs(commands=[room.CONTROLLER_HANDLER]),
            architectures=[mission.API_ARCHITECTURE],
            memory_size=room.CONTROLLER_MEMORY_MB,
            timeout=room.CONTROLLER_TIMEOUT_S,
            reserved_concurrent_executions=room.CONTROLLER_RESERVED_CONCURRENCY,
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=self.log_group.name),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(args.environment)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, self.role_policy]),
        )
        self.schedule_role = aws.iam.Role(
            "waiting-room-schedule-role",
            name=args.schedule_role_name,
            description="EventBridge Scheduler: invoke the waiting room controller, nothing else",
            assume_role_policy=json.dumps(schedule_trust(args.account_id)),
            opts=child,
        )
        schedule_policy = aws.iam.RolePolicy(
            "waiting-room-schedule-invoke",
            role=self.schedule_role.id,
            policy=self.function.arn.apply(invoke_policy),
            opts=child,
        )
        self.schedule = aws.scheduler.Schedule(
            "waiting-room-schedule",
            name=args.schedule_name,
            group_name=SCHEDULE_GROUP,
            description="advances the waiting room once a minute (each run loops about 55 s)",
            schedule_expression=room.CONTROLLER_SCHEDULE,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            state="ENABLED" if args.window.enabled else "DISABLED",
            # The room's own span: from a few minutes before the start to its end + one pass lifetime, so the
            # controller stops with the sale even if nobody deploys again (Scheduler takes UTC ISO 8601).
            start_date=args.window.start_date,
            end_date=args.window.end_date,
            target=aws.scheduler.ScheduleTargetArgs(
                arn=self.function.arn,
                role_arn=self.schedule_role.arn,
                # A missed minute is replaced by the next one: no retries piling runs onto the reserved two.
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=0, maximum_event_age_in_seconds=60
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[schedule_policy]),
        )
        self.register_outputs({"functionName": self.function.name, "scheduleName": self.schedule.name})
