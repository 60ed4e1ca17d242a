"""Sale windows, data side: readers, Aurora Serverless v2 capacity and DynamoDB warm throughput for a flash sale.

- Readers: Application Auto Scaling scheduled actions on the reader-count scalable target (min/max at
  start - lead time, the steady 2..readerMaxCount at the end).
- Writer capacity: Serverless v2 min/max ACU is a cluster setting, not a scalable target, so EventBridge Scheduler
  calls rds:ModifyDBCluster (a universal target) at start - lead time and at the end, with a role that may do only
  that, on this cluster only, and only for schedules of this account (aws:SourceAccount).
- DynamoDB: warm throughput is a table setting, not schedulable; it is set when a window is declared and kept. It
  is billed once per increase and cannot be lowered afterwards (DynamoDB warm throughput docs), so setting it early
  costs the same as setting it on the day and nothing during the wait.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import pulumi
import pulumi_aws as aws

from shared.runtime.sale_windows import SaleWindow, active, at_expression

MODIFY_DB_CLUSTER = "arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster"  # EventBridge Scheduler universal target


def warm_throughput(windows: tuple[SaleWindow, ...], now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Per table, the highest warm throughput any window that has not ended asks for (empty: leave the table)."""
    out: dict[str, dict[str, int]] = {}
    for w in active(windows, now):
        for table, units in w.numbers.get("warmThroughput", {}).items():
            slot = out.setdefault(table, {})
            for kind, value in units.items():
                slot[kind] = max(slot.get(kind, 0), value)
    return out


def warm_args(units: Mapping[str, int]) -> aws.dynamodb.TableWarmThroughputArgs:
    return aws.dynamodb.TableWarmThroughputArgs(read_units_per_second=units.get("reads"),
                                               write_units_per_second=units.get("writes"))


def trust_policy(account_id: str) -> dict[str, object]:
    """EventBridge Scheduler may assume the role, for this account's schedules only (confused deputy)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}}]}


def modify_policy(cluster_arn: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "rds:ModifyDBCluster", "Resource": cluster_arn}]})


def modify_input(cluster_id: str, min_acu: float, max_acu: float) -> str:
    """The ModifyDBCluster request the schedule sends (API parameter names, JSON)."""
    return json.dumps({"DbClusterIdentifier": cluster_id, "ApplyImmediately": True,
                       "ServerlessV2ScalingConfiguration": {"MinCapacity": min_acu, "MaxCapacity": max_acu}})


@dataclass(frozen=True)
class SaleScheduleArgs:
    windows: tuple[SaleWindow, ...]
    reader_target: aws.appautoscaling.Target
    cluster_id: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    account_id: str
    steady_readers: tuple[int, int]
    steady_acu: tuple[float, float]
    name: Callable[[str], str]  # kind -> physical name (generic rule)
    schedule_name: Callable[[str], str]  # kind -> EventBridge Scheduler name (1-64 of [0-9A-Za-z_.-])
    role_name: str
    now: datetime | None = None


class SaleSchedule(pulumi.ComponentResource):
    """Per window that has not ended: 2 reader scheduled actions and 2 ACU schedules; one role for all."""

    def __init__(self, resource_name: str, args: SaleScheduleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:data:SaleSchedule", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role("sale-scheduler-role", name=args.role_name,
                                 assume_role_policy=json.dumps(trust_policy(args.account_id)), opts=child)
        self.role_policy = aws.iam.RolePolicy(
            "sale-scheduler-modify-cluster", role=self.role.id,
            policy=pulumi.Output.from_input(args.cluster_arn).apply(modify_policy), opts=child)
        self.reader_actions: list[aws.appautoscaling.ScheduledAction] = []
        self.schedules: list[aws.scheduler.Schedule] = []
        action = aws.appautoscaling.ScheduledActionScalableTargetActionArgs
        for w in active(args.windows, args.now):
            n = w.numbers
            steps = (("scale-out", w.scale_out_at, (n["readersMin"], n["readersMax"]), (n["minAcu"], n["maxAcu"])),
                     ("restore", w.end, args.steady_readers, args.steady_acu))
            for step, moment, readers, acu in steps:
                kind = f"sale-{w.key}-readers-{step}"
                self.reader_actions.append(aws.appautoscaling.ScheduledAction(
                    kind, name=args.name(kind), service_namespace=args.reader_target.service_namespace,
                    scalable_dimension=args.reader_target.scalable_dimension,
                    resource_id=args.reader_target.resource_id, schedule=at_expression(moment), timezone="UTC",
                    scalable_target_action=action(min_capacity=readers[0], max_capacity=readers[1]),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[args.reader_target])))
                kind = f"sale-{w.key}-acu-{step}"
                self.schedules.append(aws.scheduler.Schedule(
                    kind, name=args.schedule_name(kind),
                    description=f"Aurora Serverless v2 {acu[0]:g}-{acu[1]:g} ACU ({step} of the sale at {w.key})",
                    schedule_expression=at_expression(moment), schedule_expression_timezone="UTC",
                    # OFF: the capacity must be there at the minute planned, not within a window after it.
                    flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
                    # NONE keeps the fired schedule, so Pulumi's state stays true; the next `up` after the window
                    # deletes it (ended windows are dropped) instead of finding it gone.
                    action_after_completion="NONE",
                    target=aws.scheduler.ScheduleTargetArgs(
                        arn=MODIFY_DB_CLUSTER, role_arn=self.role.arn,
                        input=pulumi.Output.from_input(args.cluster_id).apply(
                            lambda cid, a=acu: modify_input(cid, a[0], a[1])),
                        retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                            maximum_retry_attempts=3, maximum_event_age_in_seconds=600)),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy])))
        self.register_outputs({})


def sale_schedule(resource_name: str, args: SaleScheduleArgs) -> SaleSchedule | None:
    """The component only when a window has not ended: a stack without a sale plans exactly as before."""
    return SaleSchedule(resource_name, args) if active(args.windows, args.now) else None
