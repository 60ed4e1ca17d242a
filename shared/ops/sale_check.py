"""`invoke sale check`: is the platform ready for its declared sale? A go/no-go table, each row with what to fix.

The expectations come from the stacks (each owning layer's `saleWindows`, the stacks' outputs); what is there comes
from an `AccountReader`: `Boto3Account` reads AWS (Service Quotas, API Gateway, Application Auto Scaling, EventBridge
Scheduler, CloudWatch, WAF), `PlannedAccount` answers the same questions from the offline plan of the stacks'
config (`--plan`), so the same checks run without AWS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from shared.plan import Plan
from shared.runtime import APP
from shared.runtime.naming import Service, physical_name
from shared.runtime.sale_windows import SaleWindow, active, at_expression, iso

LAMBDA_SERVICE, LAMBDA_CONCURRENCY_QUOTA = "lambda", "L-B99A9384"  # Concurrent executions, per Region
UNRESERVED = 100
API_GATEWAY_DEFAULT_RATE = 10_000.0  # the account-level throttle AWS sets per Region (requests/s)
WEB_ACL_OUTPUTS = ("webAclArn", "webAclId")


class QuotaReader(Protocol):
    def lambda_concurrency(self) -> float | None:
        """The applied concurrent-executions quota of the account in the Region (None: unknown)."""


class AccountReader(Protocol):
    quotas: QuotaReader

    def api_gateway_throttle(self) -> Mapping[str, Any] | None:
        """`apigateway get_account` throttleSettings: {"rateLimit": ..., "burstLimit": ...}."""

    def scheduled_actions(self, namespace: str, resource_id: str) -> list[Mapping[str, Any]]:
        """`application-autoscaling describe_scheduled_actions` ScheduledActions of one scalable target."""

    def schedules(self, name_prefix: str) -> list[Mapping[str, Any]]:
        """`scheduler list_schedules` Schedules (Name, State) whose name starts with the prefix."""

    def alarms(self, names: Sequence[str]) -> list[Mapping[str, Any]]:
        """`cloudwatch describe_alarms` MetricAlarms + CompositeAlarms (AlarmName, StateValue) of these names."""

    def web_acl_rules(self, arn: str) -> list[str] | None:
        """Rule names of the web ACL (None: not found)."""


class ServiceQuotasReader:
    """The applied quota (`get_service_quota`), else AWS's default (`get_aws_default_service_quota`): an account
    that never changed a quota may have no applied value."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def lambda_concurrency(self) -> float | None:
        args = {"ServiceCode": LAMBDA_SERVICE, "QuotaCode": LAMBDA_CONCURRENCY_QUOTA}
        try:
            return float(self.client.get_service_quota(**args)["Quota"]["Value"])
        except self.client.exceptions.NoSuchResourceException:
            return float(self.client.get_aws_default_service_quota(**args)["Quota"]["Value"])


class Boto3Account:
    """Reads the live account through boto3 clients (one session, one Region)."""

    def __init__(self, session: Any, quotas: QuotaReader | None = None) -> None:
        self.session = session
        self.quotas = quotas or ServiceQuotasReader(session.client("service-quotas"))

    def api_gateway_throttle(self) -> Mapping[str, Any] | None:
        return self.session.client("apigateway").get_account().get("throttleSettings")  # type: ignore[no-any-return]

    def scheduled_actions(self, namespace: str, resource_id: str) -> list[Mapping[str, Any]]:
        pages = self.session.client("application-autoscaling").get_paginator("describe_scheduled_actions")
        return [a for page in pages.paginate(ServiceNamespace=namespace, ResourceId=resource_id)
                for a in page["ScheduledActions"]]

    def schedules(self, name_prefix: str) -> list[Mapping[str, Any]]:
        pages = self.session.client("scheduler").get_paginator("list_schedules")
        return [s for page in pages.paginate(NamePrefix=name_prefix) for s in page["Schedules"]]

    def alarms(self, names: Sequence[str]) -> list[Mapping[str, Any]]:
        client = self.session.client("cloudwatch")
        found: list[Mapping[str, Any]] = []
        for i in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
            page = client.describe_alarms(AlarmNames=list(names[i:i + 100]), AlarmTypes=["MetricAlarm",
                                                                                          "CompositeAlarm"])
            found += page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
        return found

    def web_acl_rules(self, arn: str) -> list[str] | None:
        # arn:aws:wafv2:<region>:<account>:global/webacl/<name>/<id>: global = CloudFront scope (us-east-1)
        parts = arn.split(":")[-1].split("/")
        if len(parts) != 4:
            return None
        scope = "CLOUDFRONT" if parts[0] == "global" else "REGIONAL"
        client = self.session.client("wafv2", region_name="us-east-1") if scope == "CLOUDFRONT" else \
            self.session.client("wafv2")
        try:
            acl = client.get_web_acl(Name=parts[2], Id=parts[3], Scope=scope)["WebACL"]
        except client.exceptions.WAFNonexistentItemException:
            return None
        return [r["Name"] for r in acl.get("Rules", [])]


