"""Observability layer settings (config namespace `catalog-observability`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from shared.runtime.errors import ConfigError
from shared.runtime.faults import FAULTS
from shared.runtime.layers import REPO_ROOT
from shared.runtime.sale_windows import parse_observability_windows
from shared.runtime.settings import require, setting

NAMESPACE = "catalog-observability"
# The API owns this file; metric filters, alarms and the dashboard read it at plan time so a change there flows here.
METRICS_CONTRACT_PATH = REPO_ROOT / "containers" / "catalog-api" / "src" / "metrics-contract.json"
# Pragmatic address check (RFC 5322 allows more, SNS email endpoints in practice do not need it).
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$"
)
# DynamoDB API operations (the `Operation` dimension of ThrottledRequests / SystemErrors).
DYNAMODB_OPERATIONS = (
    "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
    "TransactGetItems", "TransactWriteItems", "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction",
)
# A metric-math alarm may reference at most 10 metrics (CloudWatch alarm limits, a hard limit).
MAX_ALARM_METRICS = 10
PERIOD_SECONDS = 60
MAX_EVALUATION_SECONDS = 86_400  # evaluation periods x period may not exceed one day


def api_metric_names() -> tuple[str, ...]:
    """Metric names of the API's metric contract (containers/catalog-api/src/metrics-contract.json)."""
    try:
        data = json.loads(METRICS_CONTRACT_PATH.read_text())
    except FileNotFoundError:
        raise ConfigError(f"the API metric contract {METRICS_CONTRACT_PATH.relative_to(REPO_ROOT)} is missing",
                          "the product team owns it; restore it before planning observability") from None
    return tuple(sorted(data.get("metrics", {})))


