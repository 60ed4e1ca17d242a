"""The flash-sale dashboard: SLO row first, then API, Lambda, ALB, API Gateway, CloudFront, Aurora/proxy, DynamoDB,
then AWS WAF (the CloudFront and API Gateway web ACLs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from projects.observability.logs import signals
from projects.observability.metrics import LOG_METRICS, Metric, MetricContract, proxy_writer_pool
from projects.observability.settings import Settings
from projects.observability.waiting_room import in_contract, waiting_room_row
from projects.observability.widgets import (
    Annotation,
    Expression,
    Line,
    LogWidget,
    MetricWidget,
    Row,
    Search,
    layout,
)
from shared.runtime import REGION

LAMBDA_NOTE = ("The API runs on Lambda: there are **no EC2 tasks**. The mission's \"task count\" is the function's "
               "concurrency: provisioned concurrency (auto scaled between its min and max) plus on-demand spill-over.")


@dataclass(frozen=True)
class WafPanel:
    """One web ACL on the dashboard: its metric name, its rules' metric names, Region (None: CLOUDFRONT scope)."""

    title: str
    metric_name: str
    rule_metric_names: tuple[str, ...]
    region: str | None


@dataclass(frozen=True)
class DashboardInputs:
    """Upstream exports, resolved (plain values)."""

    function_name: str
    alias_name: str
    pc_min: float
    pc_max: float
    metrics_service: str
    log_group_name: str
    alb_arn_suffix: str
    target_groups: Mapping[str, str]
    api_name: str
    api_stage: str
    distribution_id: str
    viewer_request_function: str
    origin_response_function: str
    cluster_id: str
    writer_instance_id: str
    max_acu: float
    proxy_name: str
    proxy_max_connections: float
    tables: Mapping[str, str]
    wafs: tuple[WafPanel, ...] = ()
    waiting_room_function: str = ""  # the controller ("": no waiting room row)


def dashboard_url(name: str) -> str:
    return f"https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}#dashboards/dashboard/{name}"


RESERVATION_OUTCOMES = ("ReservationsSucceeded", "ReservationsSoldOut", "ReservationsShed", "ReservationsCancelled",
                        "ReservationsConfirmed", "ReservationsConflicted", "ReservationsExpired")


def _lines(ns: str, names: tuple[str, ...], dims: Mapping[str, Any], stat: str = "Sum") -> tuple[Line, ...]:
    return tuple(Line(Metric(ns, n, dims, stat, label=n)) for n in names)


def _slo_and_api(i: DashboardInputs, s: Settings, c: MetricContract) -> list[Row]:
    ns, svc = c.namespace, {c.service_dimension: i.metrics_service}
    slo = Annotation(s.latency_slo_ms, f"SLO {s.latency_slo_ms} ms")
    latency = tuple(Line(Metric(ns, "Latency", svc, p, label=p)) for p in ("p50", "p95", "p99"))
    error_rate = (Line(Metric(ns, "ServerErrors", svc), id="m1", visible=False),
                  Line(Metric(ns, "RequestCount", svc), id="m2", visible=False),
                  Expression("100 * FILL(m1, 0) / m2", "5xx %", "e1"))
    wanted = s.dashboard_api_metrics or tuple(n for n in c.metrics if n != "Latency")
    counters = tuple(Line(Metric(ns, n, svc, "Sum" if c.units.get(n) == "Count" else "Average", label=n))
                     for n in wanted)
    api: list[Any] = [
        MetricWidget("p99 latency by route (ms)", (Search(Metric(ns, "Latency", svc, "p99"),
                                                          (c.service_dimension, c.route_dimension), "s1"),),
                     annotations=(slo,)),
        MetricWidget("API metrics (per minute)", counters),
        MetricWidget("Log signals (per minute)", _lines(c.log_namespace, tuple(LOG_METRICS.values()), {})),
    ]
    outcomes = tuple(n for n in RESERVATION_OUTCOMES if n in c.metrics and n in wanted)
    if outcomes:  # the flash sale's own story: sold, sold out, shed, then cancelled / confirmed / expired
        api.insert(1, MetricWidget("Reservation outcomes (per minute)", _lines(ns, outcomes, svc)))
    if {"CacheHits", "CacheMisses"} <= set(c.metrics):
        api.append(MetricWidget("Cache hit ratio (%)", (
            Line(Metric(ns, "CacheHits", svc), id="h", visible=False),
            Line(Metric(ns, "CacheMisses", svc), id="m", visible=False),
            Expression("100 * h / (h + m)", "hit %", "e1"))))
    errors = next(sig for sig in signals(c, s.latency_slo_ms) if sig.key == "errors")
    api.append(LogWidget("Recent errors (Logs Insights)", i.log_group_name, errors.query.replace("\n", " ")))
    return [
        Row("SLO", f"Latency objective: p99 under {s.latency_slo_ms} ms; 5xx under {s.error_rate_percent}%.", (
            MetricWidget("API latency (ms): p50 / p95 / p99", latency, width=12, annotations=(slo,), y_label="ms"),
            MetricWidget("Requests per minute", _lines(ns, ("RequestCount",), svc), width=6),
            MetricWidget("Error rate (%)", error_rate, width=6,
                         annotations=(Annotation(s.error_rate_percent, "alarm"),)),
        )),
        Row("API (custom metrics and log signals)", "", tuple(api)),
    ]


