"""CloudWatch alarms from specs, plus the composite "catalog degraded" alarm over the customer-facing ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from projects.observability.alarm_specs import AlarmSpec
from projects.observability.metrics import Metric

COMPOSITE_KIND = "degraded"  # -> catalog-degraded-<suffix>


@dataclass
class AlarmsArgs:
    specs: list[AlarmSpec]
    topic_arn: pulumi.Input[str]
    name: Callable[[str], str]  # kind -> physical alarm name


def _threshold(spec: AlarmSpec) -> pulumi.Input[float]:
    if spec.threshold.base is None:
        return spec.threshold.factor
    return pulumi.Output.from_input(spec.threshold.base).apply(spec.threshold.resolve)


def _stat_args(metric: Metric) -> dict[str, Any]:
    # Percentiles go in extended_statistic; a percentile alarm with few samples keeps its state ("ignore"),
    # so one slow request at 3 a.m. does not page anyone.
    if metric.is_percentile:
        return {"extended_statistic": metric.stat, "evaluate_low_sample_count_percentiles": "ignore"}
    return {"statistic": metric.stat}


def alarm_args(spec: AlarmSpec, name: str, topic_arn: pulumi.Input[str]) -> dict[str, Any]:
    """MetricAlarm keyword arguments for one spec (single metric, or metric math with one returned expression)."""
    args: dict[str, Any] = {
        "name": name,
        "alarm_description": spec.description,
        "comparison_operator": spec.comparison,
        "threshold": _threshold(spec),
        "evaluation_periods": spec.evaluation_periods,
        "datapoints_to_alarm": spec.datapoints,
        "treat_missing_data": spec.treat_missing_data,
        "alarm_actions": [topic_arn],
        "ok_actions": [topic_arn],
        "tags": {"Alarm": spec.kind},
    }
    if spec.metric is not None:
        m = spec.metric
        return {**args, "namespace": m.namespace, "metric_name": m.name, "dimensions": dict(m.dimensions),
                "period": m.period, **_stat_args(m)}
    queries = [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=f"m{i}", return_data=False,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=m.namespace, metric_name=m.name, dimensions=dict(m.dimensions), period=m.period,
                stat=m.stat))
        for i, m in enumerate(spec.inputs)
    ]
    queries.append(aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id="e1", expression=spec.expression, label=spec.kind, return_data=True))
    return {**args, "metric_queries": queries}


def composite_rule(names: list[pulumi.Input[str]]) -> pulumi.Output[str]:
    return pulumi.Output.all(*names).apply(lambda ns: " OR ".join(f'ALARM("{n}")' for n in ns))


class Alarms(pulumi.ComponentResource):
    """One MetricAlarm per spec and a CompositeAlarm over the customer-facing ones; `names` lists them all."""

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:observability:Alarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for spec in args.specs:
            self.alarms[spec.kind] = aws.cloudwatch.MetricAlarm(
                spec.kind, opts=child, **alarm_args(spec, args.name(spec.kind), args.topic_arn))
        customer = [self.alarms[s.kind].name for s in args.specs if s.customer_facing]
        self.composite = aws.cloudwatch.CompositeAlarm(
            COMPOSITE_KIND,
            alarm_name=args.name(COMPOSITE_KIND),
            alarm_description="Customers are affected: at least one customer-facing alarm (API SLO latency or "
            "errors, ALB, Lambda, API Gateway, CloudFront) is in ALARM. Open the dashboard, start with the SLO row, "
            "and follow the first child alarm's description.",
            alarm_rule=composite_rule(customer),
            alarm_actions=[args.topic_arn],
            ok_actions=[args.topic_arn],
            tags={"Alarm": COMPOSITE_KIND},
            opts=child,
        )
        self.names: list[pulumi.Output[str]] = [a.name for a in self.alarms.values()] + [self.composite.alarm_name]
        self.register_outputs({"names": self.names})
