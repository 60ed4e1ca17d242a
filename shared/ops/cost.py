"""What an environment costs: the offline plan's resources priced from a dated us-east-1 price table.

Pure and typed: plans, a sale plan and prices in, priced lines out; planning and printing live in
`shared/ops/cost_tasks.py`.

- The idle day: what the planned resources cost for 24 hours at their default settings with no shoppers. Every
  count and size is read from the plan (NAT gateways, Aurora instances and their minimum ACU, provisioned
  concurrency and memory, web ACLs and their rules, alarms, keys, secrets...), never assumed.
- A sale window: what `invoke sale plan` would schedule for N users over H hours (its lead time included), on top
  of the idle rate: the capacity model's request rates through CloudFront, WAF, Lambda@Edge, the ALB, Lambda,
  DynamoDB, logs and traces; the provisioned concurrency, Aurora ACU and readers the window raises.
- What cannot be known offline (data stored, bytes per answer) is either a named `Assumptions` value printed with
  the report or listed under "not priced", with its unit price.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from shared.ops.sale import SalePlan
from shared.plan import Plan
from shared.runtime.errors import CatalogError

PRICES_PATH = Path(__file__).with_name("prices-us-east-1.json")
HOURS_PER_MONTH = 730.0  # AWS prices monthly items over 730 hours
DAY_HOURS = 24.0
MAX_SALE_HOURS = 168.0  # a sale window lasts at most 7 days (the layers' saleWindows check)
PROXY_MIN_ACU = 8.0  # RDS Proxy bills a Serverless v2 cluster for at least 8 ACU
ALB_LAMBDA_GB_PER_LCU_HOUR = 0.4  # one LCU processes 0.4 GB an hour for Lambda targets
ALB_FREE_RULES = 10  # the first 10 rule evaluations per request are free
EVENTUALLY_CONSISTENT_RRU = 0.5  # an eventually consistent read of <= 4 KB
REQUIRED_PRICE_FIELDS = ("price", "unit", "url", "checked")


# --- prices ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Price:
    key: str
    price: float
    unit: str
    url: str
    checked: str  # "confirmed" or "unconfirmed"
    checked_at: str = ""


@dataclass(frozen=True)
class PriceTable:
    as_of: date
    region: str
    currency: str
    note: str
    prices: Mapping[str, Price]

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]


def load_prices(path: Path = PRICES_PATH) -> PriceTable:
    """The dated price table; a malformed one is refused naming the line."""
    shown = path.name
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CatalogError(f"price table {shown} cannot be read: {exc}", "restore it from git") from None
    try:
        as_of = date.fromisoformat(str(data.get("asOf")))
    except ValueError:
        raise CatalogError(f"price table {shown}: asOf {data.get('asOf')!r} is not a date",
                           "YYYY-MM-DD, the day the prices were checked") from None
    prices: dict[str, Price] = {}
    for key, line in (data.get("prices") or {}).items():
        missing = [f for f in REQUIRED_PRICE_FIELDS if not isinstance(line, Mapping) or line.get(f) in (None, "")]
        if missing:
            raise CatalogError(f"price table {shown}: {key} lacks {', '.join(missing)}",
                               "every line has price, unit, url (the AWS pricing page) and checked")
        value = line["price"]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise CatalogError(f"price table {shown}: {key} price {value!r}", "a number >= 0 (USD)")
        if not str(line["url"]).startswith("https://aws.amazon.com/"):
            raise CatalogError(f"price table {shown}: {key} url {line['url']!r}", "the AWS pricing page of the line")
        if line["checked"] not in ("confirmed", "unconfirmed"):
            raise CatalogError(f"price table {shown}: {key} checked {line['checked']!r}", "confirmed or unconfirmed")
        prices[key] = Price(key, float(value), str(line["unit"]), str(line["url"]), str(line["checked"]),
                            str(line.get("checkedAt", "")))
    return PriceTable(as_of, str(data.get("region", "")), str(data.get("currency", "")), str(data.get("note", "")),
                      prices)


# --- what cannot be read from the plan -------------------------------------------------------------------------
@dataclass(frozen=True)
class Assumptions:
    """Sizes the plan cannot know; each is printed with the report."""

    response_kb: float = 2.0  # an API answer (one product or a list page, JSON, compressed)
    request_kb: float = 1.0  # a request's headers as the ALB sees them
    lambda_log_bytes: int = 1_000  # per invocation: the request line + EMF line + START/END/REPORT
    waf_log_bytes: int = 1_500  # per inspected request: one WAF log record (headers redacted)
    edge_function_ms: float = 5.0  # a Lambda@Edge run (JWT check, header rewrite)
    health_check_ms: float = 2.0  # GET /health: liveness, no I/O
    xray_fixed_per_s: float = 1.0  # X-Ray default sampling: the first request each second...
    xray_rate: float = 0.05  # ...and 5 % of the rest

    def lines(self) -> list[str]:
        return [
            f"an API answer {self.response_kb:g} KB, a request {self.request_kb:g} KB as the ALB sees them",
            f"{self.lambda_log_bytes:,} log bytes per Lambda invocation, {self.waf_log_bytes:,} per WAF log record",
            f"Lambda@Edge {self.edge_function_ms:g} ms a run, the ALB's health check {self.health_check_ms:g} ms",
            f"X-Ray samples {self.xray_fixed_per_s:g} request/s + {self.xray_rate:.0%} of the rest (its default rule)",
        ]


# --- what the plan says -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FunctionFacts:
    name: str
    memory_gb: float
    arm: bool


@dataclass(frozen=True)
class Facts:
    """Counts and sizes read from the offline plan's resources."""

    nat_gateways: int = 0
    public_ips: int = 0
    interface_endpoint_enis: int = 0
    gateway_endpoints: int = 0
    albs: int = 0
    health_checks_per_day: float = 0.0  # ALB -> Lambda health check invocations (every node, every target group)
    aurora_instances: int = 0  # Serverless v2 writer + readers
    min_acu: float = 0.0
    max_acu: float = 0.0
    proxies: int = 0
    provisioned: tuple[tuple[FunctionFacts, int], ...] = ()  # (function, steady provisioned concurrency)
    api: FunctionFacts | None = None  # the function behind the ALB
    edge_viewer_request: FunctionFacts | None = None  # Lambda@Edge on every /api/* request
    edge_origin_response: FunctionFacts | None = None  # Lambda@Edge on every origin answer
    origin_shield: bool = False
    cloudfront_acls: int = 0  # web ACLs attached to distributions: each inspects every viewer request
    logged_cloudfront_acls: int = 0  # ...and those that log every request
    web_acls: int = 0
    waf_rules: int = 0
    tracing: bool = False
    alarm_metrics: int = 0
    composite_alarms: int = 0
    dashboards: int = 0
    metric_filters: int = 0
    kms_keys: int = 0
    secrets: int = 0
    buckets: int = 0
    dynamodb_tables: int = 0
    log_groups: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def idle_acu(self) -> float:
        return self.aurora_instances * self.min_acu

    def steady_provisioned(self, function: str) -> int:
        return sum(n for f, n in self.provisioned if f.name == function)