def _lambda_alb_api(i: DashboardInputs, s: Settings) -> list[Row]:
    fn = {"FunctionName": i.function_name, "Resource": f"{i.function_name}:{i.alias_name}"}
    slo = Annotation(s.latency_slo_ms, f"SLO {s.latency_slo_ms} ms")
    alb = {"LoadBalancer": i.alb_arn_suffix}
    api = {"ApiName": i.api_name, "Stage": i.api_stage}
    health: list[Line] = []
    for key, tg in i.target_groups.items():
        d = {**alb, "TargetGroup": tg}
        health += [Line(Metric("AWS/ApplicationELB", "HealthyHostCount", d, "Minimum", label=f"{key} healthy")),
                   Line(Metric("AWS/ApplicationELB", "UnHealthyHostCount", d, "Maximum", label=f"{key} unhealthy"))]
    return [
        Row("Lambda (the API function, alias " + i.alias_name + ")", LAMBDA_NOTE, (
            MetricWidget("Invocations, errors, throttles", _lines("AWS/Lambda", ("Invocations", "Errors", "Throttles"),
                                                                  fn)),
            MetricWidget("Duration (ms)", tuple(Line(Metric("AWS/Lambda", "Duration", fn, p, label=p))
                                                for p in ("p50", "p99")), annotations=(slo,)),
            MetricWidget("Concurrency (the task count)", (
                Line(Metric("AWS/Lambda", "ConcurrentExecutions", {"FunctionName": i.function_name}, "Maximum",
                            label="concurrent executions")),
                Line(Metric("AWS/Lambda", "ProvisionedConcurrentExecutions", fn, "Maximum",
                            label="on provisioned concurrency"))),
                annotations=(Annotation(i.pc_max, "auto scaling max"), Annotation(i.pc_min, "min", "#2ca02c"))),
            MetricWidget("Provisioned concurrency utilization (0-1)", (
                Line(Metric("AWS/Lambda", "ProvisionedConcurrencyUtilization", fn, "Maximum", label="utilization")),),
                width=12, annotations=(Annotation(s.provisioned_utilization_percent / 100, "alarm"),)),
            MetricWidget("Provisioned vs spill-over invocations", _lines(
                "AWS/Lambda", ("ProvisionedConcurrencyInvocations", "ProvisionedConcurrencySpilloverInvocations"),
                fn), width=12),
        )),
        Row("Application Load Balancer", "", (
            MetricWidget("Requests and 5xx", _lines("AWS/ApplicationELB", (
                "RequestCount", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"), alb)),
            MetricWidget("Target response time (s)", tuple(
                Line(Metric("AWS/ApplicationELB", "TargetResponseTime", alb, p, label=p)) for p in ("p50", "p99")),
                annotations=(Annotation(s.latency_slo_ms / 1000, "SLO"),)),
            MetricWidget("Target health", tuple(health)),
        )),
        Row("API Gateway (usage plans, API keys)", "", (
            MetricWidget("Requests, 4XX, 5XX", _lines("AWS/ApiGateway", ("Count", "4XXError", "5XXError"), api),
                         width=12),
            MetricWidget("Latency (ms)", (Line(Metric("AWS/ApiGateway", "Latency", api, "p50", label="p50")),
                                          Line(Metric("AWS/ApiGateway", "Latency", api, "p99", label="p99")),
                                          Line(Metric("AWS/ApiGateway", "IntegrationLatency", api, "p99",
                                                      label="integration p99"))),
                         width=12, annotations=(slo,)),
        )),
    ]


def _edge_and_data(i: DashboardInputs, s: Settings) -> list[Row]:
    cf = {"DistributionId": i.distribution_id, "Region": "Global"}
    edge_note = (f"CloudFront metrics live in {REGION} (Region=Global). Lambda@Edge `{i.viewer_request_function}` "
                 f"and `{i.origin_response_function}` log and report metrics in the Region nearest each viewer: "
                 "see CloudFront console > Monitoring > Lambda@Edge.")
    proxy = {"ProxyName": i.proxy_name}
    writer = {"DBInstanceIdentifier": i.writer_instance_id}
    pool_alarm = round(i.proxy_max_connections * s.proxy_connections_percent / 100, 2)
    rows = [
        Row("CloudFront", edge_note, (
            MetricWidget("Requests", _lines("AWS/CloudFront", ("Requests",), cf)),
            MetricWidget("Error rates (%)", _lines("AWS/CloudFront", ("4xxErrorRate", "5xxErrorRate",
                                                                      "TotalErrorRate"), cf, "Average"),
                         annotations=(Annotation(s.error_rate_percent, "5xx alarm"),)),
            MetricWidget("Bytes downloaded", _lines("AWS/CloudFront", ("BytesDownloaded",), cf)),
        )),
        Row("Aurora and RDS Proxy", "", (
            MetricWidget("Writer CPU (%)", (Line(Metric("AWS/RDS", "CPUUtilization", writer, "Average", "writer")),),
                         width=6, annotations=(Annotation(s.writer_cpu_percent, "alarm"),)),
            MetricWidget("Serverless capacity (ACU)", (
                Line(Metric("AWS/RDS", "ServerlessDatabaseCapacity", writer, "Maximum", "writer")),
                Line(Metric("AWS/RDS", "ServerlessDatabaseCapacity", {"DBClusterIdentifier": i.cluster_id},
                            "Average", "cluster average"))),
                width=6, annotations=(Annotation(i.max_acu, "max ACU"),)),
            MetricWidget("Proxy database connections (writer)", _lines("AWS/RDS", (
                "DatabaseConnections", "DatabaseConnectionsCurrentlyBorrowed", "MaxDatabaseConnectionsAllowed"),
                proxy_writer_pool(i.proxy_name)), width=6, annotations=(Annotation(i.proxy_max_connections, "pool"),
                                              Annotation(pool_alarm, "alarm", "#ff7f0e"))),
            MetricWidget("Proxy client connections", _lines("AWS/RDS", ("ClientConnections",), proxy), width=6,
                         annotations=(Annotation(s.proxy_client_connections, "alarm"),)),
        )),
    ]
    ddb: list[MetricWidget] = []
    for key, table in i.tables.items():
        t = {"TableName": table}
        ddb += [
            MetricWidget(f"{key}: consumed capacity", _lines("AWS/DynamoDB", (
                "ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"), t)),
            MetricWidget(f"{key}: throttle events", _lines("AWS/DynamoDB", ("ReadThrottleEvents",
                                                                            "WriteThrottleEvents"), t)),
            MetricWidget(f"{key}: system errors by operation", (Search(
                Metric("AWS/DynamoDB", "SystemErrors", t, "Sum"), ("TableName", "Operation"), "s1"),)),
        ]
    rows.append(Row("DynamoDB (on-demand)", "", tuple(ddb)))
    return rows


WAF_ACTIONS = ("AllowedRequests", "BlockedRequests", "CountedRequests")


def _waf(i: DashboardInputs, s: Settings) -> list[Row]:
    """Per ACL: totals by action (Rule=ALL), then blocked and counted requests per rule (the rate rules count and
    label; the throttle-* rules block)."""
    widgets: list[MetricWidget] = []
    for w in i.wafs:
        base: dict[str, Any] = {"WebACL": w.metric_name} | ({"Region": w.region} if w.region else {})
        widgets.append(MetricWidget(f"{w.title}: requests by action", _lines("AWS/WAFV2", WAF_ACTIONS,
                                                                              {**base, "Rule": "ALL"}),
                                    annotations=(Annotation(s.waf_blocked_per_minute, "blocked alarm"),)))
        for action in ("BlockedRequests", "CountedRequests"):
            lines = tuple(Line(Metric("AWS/WAFV2", action, {**base, "Rule": rule}, label=rule.removeprefix(
                f"{w.metric_name}-"))) for rule in w.rule_metric_names)
            if lines:
                widgets.append(MetricWidget(f"{w.title}: {action} by rule", lines))
    if not widgets:
        return []
    note = ("AWS/WAFV2, per minute. CloudFront-scope ACL metrics are in us-east-1 without a Region dimension; the "
            "API Gateway ACL's carry Region. Rate rules count (and label) the requests over the limit; "
            "throttle-api / throttle-site block them with 429.")
    return [Row("AWS WAF (front door)", note, tuple(widgets))]


def build_body(i: DashboardInputs, s: Settings, c: MetricContract, extra_rows: tuple[Row, ...] = ()) -> dict[str, Any]:
    """The dashboard body (a dict; json.dumps it), every metric checked against the contract and AWS table.

    `extra_rows` (the declared sale windows) come first: what the on-call should know before the graphs."""
    room = ([waiting_room_row(c, i.metrics_service, i.waiting_room_function)]
            if i.waiting_room_function and in_contract(c) else [])
    return layout([*extra_rows, *_slo_and_api(i, s, c), *room, *_lambda_alb_api(i, s), *_edge_and_data(i, s),
                   *_waf(i, s)], c)


@dataclass
class DashboardArgs:
    dashboard_name: str
    inputs: pulumi.Output[DashboardInputs]
    settings: Settings
    contract: MetricContract
    extra_rows: tuple[Row, ...] = ()


class Dashboard(pulumi.ComponentResource):
    def __init__(self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:observability:Dashboard", name, None, opts)
        body = args.inputs.apply(lambda i: build_body(i, args.settings, args.contract, args.extra_rows))
        self.dashboard = aws.cloudwatch.Dashboard(
            "dashboard", dashboard_name=args.dashboard_name, dashboard_body=pulumi.Output.json_dumps(body),
            opts=pulumi.ResourceOptions(parent=self))
        self.url = dashboard_url(args.dashboard_name)
        self.register_outputs({"url": self.url})