@dataclass
class PlannedQuotas:
    value: float | None

    def lambda_concurrency(self) -> float | None:
        return self.value


class PlannedAccount:
    """The same answers from the offline plans: what `up` would create (alarms are PLANNED, not OK)."""

    def __init__(self, plans: Mapping[str, Plan], lambda_quota: float | None) -> None:
        self.plans = plans
        self.quotas = PlannedQuotas(lambda_quota)

    def _resources(self, token: str) -> list[Any]:
        return [r for plan in self.plans.values() for r in plan.of_type(token)]

    def api_gateway_throttle(self) -> Mapping[str, Any] | None:
        return {"rateLimit": API_GATEWAY_DEFAULT_RATE, "burstLimit": 5000}  # AWS's default: offline assumption

    def scheduled_actions(self, namespace: str, resource_id: str) -> list[Mapping[str, Any]]:
        out = []
        for r in self._resources("aws:appautoscaling/scheduledAction:ScheduledAction"):
            if r.get("serviceNamespace") != namespace:
                continue
            action = r.get("scalableTargetAction") or {}
            out.append({"ScheduledActionName": r.get("name"), "Schedule": r.get("schedule"),
                        "Timezone": r.get("timezone"),
                        "ScalableTargetAction": {"MinCapacity": action.get("minCapacity"),
                                                 "MaxCapacity": action.get("maxCapacity")}})
        return out

    def schedules(self, name_prefix: str) -> list[Mapping[str, Any]]:
        return [{"Name": r.get("name"), "State": r.get("state") or "ENABLED"}
                for r in self._resources("aws:scheduler/schedule:Schedule")
                if str(r.get("name")).startswith(name_prefix)]

    def alarms(self, names: Sequence[str]) -> list[Mapping[str, Any]]:
        planned = {r.get("name") for token in ("aws:cloudwatch/metricAlarm:MetricAlarm",
                                               "aws:cloudwatch/compositeAlarm:CompositeAlarm")
                   for r in self._resources(token)}
        return [{"AlarmName": n, "StateValue": "PLANNED"} for n in names if n in planned]

    def web_acl_rules(self, arn: str) -> list[str] | None:
        rules = [rule.get("name") for r in self._resources("aws:wafv2/webAcl:WebAcl") for rule in
                 (r.get("rules") or [])]
        return rules or None


@dataclass(frozen=True)
class Row:
    check: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Expected:
    """What the stacks say: the declared windows per layer and the stacks' plain outputs."""

    suffix: str
    windows: Mapping[str, tuple[SaleWindow, ...]]
    outputs: Mapping[str, Mapping[str, Any]]
    api_throttle_rate: float
    steady_pc: tuple[int, int] = (2, 10)
    notes: tuple[str, ...] = field(default_factory=tuple)


def _name(kind: str, suffix: str, service: Service = Service.GENERIC) -> str:
    return physical_name(kind, suffix, service)