def _num(value: Any, default: float = 0.0) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _function(resource: Any) -> FunctionFacts:
    arches = resource.get("architectures") or ["x86_64"]
    return FunctionFacts(str(resource.get("name")), _num(resource.get("memorySize"), 128.0) / 1024,
                         "arm64" in arches)


def _function_name(arn_or_name: str) -> str:
    """`arn:aws:lambda:<region>:<account>:function:NAME[:alias|version]` -> NAME (a bare name stays)."""
    match = re.search(r":function:([^:]+)", arn_or_name)
    return match.group(1) if match else arn_or_name


def _alarm_metrics(alarm: Any) -> int:
    """A standard alarm is priced per metric it reads: one, or each metric of its metric-math expression."""
    queries = alarm.get("metricQueries") or []
    if not queries:
        return 1
    return max(1, sum(1 for q in queries if isinstance(q, Mapping) and q.get("metric")))


def plan_facts(plans: Mapping[str, Plan]) -> Facts:
    """Read every count and size the prices need from the plans of all layers."""
    resources = [r for p in plans.values() for r in p.custom_resources()]

    def of(token: str) -> list[Any]:
        return [r for r in resources if r.type == token]

    functions = {str(r.get("name")): r for r in of("aws:lambda/function:Function")}
    facts: dict[str, Any] = {}
    facts["nat_gateways"] = len(of("aws:ec2/natGateway:NatGateway"))
    facts["public_ips"] = len(of("aws:ec2/eip:Eip"))
    endpoints = of("aws:ec2/vpcEndpoint:VpcEndpoint")
    facts["gateway_endpoints"] = sum(1 for e in endpoints if e.get("vpcEndpointType", default="Gateway") == "Gateway")
    facts["interface_endpoint_enis"] = sum(len(e.get("subnetIds") or []) for e in endpoints
                                           if e.get("vpcEndpointType") == "Interface")
    albs = [r for r in of("aws:lb/loadBalancer:LoadBalancer")
            if r.get("loadBalancerType", default="application") == "application"]
    facts["albs"] = len(albs)
    nodes = sum(len(a.get("subnets") or []) for a in albs)  # a load balancer node per AZ health-checks each target
    checks = 0.0
    for group in of("aws:lb/targetGroup:TargetGroup"):
        health = group.get("healthCheck") or {}
        if group.get("targetType") == "lambda" and health.get("enabled", True):
            checks += nodes * 86_400 / max(1.0, _num(health.get("interval"), 35.0))
    facts["health_checks_per_day"] = checks

    instances = [r for r in of("aws:rds/clusterInstance:ClusterInstance") if r.get("instanceClass") == "db.serverless"]
    facts["aurora_instances"] = len(instances)
    clusters = of("aws:rds/cluster:Cluster")
    scaling = clusters[0].get("serverlessv2ScalingConfiguration") or {} if clusters else {}
    facts["min_acu"], facts["max_acu"] = _num(scaling.get("minCapacity")), _num(scaling.get("maxCapacity"))
    facts["proxies"] = len(of("aws:rds/proxy:Proxy"))

    provisioned: list[tuple[FunctionFacts, int]] = []
    for target in of("aws:appautoscaling/target:Target"):
        if target.get("scalableDimension") != "lambda:function:ProvisionedConcurrency":
            continue
        name = str(target.get("resourceId", default="")).split(":")[1:2]
        if name and name[0] in functions:
            provisioned.append((_function(functions[name[0]]), int(_num(target.get("minCapacity")))))
    for config in of("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"):
        name = str(config.get("functionName"))
        if name in functions:
            provisioned.append((_function(functions[name]), int(_num(config.get("provisionedConcurrentExecutions")))))
    facts["provisioned"] = tuple(provisioned)

    # the function behind the ALB: the one its Lambda target group attachments invoke
    targets = [_function_name(str(a.get("targetId", default="")))
               for a in of("aws:lb/targetGroupAttachment:TargetGroupAttachment")]
    api = next((functions[n] for n in targets if n in functions), None)
    if api is None and provisioned:
        api = functions.get(provisioned[0][0].name)
    facts["api"] = _function(api) if api is not None else None
    facts["tracing"] = bool(api is not None and (api.get("tracingConfig") or {}).get("mode") == "Active")

    acl_arns: set[str] = set()
    for dist in of("aws:cloudfront/distribution:Distribution"):
        if dist.get("webAclId"):
            acl_arns.add(str(dist.get("webAclId")))
        for origin in dist.get("origins") or []:
            if (origin.get("originShield") or {}).get("enabled"):
                facts["origin_shield"] = True
        for behavior in dist.get("orderedCacheBehaviors") or []:
            if not str(behavior.get("pathPattern", "")).startswith("/api"):
                continue
            for assoc in behavior.get("lambdaFunctionAssociations") or []:
                name = _function_name(str(assoc.get("lambdaArn", "")))
                kind = {"viewer-request": "edge_viewer_request", "origin-response": "edge_origin_response"}
                if name in functions and assoc.get("eventType") in kind:
                    facts[kind[assoc["eventType"]]] = _function(functions[name])
    facts["cloudfront_acls"] = len(acl_arns)
    logged = {str(c.get("resourceArn")) for c in of("aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")}
    facts["logged_cloudfront_acls"] = len(acl_arns & logged)

    acls = of("aws:wafv2/webAcl:WebAcl")
    facts["web_acls"] = len(acls)
    facts["waf_rules"] = sum(len(a.get("rules") or []) for a in acls)
    alarms = of("aws:cloudwatch/metricAlarm:MetricAlarm")
    facts["alarm_metrics"] = sum(_alarm_metrics(a) for a in alarms)
    facts["composite_alarms"] = len(of("aws:cloudwatch/compositeAlarm:CompositeAlarm"))
    facts["dashboards"] = len(of("aws:cloudwatch/dashboard:Dashboard"))
    facts["metric_filters"] = len(of("aws:cloudwatch/logMetricFilter:LogMetricFilter"))
    facts["kms_keys"] = len(of("aws:kms/key:Key"))
    # RDS keeps the master password in a secret of its own when the cluster manages it
    facts["secrets"] = len(of("aws:secretsmanager/secret:Secret")) + sum(
        1 for c in clusters if c.get("manageMasterUserPassword"))
    facts["buckets"] = len(of("aws:s3/bucket:Bucket")) + len(of("aws:s3/bucketV2:BucketV2"))
    facts["dynamodb_tables"] = len(of("aws:dynamodb/table:Table"))
    facts["log_groups"] = len(of("aws:cloudwatch/logGroup:LogGroup"))
    notes = []
    if any(t.get("billingMode") != "PAY_PER_REQUEST" for t in of("aws:dynamodb/table:Table")):
        notes.append("a DynamoDB table is not on demand: its provisioned capacity is not priced here")
    if any(c.get("storageType") == "aurora-iopt1" for c in clusters):
        notes.append("the cluster uses Aurora I/O-Optimized: ACU-hours cost more than the Standard price used here")
    facts["notes"] = tuple(notes)
    return Facts(**facts)


