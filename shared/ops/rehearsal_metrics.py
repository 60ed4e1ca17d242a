"""The AWS side of a rehearsal's report: CloudWatch figures over the run window, each judged against its limit.

What the platform did while the shoppers pushed: the API function's concurrency (against the account's quota) and
throttles (none), Aurora's capacity (ACU, against the cluster's maximum), the RDS Proxy's connections to the writer
(against its pool), and the API's own shed and waiting-room counts (the metrics contract,
containers/catalog-api/src/metrics-contract.json). The names come from the target's stack outputs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

CONTRACT = REPO_ROOT / "containers" / "catalog-api" / "src" / "metrics-contract.json"
PERIOD_S = 60
# The API's counts worth a row: load shed, and the waiting room's when the contract has them.
API_COUNTS = ("RequestsShed", "ReservationsShed")
WAITING_ROOM_PREFIX = "WaitingRoom"
# Not every API metric adds up: the queue length is a gauge (its peak), a wait a distribution (its p90, the worst
# minute's). The rest are counts.
API_STATS = {"WaitingRoomQueued": "Maximum", "WaitingRoomWaitSeconds": "p90"}


@dataclass(frozen=True)
class Target:
    """The target environment's names and limits, from its stacks' outputs."""

    function_name: str
    metrics_service: str
    cluster_id: str
    instance_ids: tuple[str, ...]  # the cluster's instances in Pulumi's state: writer first, then readers
    max_acu: float
    proxy_name: str
    proxy_max_connections: int
    lambda_quota: int  # the account's concurrent executions quota (Service Quotas / Lambda)

    @classmethod
    def from_outputs(cls, app: Mapping[str, Any], data: Mapping[str, Any], lambda_quota: int) -> Target:
        def need(outputs: Mapping[str, Any], layer: str, name: str) -> Any:
            if outputs.get(name) in (None, ""):
                raise CatalogError(f"the {layer} stack has no output {name}",
                                   f"update it: invoke up --layer {layer} --suffix <suffix>")
            return outputs[name]

        instances = data.get("managedInstanceIds") or [need(data, "data", "writerInstanceId")]
        if isinstance(instances, str):
            instances = json.loads(instances)
        return cls(function_name=str(need(app, "app", "functionName")),
                   metrics_service=str(need(app, "app", "metricsService")),
                   cluster_id=str(need(data, "data", "clusterId")), instance_ids=tuple(str(i) for i in instances),
                   max_acu=float(need(data, "data", "maxAcu")),
                   proxy_name=str(need(data, "data", "proxyName")),
                   proxy_max_connections=int(need(data, "data", "proxyMaxConnections")), lambda_quota=lambda_quota)


@dataclass(frozen=True)
class Figure:
    what: str
    stat: str  # Sum over the run; Maximum or a percentile: the highest period
    value: float | None  # None: CloudWatch had no data point
    rule: str  # "= 0", "< 1000", "" (shown, not judged)
    met: bool | None  # None: not judged


def _query(qid: str, namespace: str, metric: str, dimensions: Mapping[str, str], stat: str) -> dict[str, Any]:
    return {"Id": qid, "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": namespace, "MetricName": metric,
                   "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()]},
        "Period": PERIOD_S, "Stat": stat}}


def _api_counts() -> tuple[str, str, list[str]]:
    """(namespace, service dimension, metric names) of the API's shed and waiting-room counts in its contract."""
    contract = json.loads(CONTRACT.read_text())
    names = [m for m in contract["metrics"] if m in API_COUNTS or m.startswith(WAITING_ROOM_PREFIX)]
    return contract["namespace"], contract["serviceDimension"], names