def _actions_rows(what: str, actions: list[Mapping[str, Any]], w: SaleWindow, suffix: str, kind: str,
                  numbers: tuple[Any, Any], layer: str) -> Row:
    found = {a.get("ScheduledActionName"): a for a in actions}
    name = _name(f"sale-{w.key}-{kind}-scale-out", suffix)
    action = found.get(name)
    fix = f"invoke up --layer {layer} --suffix {suffix} (creates the scheduled actions)"
    if action is None:
        return Row(what, False, f"scheduled action {name} missing", fix)
    target = action.get("ScalableTargetAction", {})
    got = (target.get("MinCapacity"), target.get("MaxCapacity"))
    if action.get("Schedule") != at_expression(w.scale_out_at) or tuple(got) != tuple(numbers):
        return Row(what, False, f"{name}: {action.get('Schedule')} {got[0]}-{got[1]}, planned "
                   f"{at_expression(w.scale_out_at)} {numbers[0]}-{numbers[1]}", fix)
    restore = _name(f"sale-{w.key}-{kind}-restore", suffix)
    if restore not in found:
        return Row(what, False, f"restore action {restore} missing: the sale would not scale back", fix)
    return Row(what, True, f"{numbers[0]}-{numbers[1]} at {iso(w.scale_out_at)}, restore at {iso(w.end)}")