# --- priced lines -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Line:
    service: str
    item: str
    quantity: float
    unit: str
    unit_price: float
    price_key: str

    @property
    def cost(self) -> float:
        return self.quantity * self.unit_price


def priced(prices: PriceTable, key: str, service: str, item: str, quantity: float, unit: str | None = None,
           per: float = 1.0) -> Line:
    """`quantity` in `unit`; the table's price is per `per` of that unit (e.g. per month for a daily line)."""
    price = prices[key]
    return Line(service, item, quantity, unit or price.unit, price.price / per, key)


def _monthly(prices: PriceTable, key: str, service: str, item: str, count: float, unit: str, hours: float) -> Line:
    """A monthly item (web ACL, key, secret, alarm...) for `hours`, prorated as AWS does over 730 hours."""
    return priced(prices, key, service, item, count, f"{unit} x {hours:g} h", per=HOURS_PER_MONTH / hours)


def _gb_s(fn: FunctionFacts, prices: PriceTable, kind: str) -> str:
    arch = "Arm" if fn.arm else "X86"
    return {"provisioned": f"lambda{arch}ProvisionedGbSecond", "on_pc": f"lambda{arch}ProvisionedDurationGbSecond",
            "on_demand": f"lambda{arch}GbSecond"}[kind]


def idle_day(facts: Facts, prices: PriceTable, a: Assumptions | None = None) -> list[Line]:
    """What the planned resources cost for 24 hours with no shoppers, at their planned (default) settings."""
    a = a or Assumptions()
    h = DAY_HOURS
    lines = [
        priced(prices, "natGatewayHour", "VPC", f"NAT gateways ({facts.nat_gateways})", facts.nat_gateways * h),
        priced(prices, "publicIpv4Hour", "VPC", f"public IPv4 addresses ({facts.public_ips}, the NATs' Elastic IPs)",
              facts.public_ips * h),
    ]
    if facts.gateway_endpoints:
        lines.append(priced(prices, "gatewayEndpointHour", "VPC",
                           f"gateway endpoints ({facts.gateway_endpoints}: S3, DynamoDB)", facts.gateway_endpoints * h))
    if facts.interface_endpoint_enis:
        enis = facts.interface_endpoint_enis
        lines.append(priced(prices, "interfaceEndpointHour", "VPC", f"interface endpoints ({enis} ENIs)", enis * h))
    lines.append(priced(prices, "albHour", "ALB", f"application load balancers ({facts.albs})", facts.albs * h))
    lines.append(priced(prices, "auroraAcuHour", "Aurora", f"Serverless v2: {facts.aurora_instances} instances x "
                       f"minAcu {facts.min_acu:g}", facts.idle_acu * h))
    for _ in range(facts.proxies):
        billed = max(PROXY_MIN_ACU, facts.idle_acu)
        lines.append(priced(prices, "rdsProxyAcuHour", "RDS Proxy", f"{facts.idle_acu:g} ACU behind it, billed "
                           f"{billed:g}", billed * h))
    for fn, count in facts.provisioned:
        lines.append(priced(prices, _gb_s(fn, prices, "provisioned"), "Lambda", f"provisioned concurrency {count} x "
                           f"{fn.memory_gb:g} GB ({fn.name})", count * fn.memory_gb * h * 3600, "GB-s"))
    if facts.health_checks_per_day and facts.api:
        checks = facts.health_checks_per_day
        lines.append(priced(prices, "lambdaRequests", "Lambda", f"ALB health checks ({checks:,.0f} invocations)",
                           checks / 1e6, "1M requests"))
        lines.append(priced(prices, _gb_s(facts.api, prices, "on_demand"), "Lambda", "ALB health checks, duration",
                           checks * a.health_check_ms / 1000 * facts.api.memory_gb, "GB-s"))
        lines.append(priced(prices, "logsIngestionGb", "CloudWatch", "logs of the health checks",
                           checks * a.lambda_log_bytes / 1e9, "GB"))
    lines += [
        _monthly(prices, "wafWebAclMonth", "WAF", f"web ACLs ({facts.web_acls})", facts.web_acls, "web ACL", h),
        _monthly(prices, "wafRuleMonth", "WAF", f"rules ({facts.waf_rules})", facts.waf_rules, "rule", h),
        _monthly(prices, "alarmMetricMonth", "CloudWatch", f"alarm metrics ({facts.alarm_metrics})",
                 facts.alarm_metrics, "alarm metric", h),
        _monthly(prices, "compositeAlarmMonth", "CloudWatch", f"composite alarms ({facts.composite_alarms})",
                 facts.composite_alarms, "alarm", h),
        _monthly(prices, "dashboardMonth", "CloudWatch", f"dashboards ({facts.dashboards})", facts.dashboards,
                 "dashboard", h),
        _monthly(prices, "customMetricMonth", "CloudWatch", f"metrics from log filters ({facts.metric_filters})",
                 facts.metric_filters, "metric", h),
        _monthly(prices, "kmsKeyMonth", "KMS", f"customer managed keys ({facts.kms_keys})", facts.kms_keys, "key", h),
        _monthly(prices, "secretMonth", "Secrets Manager", f"secrets ({facts.secrets}, the cluster's master "
                 "password included)", facts.secrets, "secret", h),
    ]
    return [line for line in lines if line.quantity > 0]


