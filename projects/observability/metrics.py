"""What this layer may graph or alarm on, typed: the API's metric contract and the AWS metrics it uses.

The API's contract is read from the API's own file at plan time, so a renamed log key or a new metric flows here.
The AWS table lists, per namespace, each metric this layer uses with the dimension sets AWS documents for it; the
program refuses any metric (or dimension set) outside these two, and the tests check the planned JSON against them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from projects.observability.settings import METRICS_CONTRACT_PATH
from shared.runtime.errors import CatalogError

Dims = frozenset[str]


def dims(*names: str) -> Dims:
    return frozenset(names)


# AWS metrics used here -> allowed dimension sets (AWS docs: ALB "CloudWatch metrics for your Application Load
# Balancer", Lambda "Monitoring concurrency" / "function metrics", Aurora "Monitoring RDS Proxy metrics" and
# "Important CloudWatch metrics for Aurora Serverless v2", API Gateway "dimensions and metrics", CloudFront
# "Types of metrics", DynamoDB "Metrics and dimensions").
_ALB_LB, _ALB_TG = dims("LoadBalancer"), dims("LoadBalancer", "TargetGroup")
_FN, _FN_ALIAS = dims("FunctionName"), dims("FunctionName", "Resource")
_API = (dims("ApiName"), dims("ApiName", "Stage"))
_CF = (dims("DistributionId", "Region"),)
_PROXY_ROLE = dims("ProxyName", "TargetGroup", "TargetRole")


def proxy_writer_pool(proxy_name: Any) -> dict[str, Any]:
    """The writer's pool of the proxy's default target group (RDS Proxy dimension set 4). The pool size
    (MaxConnectionsPercent) applies per target, while `ProxyName` alone sums the writer and every reader behind
    the read-only endpoint. https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy.monitoring.html"""
    return {"ProxyName": proxy_name, "TargetGroup": "default", "TargetRole": "READ_WRITE"}


# AWS WAF: Rule is a rule's metric name or ALL (the whole ACL); Region only for regional ACLs, not CloudFront ones
# (https://docs.aws.amazon.com/waf/latest/developerguide/waf-metrics.html).
_WAF = (dims("WebACL", "Rule"), dims("WebACL", "Rule", "Region"))
AWS_METRICS: dict[str, dict[str, tuple[Dims, ...]]] = {
    "AWS/ApplicationELB": {
        "RequestCount": (_ALB_LB, _ALB_TG),
        "HTTPCode_Target_5XX_Count": (_ALB_LB, _ALB_TG),
        "HTTPCode_ELB_5XX_Count": (_ALB_LB,),
        "TargetResponseTime": (_ALB_LB, _ALB_TG),
        "HealthyHostCount": (_ALB_TG,),  # reported only when the target group's health checks are enabled
        "UnHealthyHostCount": (_ALB_TG,),
    },
    "AWS/Lambda": {
        "Invocations": (_FN, _FN_ALIAS),
        "Errors": (_FN, _FN_ALIAS),
        "Throttles": (_FN, _FN_ALIAS),
        "Duration": (_FN, _FN_ALIAS),
        "ConcurrentExecutions": (_FN, _FN_ALIAS),
        # account level (no dimension): unreserved concurrency in use + reserved + provisioned; view with Maximum
        "ClaimedAccountConcurrency": (dims(),),
        "ProvisionedConcurrentExecutions": (_FN_ALIAS,),
        "ProvisionedConcurrencyInvocations": (_FN_ALIAS,),
        "ProvisionedConcurrencySpilloverInvocations": (_FN_ALIAS,),
        "ProvisionedConcurrencyUtilization": (_FN_ALIAS,),  # a ratio 0-1, view with Maximum
    },
    "AWS/RDS": {
        "CPUUtilization": (dims("DBInstanceIdentifier"), dims("DBClusterIdentifier")),
        # cluster level = the average of its instances; instance level = that instance
        "ServerlessDatabaseCapacity": (dims("DBInstanceIdentifier"), dims("DBClusterIdentifier")),
        # RDS Proxy metrics: dimension set 1 is ProxyName alone (every target summed), set 4 adds TargetGroup and
        # TargetRole (one role's targets, e.g. the writer: READ_WRITE); the useful statistic is Sum
        "DatabaseConnections": (dims("ProxyName"), _PROXY_ROLE, dims("DBInstanceIdentifier"),
                                dims("DBClusterIdentifier")),
        "MaxDatabaseConnectionsAllowed": (dims("ProxyName"), _PROXY_ROLE),
        "DatabaseConnectionsCurrentlyBorrowed": (dims("ProxyName"), _PROXY_ROLE),
        "ClientConnections": (dims("ProxyName"),),
    },
    "AWS/ApiGateway": {name: _API for name in ("Count", "4XXError", "5XXError", "Latency", "IntegrationLatency")},
    "AWS/CloudFront": {name: _CF for name in ("Requests", "BytesDownloaded", "4xxErrorRate", "5xxErrorRate",
                                              "TotalErrorRate")},
    "AWS/WAFV2": {name: _WAF for name in ("AllowedRequests", "BlockedRequests", "CountedRequests",
                                          "PassedRequests")},
    "AWS/DynamoDB": {
        # no table-level series: these two exist only per (TableName, Operation)
        "ThrottledRequests": (dims("TableName", "Operation"),),
        "SystemErrors": (dims("TableName", "Operation"),),
        "SuccessfulRequestLatency": (dims("TableName", "Operation"),),
        "ReadThrottleEvents": (dims("TableName"),),
        "WriteThrottleEvents": (dims("TableName"),),
        "ConsumedReadCapacityUnits": (dims("TableName"),),
        "ConsumedWriteCapacityUnits": (dims("TableName"),),
    },
}
# Metrics made by this layer's log metric filters (no dimensions).
LOG_METRICS = {"errors": "LoggedErrors", "slow": "SlowRequests", "soldOut": "SoldOutReservations"}

_STAT = re.compile(r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d{1,2})?)$")


class UnknownMetricError(CatalogError):
    """A widget or alarm names a metric that neither the API contract nor the AWS table knows."""


@dataclass(frozen=True)
class MetricContract:
    """The API's metrics-contract.json, typed."""

    namespace: str
    service_dimension: str
    route_dimension: str
    metrics: dict[str, tuple[Dims, ...]]
    units: dict[str, str]
    log_fields: dict[str, str]
    log_events: dict[str, str]

    @property
    def log_namespace(self) -> str:
        return f"{self.namespace}/Logs"

    def known(self) -> dict[str, dict[str, tuple[Dims, ...]]]:
        """Every namespace -> metric -> dimension sets this layer may use."""
        return {**AWS_METRICS, self.namespace: self.metrics,
                self.log_namespace: {name: (dims(),) for name in LOG_METRICS.values()}}


