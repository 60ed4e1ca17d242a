"""VPC flow logs to CloudWatch Logs, through a role that may write to that one log group."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from shared.runtime.naming import Service


@dataclass(frozen=True)
class FlowLogsArgs:
    vpc_id: pulumi.Input[str]
    retention_days: int
    account_id: str
    name: Callable[[str, Service], str]


class FlowLogs(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: FlowLogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:network:FlowLogs", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.log_group = aws.cloudwatch.LogGroup(
            "flow-logs",
            name=args.name("vpc-flow-logs", Service.LOG_GROUP),
            retention_in_days=args.retention_days,
            opts=child,
        )
        role = aws.iam.Role(
            "flow-logs-role",
            name=args.name("vpc-flow-logs", Service.IAM_ROLE),
            assume_role_policy=pulumi.Output.json_dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    # Confused-deputy guard: only flow logs of this account may assume the role.
                    "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
                }],
            }),
            opts=child,
        )
        aws.iam.RolePolicy(
            "flow-logs-write",
            role=role.id,
            policy=pulumi.Output.json_dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": [self.log_group.arn, pulumi.Output.concat(self.log_group.arn, ":*")],
                }],
            }),
            opts=child,
        )
        aws.ec2.FlowLog(
            "vpc-flow-log",
            vpc_id=args.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": args.name("vpc-flow-log", Service.GENERIC)},
            opts=child,
        )
        self.register_outputs({"logGroupName": self.log_group.name})