@dataclass(frozen=True)
class SaleNumbers:
    """What the sale window runs with: `invoke sale plan`'s numbers for N users over `hours`."""

    users: int
    hours: float
    lead_hours: float
    pc_min: int
    pc_max: int
    readers: int
    min_acu: float
    writer_acu: float
    reader_acu: float
    throughput_rps: float
    origin_rps: float
    origin_get_rps: float
    reserve_rps: float
    get_ms: float
    reserve_ms: float
    dynamodb_reads_rps: float
    dynamodb_writes_rps: float


def sale_numbers(plan: SalePlan, hours: float) -> SaleNumbers:
    c = plan.capacity
    app, data = plan.windows["app"].numbers, plan.windows["data"].numbers
    return SaleNumbers(
        users=plan.request.users, hours=hours, lead_hours=plan.lead_minutes / 60, pc_min=int(app["pcMin"]),
        pc_max=int(app["pcMax"]),
        readers=int(data["readersMin"]), min_acu=float(data["minAcu"]), writer_acu=c.writer_acu,
        reader_acu=c.reader_acu, throughput_rps=c.throughput_rps, origin_rps=c.origin_rps,
        origin_get_rps=c.origin_get_rps, reserve_rps=c.reserve_rps, get_ms=c.get_duration_ms,
        reserve_ms=c.reserve_duration_ms, dynamodb_reads_rps=c.dynamodb_reads_rps,
        dynamodb_writes_rps=c.dynamodb_writes_rps)


