"""Which alarms exist and why: pure data, built from the upstream layers' exports and the settings.

Each spec says what the alarm watches (one metric, or metric math over up to 10), its threshold (a constant, or a
factor of an upstream value such as the proxy's pool size), how missing data counts, and a description telling the
on-call engineer what it means and what to do. `alarms.py` turns specs into CloudWatch resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from projects.observability.metrics import Metric, MetricContract, check_metric, proxy_writer_pool
from projects.observability.settings import Settings
from projects.observability.waiting_room import NOT_DRAINING, STUCK_MINUTES, in_contract, not_draining_inputs

GT, GTE, LT = "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold"
# treat_missing_data, chosen per alarm: no traffic is not an error (notBreaching); a gap in a metric AWS always
# reports is not evidence of a problem either, so the alarm waits for data (missing).
NOT_BREACHING, BREACHING, MISSING = "notBreaching", "breaching", "missing"


@dataclass(frozen=True)
class Targets:
    """Upstream values the alarms need (pulumi Inputs in the program, plain values in unit tests)."""

    function_name: Any
    function_resource: Any  # "<function>:<alias>": the Resource dimension of alias-level Lambda metrics
    metrics_service: Any
    alb_arn_suffix: Any
    target_groups: Mapping[str, Any]  # live/canary -> target group ARN suffix
    api_name: Any
    api_stage: Any
    distribution_id: Any
    cluster_id: Any
    writer_instance_id: Any
    max_acu: Any
    proxy_name: Any
    proxy_max_connections: Any
    tables: Mapping[str, Any]  # sessions/cache -> table name
    waiting_room_function: Any = None  # the controller function (None: no waiting room alarms)
    waiting_room_start: Any = 0  # epoch seconds of waitingRoomStartsAt (0: none)


@dataclass(frozen=True)
class Threshold:
    """`factor`, or `factor` x an upstream value (`base`), resolved when the alarm is declared."""

    factor: float
    base: Any = None

    def resolve(self, base_value: Any = None) -> float:
        return round(self.factor * float(base_value), 2) if self.base is not None else self.factor


@dataclass(frozen=True)
class AlarmSpec:
    kind: str
    description: str
    threshold: Threshold
    comparison: str
    treat_missing_data: str
    evaluation_periods: int
    datapoints: int
    metric: Metric | None = None
    expression: str | None = None  # metric math over `inputs` (ids m0, m1, ...)
    inputs: tuple[Metric, ...] = ()
    customer_facing: bool = False

    def metrics(self) -> tuple[Metric, ...]:
        return (self.metric,) if self.metric else self.inputs


@dataclass
class _Builder:
    settings: Settings
    contract: MetricContract
    specs: list[AlarmSpec] = field(default_factory=list)

    def add(self, kind: str, description: str, threshold: Threshold | float, comparison: str, missing: str, *,
            metric: Metric | None = None, expression: str | None = None, inputs: tuple[Metric, ...] = (),
            customer: bool = False, periods: int | None = None, datapoints: int | None = None) -> None:
        for m in (metric,) if metric else inputs:
            check_metric(m, self.contract)
        periods = periods or self.settings.evaluation_periods
        self.specs.append(AlarmSpec(
            kind, description, threshold if isinstance(threshold, Threshold) else Threshold(threshold),
            comparison, missing, periods, min(datapoints or self.settings.datapoints_to_alarm, periods),
            metric, expression, inputs, customer))


def _sum_of(metrics: tuple[Metric, ...]) -> str:
    """Sum that survives series without data (FILL) — a quiet operation must not blank the total."""
    return " + ".join(f"FILL(m{i}, 0)" for i in range(len(metrics)))


def build_specs(t: Targets, s: Settings, contract: MetricContract) -> list[AlarmSpec]:
    b = _Builder(s, contract)
    slo_s, rate = s.latency_slo_ms / 1000, s.error_rate_percent
    alb = {"LoadBalancer": t.alb_arn_suffix}
    fn_alias = {"FunctionName": t.function_name, "Resource": t.function_resource}
    api = {"ApiName": t.api_name, "Stage": t.api_stage}
    svc = {contract.service_dimension: t.metrics_service}

    # --- the API's own metrics (the SLO) ---
    b.add("api-latency-p99", f"p99 latency of the API (custom metric {contract.namespace}/Latency) is above the "
          f"{s.latency_slo_ms} ms SLO. Open the dashboard's SLO row, then the Logs Insights query 'slow requests' "
          "for the slow routes; check Aurora/proxy and DynamoDB rows for a slow dependency.",
          s.latency_slo_ms, GT, NOT_BREACHING, customer=True,
          metric=Metric(contract.namespace, "Latency", svc, "p99"))
    b.add("api-error-rate", f"More than {rate}% of API responses are 5xx (custom metrics ServerErrors/RequestCount). "
          "Run the Logs Insights query 'errors'; roll the live alias back if a deploy started it.",
          rate, GT, NOT_BREACHING, customer=True, expression="100 * FILL(m0, 0) / m1",
          inputs=(Metric(contract.namespace, "ServerErrors", svc), Metric(contract.namespace, "RequestCount", svc)))

    # --- ALB: target health per target group, 5xx rate, p99 ---
    for key, tg in t.target_groups.items():
        tg_dims = {**alb, "TargetGroup": tg}
        b.add(f"alb-{key}-unhealthy", f"The ALB reports unhealthy targets in the {key} target group: its health "
              "check of the API function fails. Check the function's errors and logs and the last deploy; roll "
              "the alias back if needed.", 0, GT, NOT_BREACHING,
              metric=Metric("AWS/ApplicationELB", "UnHealthyHostCount", tg_dims, "Maximum"))
        # AWS documents HealthyHostCount as "reported if health checks are enabled" (they are, projects/app/alb.py)
        # and ELB metrics as reported only while requests flow: a quiet period is a gap, not an outage. Breaching
        # would hold this alarm, and the composite "degraded" over it, in ALARM with no traffic; missing waits.
        # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
        b.add(f"alb-{key}-no-healthy", f"The {key} target group has no healthy target (HealthyHostCount < 1), so "
              "the ALB cannot serve it (it fails open to unhealthy targets). Check the target registration and the "
              "function; with no traffic the metric is absent and the alarm shows INSUFFICIENT_DATA.",
              1, LT, MISSING, customer=key == "live",
              metric=Metric("AWS/ApplicationELB", "HealthyHostCount", tg_dims, "Minimum"))
    b.add("alb-5xx-rate", f"More than {rate}% of ALB requests end in 5xx (target and load-balancer generated, e.g. "
          "502 when the function fails). Check the Lambda row and the function's logs.", rate, GT, NOT_BREACHING,
          customer=True, expression="100 * (FILL(m0, 0) + FILL(m1, 0)) / m2", inputs=(
              Metric("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", alb),
              Metric("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", alb),
              Metric("AWS/ApplicationELB", "RequestCount", alb)))
    b.add("alb-latency-p99", f"p99 ALB target response time is above {slo_s} s (the {s.latency_slo_ms} ms SLO). "
          "Check Lambda duration and provisioned concurrency spill-over (cold starts), then the database rows.",
          slo_s, GT, NOT_BREACHING, customer=True,
          metric=Metric("AWS/ApplicationELB", "TargetResponseTime", alb, "p99"))

    # --- Lambda (the API): there are no EC2 tasks; concurrency is the task count ---
    b.add("lambda-error-rate", f"More than {rate}% of invocations of the live alias fail (Errors/Invocations). "
          "Run the 'errors' query; roll the alias back if a deploy started it.", rate, GT, NOT_BREACHING,
          customer=True, expression="100 * FILL(m0, 0) / m1", inputs=(
              Metric("AWS/Lambda", "Errors", fn_alias), Metric("AWS/Lambda", "Invocations", fn_alias)))
    b.add("lambda-throttles", "Invocations of the live alias are throttled (Throttles > 0): requests get 429/502. "
          "Raise reserved/provisioned concurrency or the account limit.", 0, GT, NOT_BREACHING, customer=True,
          metric=Metric("AWS/Lambda", "Throttles", fn_alias))
    # The function has no reserved concurrency: past provisioned concurrency it runs on the account's on-demand
    # pool, which is the only limit that throttles it. Claimed account concurrency measures that pool's use.
    b.add("lambda-concurrency", f"The account's claimed Lambda concurrency reached {s.concurrency_percent}% of its "
          f"quota ({s.account_concurrency_limit}): on-demand invocations of the API will be throttled next. Check "
          "which function holds it, raise the quota (Service Quotas: Lambda concurrent executions) before a sale.",
          Threshold(s.concurrency_percent / 100 * s.account_concurrency_limit), GTE, NOT_BREACHING,
          metric=Metric("AWS/Lambda", "ClaimedAccountConcurrency", {}, "Maximum"))
    b.add("lambda-pc-spillover", "Requests spilled over provisioned concurrency to on-demand environments (cold "
          "starts, latency). Auto scaling lags the burst or sits at its maximum: raise the minimum before a sale.",
          0, GT, NOT_BREACHING, metric=Metric("AWS/Lambda", "ProvisionedConcurrencySpilloverInvocations", fn_alias))
    b.add("lambda-pc-utilization", f"Provisioned concurrency of the live alias is over "
          f"{s.provisioned_utilization_percent}% used. Auto scaling should add environments; if it stays high, raise "
          "the auto scaling maximum (catalog-app config).", s.provisioned_utilization_percent / 100, GT, NOT_BREACHING,
          metric=Metric("AWS/Lambda", "ProvisionedConcurrencyUtilization", fn_alias, "Maximum"))

    # --- RDS Proxy and Aurora ---
    proxy = {"ProxyName": t.proxy_name}
    b.add("proxy-db-connections", f"RDS Proxy holds over {s.proxy_connections_percent}% of its database "
          "connection pool to the writer: new queries will wait for a connection. Look for long transactions and "
          "pinned sessions; raise the pool (data layer) only if Aurora has headroom.",
          Threshold(s.proxy_connections_percent / 100, t.proxy_max_connections), GT, NOT_BREACHING,
          metric=Metric("AWS/RDS", "DatabaseConnections", proxy_writer_pool(t.proxy_name), "Sum"))
    b.add("proxy-client-connections", f"Over {s.proxy_client_connections} client connections to RDS Proxy: more "
          "API environments than expected, or connections leaking. Compare with Lambda concurrency.",
          s.proxy_client_connections, GT, NOT_BREACHING,
          metric=Metric("AWS/RDS", "ClientConnections", proxy, "Sum"))
    b.add("aurora-writer-cpu", f"Aurora writer CPU is above {s.writer_cpu_percent}%. Check slow queries "
          "(Performance Insights) and whether reads go to the reader endpoint.", s.writer_cpu_percent, GT, MISSING,
          metric=Metric("AWS/RDS", "CPUUtilization", {"DBInstanceIdentifier": t.writer_instance_id}, "Average"))
    b.add("aurora-writer-acu", f"The Aurora writer is at {s.acu_percent}% of the cluster's maximum ACU: it cannot "
          "scale further. Raise maxAcu (data layer) or shed load.", Threshold(s.acu_percent / 100, t.max_acu), GTE,
          MISSING, metric=Metric("AWS/RDS", "ServerlessDatabaseCapacity",
                                 {"DBInstanceIdentifier": t.writer_instance_id}, "Maximum"))
    b.add("aurora-cluster-acu", f"The Aurora cluster's average capacity is at {s.acu_percent}% of maximum ACU: "
          "readers are saturated too. Raise maxAcu or the reader count.", Threshold(s.acu_percent / 100, t.max_acu),
          GTE, MISSING, metric=Metric("AWS/RDS", "ServerlessDatabaseCapacity",
                                      {"DBClusterIdentifier": t.cluster_id}, "Average"))

    # --- API Gateway (Average of 4XXError/5XXError is the error rate) ---
    b.add("apigw-5xx-rate", f"More than {rate}% of API Gateway requests end in 5XX. Check the Lambda row and the "
          "integration.", rate / 100, GT, NOT_BREACHING, customer=True,
          metric=Metric("AWS/ApiGateway", "5XXError", api, "Average"))
    b.add("apigw-latency-p99", f"p99 API Gateway latency is above {s.latency_slo_ms} ms. Compare with "
          "IntegrationLatency: if close, the function is slow; if not, API Gateway itself.", s.latency_slo_ms, GT,
          NOT_BREACHING, customer=True, metric=Metric("AWS/ApiGateway", "Latency", api, "p99"))
    b.add("apigw-4xx-surge", f"More than {s.client_error_rate_percent}% of API Gateway requests end in 4XX: usage "
          "plan throttling (429) or missing API keys. Check the usage plan and which keys are rejected.",
          s.client_error_rate_percent / 100, GT, NOT_BREACHING,
          metric=Metric("AWS/ApiGateway", "4XXError", api, "Average"))

    # --- CloudFront (metrics live in us-east-1, Region=Global) ---
    b.add("cloudfront-5xx-rate", f"More than {rate}% of CloudFront viewer requests get 5xx: the ALB origin or "
          "Lambda@Edge fails. Check the ALB row, then Lambda@Edge logs in the Regions near viewers.", rate, GT,
          NOT_BREACHING, customer=True, metric=Metric(
              "AWS/CloudFront", "5xxErrorRate", {"DistributionId": t.distribution_id, "Region": "Global"},
              "Average"))

    # --- DynamoDB: ThrottledRequests and SystemErrors exist only per operation: sum the API's operations ---
    for key, table in t.tables.items():
        for metric, kind, what in (
                ("ThrottledRequests", "throttles", "requests are throttled (an on-demand table throttles on a "
                 "hot partition key or at its table/account throughput quota). Check the throttle reasons in the "
                 "API logs and the table's ReadThrottleEvents/WriteThrottleEvents; raise the quota if the table "
                 "is at it"),
                ("SystemErrors", "system-errors", "requests fail inside DynamoDB (HTTP 500). The SDK retries; "
                 "check the AWS Health Dashboard and open a support case if it persists")):
            ops = tuple(Metric("AWS/DynamoDB", metric, {"TableName": table, "Operation": op})
                        for op in s.dynamodb_operations)
            b.add(f"ddb-{key}-{kind}", f"DynamoDB {key} table: {what}.", 0, GT, NOT_BREACHING,
                  expression=_sum_of(ops), inputs=ops)

    # --- the waiting room (projects/observability/waiting_room.py says why these two) ---
    if t.waiting_room_function is not None and in_contract(contract):
        # Customer-facing: shoppers in the queue of a SKU on sale are stuck and nobody can buy it.
        b.add("waiting-room-not-draining", f"For {STUCK_MINUTES} minutes shoppers have waited in the waiting room "
              "(WaitingRoomQueued > 0) and nobody was admitted (WaitingRoomAdmitted = 0), after the room's start. "
              "Check the controller function (its errors alarm, its log group), that its schedule is ENABLED, and "
              "whether every pass is held (waitingRoomMaxActive reached by shoppers who do not buy).",
              Threshold(1.0, t.waiting_room_start), GT, NOT_BREACHING, customer=True, expression=NOT_DRAINING,
              inputs=not_draining_inputs(contract, t.metrics_service), periods=STUCK_MINUTES,
              datapoints=STUCK_MINUTES)
        b.add("waiting-room-controller-errors", "The waiting room controller failed (every step of a run failed: "
              "DynamoDB throttling or an error in its log group). While it fails nobody is admitted.", 0, GT,
              NOT_BREACHING, metric=Metric("AWS/Lambda", "Errors", {"FunctionName": t.waiting_room_function}))
    return b.specs


# --- AWS WAF: kept apart from build_specs so the two lists merge independently -----------------------

@dataclass(frozen=True)
class WafTarget:
    """One web ACL to watch: `key` names the alarm, `region` is None for a CLOUDFRONT-scope ACL."""

    key: str
    metric_name: Any  # the ACL's VisibilityConfig metric name (AWS/WAFV2 WebACL dimension)
    region: str | None


def build_waf_specs(targets: tuple[WafTarget, ...], s: Settings, contract: MetricContract) -> list[AlarmSpec]:
    b = _Builder(s, contract)
    for t in targets:
        dims: dict[str, Any] = {"WebACL": t.metric_name, "Rule": "ALL"}
        if t.region is not None:
            dims["Region"] = t.region
        b.add(f"waf-{t.key}-blocked-surge", f"The {t.key} web ACL blocks more than {s.waf_blocked_per_minute} "
              "requests a minute: an attack, a bot wave, or a rate limit too tight for real shoppers. Open the "
              "dashboard's WAF row (which rule blocks) and the ACL's log group (aws-waf-logs-...); if shoppers "
              "are throttled, raise the rate limit (catalog-edge:wafRateLimit / catalog-app:apiWafRateLimit).",
              s.waf_blocked_per_minute, GT, NOT_BREACHING,
              metric=Metric("AWS/WAFV2", "BlockedRequests", dims, "Sum"))
    return b.specs
