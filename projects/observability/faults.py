"""Fault Injection Service experiment templates for the sale rehearsal (only with `faultExperiments` set).

One template per fault (shared/runtime/faults.py), each stopped by the layer's composite alarm (every
customer-facing alarm) and run by one role that may touch exactly the experiments' targets: the Aurora cluster it
fails over, the API function it slows or breaks, the S3 location the FIS Lambda extension reads. The role carries
the layer's permissions boundary (shared/runtime/boundary.py sets it on every role).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from shared.runtime.faults import FAULTS, Fault

STOP_SOURCE = "aws:cloudwatch:alarm"


@dataclass(frozen=True)
class FaultArgs:
    faults: tuple[str, ...]
    role_name: str
    account_id: str
    region: str
    stop_alarm_arns: list[pulumi.Input[str]]
    cluster_arn: pulumi.Input[str] | None  # the data layer's Aurora cluster (aurora-failover)
    function_arn: pulumi.Input[str] | None  # the app layer's API function, unqualified (lambda-*)
    config_location: str  # arn:aws:s3:::bucket/prefix the FIS Lambda extension reads ("" without lambda faults)
    duration_minutes: int
    invocation_percentage: int
    delay_ms: int


def _trust(account_id: str, region: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "fis.amazonaws.com"}, "Action": "sts:AssumeRole",
        # Only this account's experiments (confused deputy).
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                      "ArnLike": {"aws:SourceArn": f"arn:aws:fis:{region}:{account_id}:experiment/*"}}}]})


def role_policy(faults: tuple[str, ...], cluster_arn: str | None, function_arn: str | None,
                config_location: str) -> str:
    """What the experiments do, on their targets only (the FIS actions reference's permissions per action)."""
    statements: list[dict[str, Any]] = []
    if "aurora-failover" in faults:
        statements.append({"Sid": "FailOverTheCluster", "Effect": "Allow",
                           "Action": ["rds:FailoverDBCluster", "rds:DescribeDBClusters"], "Resource": cluster_arn})
    if any(FAULTS[f].lambda_extension for f in faults):
        statements += [
            {"Sid": "ReadTheFunction", "Effect": "Allow", "Action": "lambda:GetFunction", "Resource": function_arn},
            # FIS writes the fault's configuration where the function's FIS extension reads it, then removes it.
            {"Sid": "WriteFaultConfig", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
             "Resource": f"{config_location.rstrip('/')}/*"},
        ]
    # FIS resolves targets through the Resource Groups Tagging API, which has no resource-level permission.
    statements.append({"Sid": "ResolveTargets", "Effect": "Allow", "Action": "tag:GetResources", "Resource": "*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _action(fault: Fault, args: FaultArgs) -> dict[str, Any]:
    duration = f"PT{args.duration_minutes}M"
    parameters = {
        "aurora-failover": {},
        "lambda-errors": {"duration": duration, "invocationPercentage": str(args.invocation_percentage)},
        "lambda-latency": {"duration": duration, "invocationPercentage": str(args.invocation_percentage),
                           "startupDelayMilliseconds": str(args.delay_ms)},
    }[fault.name]
    return {"name": fault.name, "action_id": fault.action_id, "description": fault.what[:512],
            "parameters": [{"key": k, "value": v} for k, v in sorted(parameters.items())],
            "target": {"key": fault.target_key, "value": "target"}}


class FaultExperiments(pulumi.ComponentResource):
    def __init__(self, name: str, args: FaultArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:observability:FaultExperiments", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role("fault-injection", name=args.role_name,
                                 assume_role_policy=_trust(args.account_id, args.region), opts=child)
        targets = pulumi.Output.all(args.cluster_arn, args.function_arn)
        aws.iam.RolePolicy("fault-injection", role=self.role.id, opts=child, policy=targets.apply(
            lambda t: role_policy(args.faults, t[0], t[1], args.config_location)))
        self.templates: dict[str, aws.fis.ExperimentTemplate] = {}
        for fault_name in args.faults:
            fault = FAULTS[fault_name]
            target_arn = args.cluster_arn if fault.target_type == "aws:rds:cluster" else args.function_arn
            self.templates[fault_name] = aws.fis.ExperimentTemplate(
                fault_name,
                description=f"Sale rehearsal: {fault.what}"[:512],
                role_arn=self.role.arn,
                stop_conditions=[{"source": STOP_SOURCE, "value": arn} for arn in args.stop_alarm_arns],
                targets=[{"name": "target", "resource_type": fault.target_type, "selection_mode": "ALL",
                          "resource_arns": [target_arn]}],
                actions=[_action(fault, args)],
                tags={"Name": fault_name},
                opts=child)
        self.register_outputs({})