def sale_window(facts: Facts, s: SaleNumbers, prices: PriceTable, a: Assumptions | None = None) -> list[Line]:
    """What the window adds to the idle rate: its traffic for `hours`, and what it raises from the scale-out
    (lead time before the doors open) to the end."""
    a = a or Assumptions()
    seconds = s.hours * 3600
    raised_h = s.hours + s.lead_hours
    lines: list[Line] = []
    api = facts.api
    if api is not None:
        steady = facts.steady_provisioned(api.name)
        extra = max(0, s.pc_min - steady)
        lines.append(priced(prices, _gb_s(api, prices, "provisioned"), "Lambda", f"provisioned concurrency {steady} -> "
                           f"{s.pc_min} for {raised_h:g} h ({extra} x {api.memory_gb:g} GB; tracking may add up to "
                           f"{s.pc_max})",
                           extra * api.memory_gb * raised_h * 3600, "GB-s"))
        lines.append(priced(prices, "lambdaRequests", "Lambda", f"requests at the origin ({s.origin_rps:,.0f}/s)",
                           s.origin_rps * seconds / 1e6, "1M requests"))
        busy_s = (s.origin_get_rps * s.get_ms + s.reserve_rps * s.reserve_ms) / 1000 * seconds
        lines.append(priced(prices, _gb_s(api, prices, "on_pc"), "Lambda", "duration on provisioned concurrency "
                           f"(GET {s.get_ms:.1f} ms, reservation {s.reserve_ms:.1f} ms)", busy_s * api.memory_gb,
                           "GB-s"))
        lines.append(priced(prices, "logsIngestionGb", "CloudWatch", "Lambda logs",
                           s.origin_rps * seconds * a.lambda_log_bytes / 1e9, "GB"))
        if facts.tracing:
            traced = min(s.origin_rps, a.xray_fixed_per_s) + a.xray_rate * max(0.0, s.origin_rps - a.xray_fixed_per_s)
            lines.append(priced(prices, "xrayTraces", "X-Ray", f"traces ({traced:,.0f}/s sampled)",
                               traced * seconds / 1e6, "1M traces"))
    # Aurora: every instance sits at the window's minAcu from the scale-out; the writer and readers above it carry
    # the model's load while the doors are open.
    writer = max(s.min_acu, s.writer_acu)
    reader = max(s.min_acu, s.reader_acu / s.readers if s.readers else 0.0)
    window_acu = writer + s.readers * reader
    lead_acu = (1 + s.readers) * s.min_acu
    sale_acu_h = window_acu * s.hours + lead_acu * s.lead_hours
    extra_acu_h = max(0.0, sale_acu_h - facts.idle_acu * raised_h)
    lines.append(priced(prices, "auroraAcuHour", "Aurora", f"writer ~{writer:g} ACU + {s.readers} readers x "
                       f"{reader:g} ACU, above the idle {facts.idle_acu:g} ACU", extra_acu_h))
    for _ in range(facts.proxies):
        billed = max(PROXY_MIN_ACU, window_acu) * s.hours + max(PROXY_MIN_ACU, lead_acu) * s.lead_hours
        idle = max(PROXY_MIN_ACU, facts.idle_acu) * raised_h
        lines.append(priced(prices, "rdsProxyAcuHour", "RDS Proxy", "ACU behind it above the idle",
                           max(0.0, billed - idle)))
    if facts.albs:
        gb_per_hour = s.origin_rps * 3600 * (a.response_kb + a.request_kb) / 1e6
        lcu = gb_per_hour / ALB_LAMBDA_GB_PER_LCU_HOUR  # processed bytes: the largest dimension behind CloudFront
        lines.append(priced(prices, "albLcuHour", "ALB", f"LCUs ({gb_per_hour:,.1f} GB/h processed for Lambda "
                           "targets)", lcu * s.hours))
    lines.append(priced(prices, "cloudfrontHttpsRequests", "CloudFront", f"HTTPS requests ({s.throughput_rps:,.0f}/s)",
                       s.throughput_rps * seconds / 10_000, "10,000 requests"))
    lines.append(priced(prices, "cloudfrontTransferGb", "CloudFront", f"data out ({a.response_kb:g} KB an answer)",
                       s.throughput_rps * seconds * a.response_kb / 1e6, "GB"))
    if facts.origin_shield:
        lines.append(priced(prices, "originShieldRequests", "CloudFront", "Origin Shield requests (cache misses)",
                           s.origin_get_rps * seconds / 10_000, "10,000 requests"))
    for fn, rate, what in ((facts.edge_viewer_request, s.throughput_rps, "viewer requests"),
                           (facts.edge_origin_response, s.origin_rps, "origin responses")):
        if fn is None:
            continue
        runs = rate * seconds
        lines.append(priced(prices, "lambdaEdgeRequests", "Lambda@Edge", f"{fn.name} on {what} ({rate:,.0f}/s)",
                           runs / 1e6, "1M requests"))
        lines.append(priced(prices, "lambdaEdgeGbSecond", "Lambda@Edge", f"{fn.name} duration",
                           runs * a.edge_function_ms / 1000 * fn.memory_gb, "GB-s"))
    if facts.cloudfront_acls:
        inspected = s.throughput_rps * seconds * facts.cloudfront_acls
        lines.append(priced(prices, "wafRequests", "WAF", "requests inspected at the edge", inspected / 1e6,
                           "1M requests"))
        if facts.logged_cloudfront_acls:
            lines.append(priced(prices, "logsIngestionGb", "CloudWatch", "WAF logs (every inspected request)",
                               s.throughput_rps * seconds * facts.logged_cloudfront_acls * a.waf_log_bytes / 1e9, "GB"))
    if facts.dynamodb_tables:
        lines.append(priced(prices, "dynamodbReadUnits", "DynamoDB", f"cache reads ({s.dynamodb_reads_rps:,.0f}/s, "
                           "eventually consistent)", s.dynamodb_reads_rps * seconds * EVENTUALLY_CONSISTENT_RRU / 1e6,
                           "1M read units"))
        lines.append(priced(prices, "dynamodbWriteUnits", "DynamoDB", f"cache writes ({s.dynamodb_writes_rps:,.0f}/s, "
                           "+1 for the byTag index)", s.dynamodb_writes_rps * seconds * 2 / 1e6, "1M write units"))
    return [line for line in lines if line.quantity > 0]