def queries(t: Target) -> list[tuple[dict[str, Any], str, str, str]]:
    """(GetMetricData query, figure label, statistic, rule kind): queries with one label make one figure."""
    namespace, service_dim, counts = _api_counts()
    proxy = {"ProxyName": t.proxy_name, "TargetGroup": "default", "TargetRole": "READ_WRITE"}
    # maxAcu bounds each instance; the cluster-level figure is the instances' average, which would hide a busy writer.
    acu = f"Aurora {t.cluster_id} capacity (ACU), busiest of {len(t.instance_ids)} instance(s)"
    out = [
        (_query("concurrency", "AWS/Lambda", "ConcurrentExecutions", {"FunctionName": t.function_name}, "Maximum"),
         f"Lambda {t.function_name} concurrent executions", "Maximum", "under_quota"),
        (_query("throttles", "AWS/Lambda", "Throttles", {"FunctionName": t.function_name}, "Sum"),
         f"Lambda {t.function_name} throttles", "Sum", "zero"),
        *((_query(f"acu{i}", "AWS/RDS", "ServerlessDatabaseCapacity", {"DBInstanceIdentifier": instance},
                  "Maximum"), acu, "Maximum", "under_acu") for i, instance in enumerate(t.instance_ids)),
        # The pool limit holds per target: the writer's (READ_WRITE) connections, not the sum over targets.
        (_query("proxy", "AWS/RDS", "DatabaseConnections", proxy, "Maximum"),
         f"RDS Proxy {t.proxy_name} connections to the writer", "Maximum", "under_pool"),
    ]
    for i, metric in enumerate(counts):
        stat = API_STATS.get(metric, "Sum")
        out.append((_query(f"api{i}", namespace, metric, {service_dim: t.metrics_service}, stat),
                    f"API {metric}", stat, "shown"))
    return out


def _judge(kind: str, value: float | None, t: Target) -> tuple[str, bool | None]:
    limits = {"under_quota": float(t.lambda_quota), "under_acu": t.max_acu,
              "under_pool": float(t.proxy_max_connections)}
    if kind == "zero":
        return "= 0", None if value is None else value == 0
    if kind in limits:
        return f"< {limits[kind]:g}", None if value is None else value < limits[kind]
    return "", None


def collect(cloudwatch: Any, t: Target, start: datetime, end: datetime) -> list[Figure]:
    """GetMetricData over [start, end] (minutes around the run), one figure per query: the period values' max/sum."""
    plan = queries(t)
    values: dict[str, list[float]] = {}
    kwargs: dict[str, Any] = {"MetricDataQueries": [q for q, *_ in plan],
                              "StartTime": start.astimezone(UTC), "EndTime": end.astimezone(UTC)}
    while True:
        page = cloudwatch.get_metric_data(**kwargs)
        for result in page.get("MetricDataResults", []):
            values.setdefault(result["Id"], []).extend(float(v) for v in result.get("Values", []))
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    figures = []
    for label in dict.fromkeys(label for _q, label, _s, _k in plan):  # in plan order, one figure per label
        group = [(q, stat, kind) for q, lab, stat, kind in plan if lab == label]
        found = [v for q, _stat, _kind in group for v in values.get(q["Id"], [])]
        stat, kind = group[0][1], group[0][2]
        value = (sum(found) if stat == "Sum" else max(found)) if found else None
        rule, met = _judge(kind, value, t)
        figures.append(Figure(label, stat, value, rule, met))
    return figures


def figure_rows(figures: Sequence[Figure]) -> list[str]:
    lines = ["", "AWS (CloudWatch, over the run)"]
    for f in figures:
        if f.value is None:
            lines.append(f"  {'' if not f.rule else 'n/a':<6} {f.what}: no data points in the window")
            continue
        shown = f"{f.value:,.1f}".removesuffix(".0")
        verdict = "" if f.met is None else "met" if f.met else "MISSED"
        rule = f" (must be {f.rule})" if f.rule else ""
        lines.append(f"  {verdict:<6} {f.what}: {f.stat.lower()} {shown}{rule}")
    return lines


def met(figures: Sequence[Figure]) -> bool:
    """Every judged figure met (a figure without data is not a miss: CloudWatch may lag; the row says so)."""
    return all(f.met is not False for f in figures)
