"""Log metric filters and saved Logs Insights queries on the API's log group, built from the metric contract.

The API writes one JSON object per line (Powertools logger: `level` INFO/WARN/ERROR; a `request.completed` event
per request with its duration). Field names and event names come from the contract's logFields/logEvents.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from projects.observability.metrics import LOG_METRICS, MetricContract

ERROR_LEVELS = ("ERROR", "CRITICAL")  # Powertools' level values for logger.error() / logger.critical()


@dataclass(frozen=True)
class LogSignal:
    key: str  # errors / slow / soldOut
    title: str
    pattern: str  # metric filter pattern (JSON form)
    query: str  # Logs Insights query


def signals(contract: MetricContract, slow_ms: int) -> list[LogSignal]:
    f, e = contract.log_fields, contract.log_events
    lvl, ev, dur, rid, route, status = (f["level"], f["event"], f["durationMs"], f["requestId"], f["route"],
                                         f["status"])
    return [
        LogSignal("errors", "errors", "{ " + " || ".join(f'$.{lvl} = "{v}"' for v in ERROR_LEVELS) + " }",
                  f"fields @timestamp, {rid}, {ev}, {route}, {status}, @message\n"
                  f"| filter {lvl} in {json.dumps(list(ERROR_LEVELS))}\n| sort @timestamp desc\n| limit 100"),
        LogSignal("slow", f"slow requests (over {slow_ms} ms)",
                  f'{{ ($.{ev} = "{e["request"]}") && ($.{dur} > {slow_ms}) }}',
                  f"fields @timestamp, {rid}, {route}, {status}, {dur}\n"
                  f"| filter {ev} = \"{e['request']}\" and {dur} > {slow_ms}\n| sort {dur} desc\n| limit 100"),
        LogSignal("soldOut", "sold-out reservations", f'{{ $.{ev} = "{e["soldOut"]}" }}',
                  f"fields @timestamp, {rid}, @message\n| filter {ev} = \"{e['soldOut']}\"\n"
                  "| sort @timestamp desc\n| limit 100"),
    ]


@dataclass
class LogInsightsArgs:
    log_group_name: pulumi.Input[str]
    contract: MetricContract
    slow_ms: int
    name: Callable[[str], str]  # kind -> physical name


class LogInsights(pulumi.ComponentResource):
    """One metric filter (namespace `<contract namespace>/Logs`) and one saved query per signal."""

    def __init__(self, name: str, args: LogInsightsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:observability:LogInsights", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.signals = signals(args.contract, args.slow_ms)
        self.filters: dict[str, aws.cloudwatch.LogMetricFilter] = {}
        self.queries: dict[str, aws.cloudwatch.QueryDefinition] = {}
        for sig in self.signals:
            kind = f"log-{sig.key.lower()}"
            self.filters[sig.key] = aws.cloudwatch.LogMetricFilter(
                kind,
                name=args.name(kind),
                log_group_name=args.log_group_name,
                pattern=sig.pattern,
                # default 0 on every other log line: graphs show zero instead of gaps while traffic flows
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=LOG_METRICS[sig.key], namespace=args.contract.log_namespace, value="1",
                    default_value="0", unit="Count"),
                opts=child,
            )
            self.queries[sig.key] = aws.cloudwatch.QueryDefinition(
                f"query-{sig.key.lower()}",
                name=f"{args.name('queries')}/{sig.title}",  # a slash makes a folder in the console
                log_group_names=[args.log_group_name],
                query_string=sig.query,
                opts=child,
            )
        self.register_outputs({})