REQUIRED_LOG_FIELDS = ("level", "requestId", "route", "status", "durationMs", "event")
REQUIRED_LOG_EVENTS = ("request", "soldOut")
REQUIRED_METRICS = ("RequestCount", "Latency", "ServerErrors")


def load_contract(path: Path = METRICS_CONTRACT_PATH) -> MetricContract:
    """Read and check the API's metric contract; a missing key is named, with the file."""
    where = path.name
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CatalogError(f"the API metric contract {path} is missing", "the product team owns it") from None
    for key in ("namespace", "serviceDimension", "routeDimension", "metrics", "logFields", "logEvents"):
        if key not in data:
            raise CatalogError(f"{where} has no {key!r}", "the observability layer reads it (docs/observability.md)")
    missing = [k for k in REQUIRED_LOG_FIELDS if k not in data["logFields"]]
    missing += [k for k in REQUIRED_LOG_EVENTS if k not in data["logEvents"]]
    missing += [k for k in REQUIRED_METRICS if k not in data["metrics"]]
    if missing:
        raise CatalogError(f"{where} lacks {', '.join(missing)}", "metric filters and the SLO row need them")
    metrics = {name: tuple(dims(*s) for s in spec["dimensionSets"]) for name, spec in data["metrics"].items()}
    units = {name: spec.get("unit", "None") for name, spec in data["metrics"].items()}
    return MetricContract(data["namespace"], data["serviceDimension"], data["routeDimension"], metrics, units,
                          dict(data["logFields"]), dict(data["logEvents"]))


@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric with a statistic; dimension values may be pulumi Inputs (alarms) or plain strings."""

    namespace: str
    name: str
    dimensions: Mapping[str, Any] = field(default_factory=dict)
    stat: str = "Sum"
    label: str | None = None
    period: int = 60

    @property
    def is_percentile(self) -> bool:
        return self.stat.startswith("p")


def check_metric(metric: Metric, contract: MetricContract) -> Metric:
    """Return `metric` when its namespace, name, dimension set and statistic are known; raise otherwise."""
    known = contract.known()
    names = known.get(metric.namespace)
    if names is None:
        raise UnknownMetricError(f"namespace {metric.namespace!r} is not known to the observability layer",
                                 f"known: {', '.join(sorted(known))}")
    if metric.name not in names:
        raise UnknownMetricError(f"metric {metric.namespace}/{metric.name} is not known",
                                 f"known in {metric.namespace}: {', '.join(sorted(names))}")
    if dims(*metric.dimensions) not in names[metric.name]:
        raise UnknownMetricError(
            f"{metric.namespace}/{metric.name} has no dimension set {sorted(metric.dimensions)}",
            f"documented: {[sorted(d) for d in names[metric.name]]}")
    if not _STAT.match(metric.stat):
        raise UnknownMetricError(f"statistic {metric.stat!r} of {metric.name} is not a CloudWatch statistic")
    return metric