def not_priced(facts: Facts, prices: PriceTable) -> list[str]:
    """What the plan holds whose cost depends on data this tool cannot know."""
    def p(key: str) -> str:
        return f"${prices[key].price:g} per {prices[key].unit}"

    return [
        f"Aurora storage and I/O ({p('auroraStorageGbMonth')}; I/O per million requests)",
        f"S3 storage and requests in {facts.buckets} buckets ({p('s3StorageGbMonth')})",
        f"DynamoDB storage and point-in-time recovery of {facts.dynamodb_tables} tables (per GB-month)",
        f"log storage in {facts.log_groups} log groups ({p('logsStorageGbMonth')}), VPC flow logs "
        f"({p('logsIngestionGb')})",
        f"NAT traffic ({p('natGatewayGb')}): the API reaches S3 and DynamoDB through gateway endpoints",
        "the API's own metrics (embedded metric format), ECR image storage, data transfer between AZs, "
        "API Gateway requests (shoppers go CloudFront -> ALB; "
        f"{p('apiGatewayRestRequests')}), free tiers",
    ]


# --- the report -------------------------------------------------------------------------------------------------
def unit_price(value: float) -> str:
    """A unit price with five significant digits at most, never in scientific notation: $0.0225, $0.0000033334."""
    if value <= 0:
        return "$0"
    decimals = max(2, min(10, 4 - math.floor(math.log10(value))))
    whole, _, part = f"{value:.{decimals}f}".partition(".")
    return f"${whole}.{part.rstrip('0').ljust(2, '0')}"