def readiness(expected: Expected, account: AccountReader, now: datetime | None = None) -> list[Row]:
    """Every go/no-go row for the windows that have not ended."""
    moment = now or datetime.now(UTC)
    suffix = expected.suffix
    upcoming = {layer: active(ws, moment) for layer, ws in expected.windows.items()}
    app_windows = upcoming.get("app", ())
    rows: list[Row] = []
    if not app_windows:
        return [Row("sale window declared", False, "no window that has not ended",
                    f"invoke sale plan --suffix {suffix} --start <UTC> --end <UTC> --users <users>")]
    starts = {layer: {w.start for w in ws} for layer, ws in upcoming.items()}
    for layer in ("data", "observability"):
        missing = starts["app"] - starts.get(layer, set())
        rows.append(Row(f"{layer} holds the windows", not missing,
                        "same windows as app" if not missing else
                        f"{', '.join(iso(s) for s in sorted(missing))} missing in catalog-{layer}:saleWindows",
                        "" if not missing else "plan the sale again so every layer holds it: invoke sale plan "
                        f"--suffix {suffix} --start <UTC> --end <UTC> --users <users>"))
    rows.append(Row("sale windows", True, ", ".join(f"{iso(w.start)}-{iso(w.end)} (scale-out {iso(w.scale_out_at)})"
                                                    for w in app_windows)))

    needed = max(w.numbers["pcMax"] for w in app_windows) + UNRESERVED
    quota = account.quotas.lambda_concurrency()
    if quota is None:
        rows.append(Row("Lambda concurrent executions quota (L-B99A9384)", False, "unknown",
                        "check Service Quotas in us-east-1"))
    else:
        rows.append(Row("Lambda concurrent executions quota (L-B99A9384)", quota >= needed,
                        f"{quota:,.0f} vs {needed:,} needed (provisioned max + {UNRESERVED} unreserved)",
                        "" if quota >= needed else f"request an increase to >= {needed:,} (Service Quotas, us-east-1)"))
    throttle = account.api_gateway_throttle() or {}
    rate = float(throttle.get("rateLimit", 0))
    rows.append(Row("API Gateway account throttle", rate >= expected.api_throttle_rate,
                    f"{rate:,.0f} rps (burst {throttle.get('burstLimit', '?')}) vs the stage's "
                    f"{expected.api_throttle_rate:,.0f}", "" if rate >= expected.api_throttle_rate else
                    "request an API Gateway throttle increase or lower catalog-app:apiThrottleRateLimit"))

    app_out, data_out = expected.outputs.get("app", {}), expected.outputs.get("data", {})
    fn, alias = app_out.get("functionName"), app_out.get("aliasName", "live")
    pc_actions = account.scheduled_actions("lambda", f"function:{fn}:{alias}") if fn else []
    for w in app_windows:
        rows.append(_actions_rows(f"provisioned concurrency {w.key}", pc_actions, w, suffix, "pc",
                                  (w.numbers["pcMin"], w.numbers["pcMax"]), "app"))
    cluster = data_out.get("clusterId")
    reader_actions = account.scheduled_actions("rds", f"cluster:{cluster}") if cluster else []
    schedules = {s.get("Name"): s for s in account.schedules(f"{APP}-sale-")}
    for w in upcoming.get("data", ()):
        rows.append(_actions_rows(f"Aurora readers {w.key}", reader_actions, w, suffix, "readers",
                                  (w.numbers["readersMin"], w.numbers["readersMax"]), "data"))
        names = [_name(f"sale-{w.key}-acu-{step}", suffix, Service.LAMBDA) for step in ("scale-out", "restore")]
        bad = [n for n in names if schedules.get(n, {}).get("State") != "ENABLED"]
        rows.append(Row(f"Aurora ACU schedules {w.key}", not bad,
                        f"{w.numbers['minAcu']:g}-{w.numbers['maxAcu']:g} ACU at {iso(w.scale_out_at)}, restore at "
                        f"{iso(w.end)}" if not bad else f"{', '.join(bad)} missing or disabled",
                        "" if not bad else f"invoke up --layer data --suffix {suffix}"))

    room = list(app_out.get("waitingRoomSkus") or [])
    if room:  # the controller's schedule must run during the sale (it is disabled without SKUs)
        name = str(app_out.get("waitingRoomScheduleName") or _name("waiting-room", suffix, Service.LAMBDA))
        state = next((s.get("State") for s in account.schedules(name) if s.get("Name") == name), None)
        rows.append(Row("waiting room controller schedule", state == "ENABLED",
                        f"{', '.join(room)} behind the room; {name} {state or 'missing'}",
                        "" if state == "ENABLED" else f"invoke up --layer app --suffix {suffix}"))

    alarm_names = list(expected.outputs.get("observability", {}).get("alarmNames") or [])
    sale_alarms = [_name(f"sale-{w.key}-pc-below-plan", suffix, Service.ALARM) for w in upcoming.get("observability",
                                                                                                      ())]
    states = {a.get("AlarmName"): a.get("StateValue") for a in account.alarms([*alarm_names, *sale_alarms])}
    missing = [n for n in sale_alarms if n not in states]
    firing = sorted(n for n, s in states.items() if s == "ALARM")
    rows.append(Row("sale alarms", not missing, "present" if not missing else f"{', '.join(missing)} missing",
                    "" if not missing else f"invoke up --layer observability --suffix {suffix}"))
    counts: dict[str, int] = {}
    for state in states.values():
        counts[str(state)] = counts.get(str(state), 0) + 1
    rows.append(Row("alarms not firing", not firing,
                    ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) if not firing else
                    f"in ALARM: {', '.join(firing)}", "" if not firing else "fix what they report before the sale"))

    edge_out = expected.outputs.get("edge", {})
    acl = next((edge_out[k] for k in WEB_ACL_OUTPUTS if edge_out.get(k)), None)
    if acl is None:
        rows.append(Row("WAF web ACL", True, "skipped: the edge stack exports no web ACL"))
    else:
        rules = account.web_acl_rules(str(acl))
        rows.append(Row("WAF web ACL", bool(rules), f"{len(rules)} rules: {', '.join(rules)}" if rules else
                        f"{acl}: not found or without rules",
                        "" if rules else f"invoke up --layer edge --suffix {suffix}"))
    return rows


def go(rows: Sequence[Row]) -> bool:
    return all(r.ok for r in rows)


def rows_table(rows: Sequence[Row]) -> str:
    table = [("check", "status", "detail", "fix"),
             *[(r.check, "GO" if r.ok else "NO-GO", r.detail, r.fix) for r in rows]]
    widths = [max(len(t[i]) for t in table) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)).rstrip() for t in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    verdict = "GO: ready for the sale" if go(rows) else f"NO-GO: {sum(not r.ok for r in rows)} to fix"
    return "\n".join([*lines, "", verdict])
