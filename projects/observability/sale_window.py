"""Sale windows, observability side: the windows on the dashboard, and an alarm per window that fires when the live
alias has less provisioned concurrency than planned while the sale runs.

CloudWatch has no metric for allocated provisioned concurrency, but Lambda publishes both the executions running
on it and its utilization (executions / allocated), so allocated = ProvisionedConcurrentExecutions /
ProvisionedConcurrencyUtilization (averages over the same minute). Outside the window the expression returns the
planned minimum itself (never below the threshold): the alarm watches the window only, from the doors opening.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pulumi
import pulumi_aws as aws

from projects.observability.widgets import Row, TextWidget
from shared.runtime.sale_windows import SaleWindow, active, iso

PERIOD = 60


def sale_rows(windows: tuple[SaleWindow, ...], now: datetime | None = None) -> tuple[Row, ...]:
    """One dashboard row listing the windows that have not ended (none: the dashboard is unchanged)."""
    shown = active(windows, now)
    if not shown:
        return ()
    lines = "\n".join(
        f"| {iso(w.scale_out_at)} | {iso(w.start)} | {iso(w.end)} | {w.numbers['pcMin']} |" for w in shown)
    table = ("| scale-out (start - lead) | doors open | end (restore) | provisioned concurrency min |\n"
             "|---|---|---|---|\n" + lines)
    return (Row("Sale windows (UTC)", "Declared with `invoke sale plan`; AWS's schedulers scale out and back.",
                (TextWidget(table, height=1 + len(shown) + 1),)),)


def allocated_expression(w: SaleWindow) -> str:
    """Allocated provisioned concurrency during the window; the planned minimum outside it."""
    start, end = int(w.start.timestamp()), int(w.end.timestamp())
    return (f"IF(EPOCH(u) >= {start} AND EPOCH(u) < {end}, IF(u > 0, e / u, 0), {w.numbers['pcMin']})")


@dataclass(frozen=True)
class SaleAlarmsArgs:
    windows: tuple[SaleWindow, ...]
    function_name: pulumi.Input[str]
    alias_name: pulumi.Input[str]
    topic_arn: pulumi.Input[str]
    name: Callable[[str], str]  # kind -> alarm name
    now: datetime | None = None


class SaleAlarms(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: SaleAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:observability:SaleAlarms", resource_name, None, opts)
        query = aws.cloudwatch.MetricAlarmMetricQueryArgs
        metric = aws.cloudwatch.MetricAlarmMetricQueryMetricArgs
        dims = {"FunctionName": args.function_name,
                "Resource": pulumi.Output.concat(args.function_name, ":", args.alias_name)}
        self.alarms: list[aws.cloudwatch.MetricAlarm] = []
        for w in active(args.windows, args.now):
            kind = f"sale-{w.key}-pc-below-plan"
            self.alarms.append(aws.cloudwatch.MetricAlarm(
                kind, name=args.name(kind),
                alarm_description=(f"Sale {iso(w.start)}-{iso(w.end)}: alias provisioned concurrency below the "
                                   f"planned {w.numbers['pcMin']} (scheduled action at {iso(w.scale_out_at)} "
                                   "missing or failed, or the account quota too low): see `invoke sale check`"),
                comparison_operator="LessThanThreshold", threshold=w.numbers["pcMin"],
                evaluation_periods=3, datapoints_to_alarm=2,
                # No traffic means no Lambda datapoints: not a breach (the check before the sale covers that).
                treat_missing_data="notBreaching",
                metric_queries=[
                    query(id="e", return_data=False, metric=metric(
                        namespace="AWS/Lambda", metric_name="ProvisionedConcurrentExecutions", period=PERIOD,
                        stat="Average", dimensions=dims)),
                    query(id="u", return_data=False, metric=metric(
                        namespace="AWS/Lambda", metric_name="ProvisionedConcurrencyUtilization", period=PERIOD,
                        stat="Average", dimensions=dims)),
                    query(id="allocated", return_data=True, label="allocated provisioned concurrency",
                          expression=allocated_expression(w)),
                ],
                alarm_actions=[args.topic_arn], ok_actions=[args.topic_arn],
                opts=pulumi.ResourceOptions(parent=self)))
        self.register_outputs({})


def sale_alarms(resource_name: str, args: SaleAlarmsArgs) -> SaleAlarms | None:
    """The component only when a window has not ended: a stack without a sale plans exactly as before."""
    return SaleAlarms(resource_name, args) if active(args.windows, args.now) else None