def quantity(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.4g}"


def markdown_table(lines: Sequence[Line], total_label: str) -> str:
    rows = ["| service | item | quantity | unit | unit price | cost |", "| --- | --- | ---: | --- | ---: | ---: |"]
    for line in lines:
        rows.append(f"| {line.service} | {line.item} | {quantity(line.quantity)} | {line.unit} | "
                    f"{unit_price(line.unit_price)} | ${line.cost:,.2f} |")
    rows.append(f"| **{total_label}** | | | | | **${total(lines):,.2f}** |")
    return "\n".join(rows)


def total(lines: Sequence[Line]) -> float:
    return sum(line.cost for line in lines)


def summary_table(idle: Sequence[Line], window: Sequence[Line], users: int, hours: float) -> str:
    """Per service: the idle day and the sale window (the README's short table)."""
    services = list(dict.fromkeys(line.service for line in [*idle, *window]))

    def of(lines: Sequence[Line], service: str) -> str:
        found = [line for line in lines if line.service == service]
        return f"${total(found):,.2f}" if found else "—"

    rows = [f"| service | idle day | sale: {users:,} users, {hours:g} h (on top) |", "| --- | ---: | ---: |"]
    rows += [f"| {service} | {of(idle, service)} | {of(window, service)} |" for service in services]
    rows.append(f"| **total** | **${total(idle):,.2f}** | **${total(window):,.2f}** |")
    return "\n".join(rows)