@dataclass(frozen=True)
class Settings:
    alarm_emails: tuple[str, ...] = setting(
        "alarmEmails", (), "addresses subscribed to the alarm topic (JSON list or comma-separated); each must "
        "confirm the subscription e-mail AWS sends")
    latency_slo_ms: int = setting("latencySloMs", 200, "latency objective (ms): p99 alarms, dashboard annotations, "
                                  "the slow-request metric filter")
    error_rate_percent: float = setting("errorRatePercent", 1.0, "5xx/error rate (%) that raises an alarm "
                                        "(API, ALB, Lambda, API Gateway, CloudFront)")
    client_error_rate_percent: float = setting("clientErrorRatePercent", 10.0, "API Gateway 4XX rate (%) that "
                                               "counts as a surge (throttled keys get 429)")
    proxy_connections_percent: int = setting("proxyConnectionsAlarmPercent", 80, "alarm when RDS Proxy database "
                                             "connections exceed this % of the pool (data export proxyMaxConnections)")
    proxy_client_connections: int = setting("proxyClientConnectionsThreshold", 500, "alarm when client "
                                            "connections to the proxy exceed this (the API opens about 4 per "
                                            "execution environment)")
    concurrency_percent: int = setting("concurrencyAlarmPercent", 80, "alarm when the account's claimed Lambda "
                                       "concurrency reaches this % of accountConcurrencyLimit")
    account_concurrency_limit: int = setting("accountConcurrencyLimit", 1000, "the account's Lambda concurrent "
                                             "executions quota in us-east-1 (AWS default 1,000; raise it before a "
                                             "sale)")
    provisioned_utilization_percent: int = setting("provisionedUtilizationPercent", 90, "alarm when provisioned "
                                                   "concurrency utilization of the live alias exceeds this %")
    writer_cpu_percent: int = setting("writerCpuPercent", 80, "alarm when the Aurora writer's CPU exceeds this %")
    acu_percent: int = setting("acuAlarmPercent", 90, "alarm when Serverless v2 capacity reaches this % of max ACU")
    evaluation_periods: int = setting("alarmEvaluationPeriods", 5, "1-minute periods each alarm looks at")
    datapoints_to_alarm: int = setting("alarmDatapointsToAlarm", 3, "breaching periods (of those) that raise an "
                                       "alarm: 3 of 5 rides out a single noisy minute")
    dynamodb_operations: tuple[str, ...] = setting(
        "dynamodbOperations", ("GetItem", "PutItem", "DeleteItem", "Query", "BatchWriteItem"),
        "DynamoDB operations the API calls: ThrottledRequests and SystemErrors exist only per operation")
    sale_windows: str = setting(
        "saleWindows", "[]", "declared flash sales (JSON list written by `invoke sale plan`): shown on the dashboard, "
        "alarmed when provisioned concurrency is below the planned minimum")
    dashboard_api_metrics: tuple[str, ...] = setting(
        "dashboardApiMetrics", (), "API contract metrics graphed in the dashboard's API row (empty: all of them)")
    waf_blocked_per_minute: int = setting(
        "wafBlockedRequestsPerMinute", 6000, "alarm when a web ACL blocks more requests per minute (default: 1% of "
        "the sale's ~600,000 requests/min, shared/ops/capacity.py)")
    fault_experiments: tuple[str, ...] = setting(
        "faultExperiments", (), "AWS FIS experiment templates for the sale rehearsal (JSON list or comma-separated: "
        f"{', '.join(FAULTS)}); none by default")
    fault_duration_minutes: int = setting("faultDurationMinutes", 5, "how long a Lambda or network fault lasts "
                                          "(minutes)")
    fault_az_index: int = setting("faultAzIndex", 0, "which of the network layer's three AZs az-disrupt cuts off "
                                  "(0-2, in the network layer's azs order)")
    fault_invocation_percentage: int = setting("faultInvocationPercentage", 10, "share of the API function's "
                                               "invocations a Lambda fault hits (%)")
    fault_delay_ms: int = setting("faultDelayMilliseconds", 1000, "start-up delay lambda-latency adds (ms)")

    def validate(self) -> None:
        parse_observability_windows(self.sale_windows, NAMESPACE)
        for email in self.alarm_emails:
            require(EMAIL.fullmatch(email) is not None, NAMESPACE, "alarmEmails",
                    f"{email!r} is not an e-mail address", "addresses like ops@example.com")
        require(len(set(e.lower() for e in self.alarm_emails)) == len(self.alarm_emails), NAMESPACE, "alarmEmails",
                "an address is listed twice", "each address once")
        require(1 <= self.latency_slo_ms <= 60_000, NAMESPACE, "latencySloMs",
                f"{self.latency_slo_ms} is out of range", "1-60000 milliseconds")
        for key, value in (("errorRatePercent", self.error_rate_percent),
                           ("clientErrorRatePercent", self.client_error_rate_percent)):
            require(0 < value < 100, NAMESPACE, key, f"{value} is not a rate", "a percentage above 0 and below 100")
        for key, value in (("proxyConnectionsAlarmPercent", self.proxy_connections_percent),
                           ("concurrencyAlarmPercent", self.concurrency_percent),
                           ("provisionedUtilizationPercent", self.provisioned_utilization_percent),
                           ("writerCpuPercent", self.writer_cpu_percent),
                           ("acuAlarmPercent", self.acu_percent)):
            require(1 <= value <= 100, NAMESPACE, key, f"{value} is not a percentage", "1-100")
        require(self.account_concurrency_limit >= 10, NAMESPACE, "accountConcurrencyLimit",
                f"{self.account_concurrency_limit} is below 10", "the account's quota (default 1000)")
        require(self.proxy_client_connections >= 1, NAMESPACE, "proxyClientConnectionsThreshold",
                f"{self.proxy_client_connections} is below 1", "a positive number of connections")
        require(1 <= self.evaluation_periods <= MAX_EVALUATION_SECONDS // PERIOD_SECONDS, NAMESPACE,
                "alarmEvaluationPeriods", f"{self.evaluation_periods} periods of {PERIOD_SECONDS} s",
                f"1-{MAX_EVALUATION_SECONDS // PERIOD_SECONDS} (CloudWatch evaluates at most one day)")
        require(1 <= self.datapoints_to_alarm <= self.evaluation_periods, NAMESPACE, "alarmDatapointsToAlarm",
                f"{self.datapoints_to_alarm} is not within 1-{self.evaluation_periods} (alarmEvaluationPeriods)",
                "1 up to alarmEvaluationPeriods")
        require(1 <= len(self.dynamodb_operations) <= MAX_ALARM_METRICS, NAMESPACE, "dynamodbOperations",
                f"{len(self.dynamodb_operations)} operations", f"1-{MAX_ALARM_METRICS} (metrics per math alarm)")
        for op in self.dynamodb_operations:
            require(op in DYNAMODB_OPERATIONS, NAMESPACE, "dynamodbOperations", f"unknown operation {op!r}",
                    ", ".join(DYNAMODB_OPERATIONS))
        if self.dashboard_api_metrics:
            known = api_metric_names()
            for metric in self.dashboard_api_metrics:
                require(metric in known, NAMESPACE, "dashboardApiMetrics",
                        f"unknown metric {metric!r} (not in the API's metrics-contract.json)", ", ".join(known))
        require(self.waf_blocked_per_minute >= 1, NAMESPACE, "wafBlockedRequestsPerMinute",
                f"{self.waf_blocked_per_minute} is below 1", "a positive number of requests per minute")
        for fault in self.fault_experiments:
            require(fault in FAULTS, NAMESPACE, "faultExperiments", f"unknown fault {fault!r}", ", ".join(FAULTS))
        require(len(set(self.fault_experiments)) == len(self.fault_experiments), NAMESPACE, "faultExperiments",
                "a fault is listed twice", "each fault once")
        require(1 <= self.fault_duration_minutes <= 60, NAMESPACE, "faultDurationMinutes",
                f"{self.fault_duration_minutes} is out of range", "1-60 minutes")
        require(0 <= self.fault_az_index <= 2, NAMESPACE, "faultAzIndex", f"{self.fault_az_index} is not an AZ index",
                "0, 1 or 2 (the network layer's azs order)")
        require(1 <= self.fault_invocation_percentage <= 100, NAMESPACE, "faultInvocationPercentage",
                f"{self.fault_invocation_percentage} is not a percentage", "1-100")
        require(1 <= self.fault_delay_ms <= 60_000, NAMESPACE, "faultDelayMilliseconds",
                f"{self.fault_delay_ms} is out of range", "1-60000 milliseconds")