def report(suffix: str, source: str, facts: Facts, idle: Sequence[Line], sale: SaleNumbers, window: Sequence[Line],
           prices: PriceTable, a: Assumptions, notes: Sequence[str] = ()) -> str:
    """The full answer of `invoke cost`: both tables, totals, assumptions, what is not priced."""
    unconfirmed = sorted({line.price_key for line in [*idle, *window] if prices[line.price_key].checked != "confirmed"})
    out = [
        f"Environment {suffix}: {source}; us-east-1 prices as of {prices.as_of.isoformat()} "
        f"(shared/ops/{PRICES_PATH.name})",
        "",
        "Idle day (24 h, no shoppers)",
        "",
        markdown_table(idle, "idle day"),
        "",
        "Priced per request, so nothing while idle: CloudFront, Lambda@Edge, WAF requests, DynamoDB (on demand), "
        "API Gateway.",
        "",
        f"Sale window: {sale.users:,} users for {sale.hours:g} h (scale-out {sale.lead_hours * 60:.0f} min before the "
        "doors open), on top of the idle rate",
        "",
        markdown_table(window, "sale window"),
        "",
        f"A sale day: ${total(idle) + total(window):,.2f} (idle day ${total(idle):,.2f} + sale window "
        f"${total(window):,.2f}); a month of idle days: ${total(idle) * HOURS_PER_MONTH / DAY_HOURS:,.0f}",
        "",
        "Assumed (the plan cannot know them):",
        *[f"  - {line}" for line in a.lines()],
        "Not priced (depends on data stored or traffic this tool cannot know):",
        *[f"  - {line}" for line in not_priced(facts, prices)],
    ]
    if unconfirmed:
        out += [f"Prices not re-checked when the table was dated (see its note): {', '.join(unconfirmed)}"]
    if notes or facts.notes:
        out += ["Notes:", *[f"  - {n}" for n in (*facts.notes, *notes)]]
    return "\n".join(out)


# --- arguments --------------------------------------------------------------------------------------------------
def parse_users(text: str) -> int:
    try:
        users = int(str(text).replace("_", "").replace(",", "").strip())
    except ValueError:
        raise CatalogError(f"--users {text!r} is not a whole number", "e.g. --users 50000") from None
    if users < 1:
        raise CatalogError(f"--users {users} is not a user count", "a whole number >= 1, e.g. --users 50000")
    return users


def parse_room_skus(text: str) -> int:
    """--waiting-room: how many sale SKUs shoppers queue for, 0-64."""
    raw = str(text).strip()
    if not raw.isdigit() or int(raw) > 64:
        raise CatalogError(f"--waiting-room {text!r} is not a SKU count", "0 (no room) to 64, e.g. --waiting-room 1")
    return int(raw)


def parse_hours(text: str) -> float:
    try:
        hours = float(str(text).strip())
    except ValueError:
        raise CatalogError(f"--hours {text!r} is not a number", "e.g. --hours 2 (or 0.5 for 30 minutes)") from None
    if not math.isfinite(hours) or hours <= 0:
        raise CatalogError(f"--hours {text} is not a duration", "a number of hours > 0, e.g. --hours 2")
    if hours > MAX_SALE_HOURS:
        raise CatalogError(f"--hours {hours:g} is longer than a sale window ({MAX_SALE_HOURS:g} h, 7 days)",
                           "at most --hours 168; a longer peak is a new steady state: price it with --config")
    return hours
