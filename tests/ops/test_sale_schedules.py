"""Sale windows under mocks: a declared window becomes AWS's own scheduled actions and schedules, with the
numbers and UTC times (lead time included) of the window, in the layer that owns each resource; without a window
each layer plans exactly as before."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.plan.planner import Plan
from tests.conftest import SUFFIX

ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
SCHEDULE = "aws:scheduler/schedule:Schedule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TABLE = "aws:dynamodb/table:Table"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/rolePolicy:RolePolicy"
START, END, LEAD = "2030-05-01T18:00:00Z", "2030-05-01T20:00:00Z", 15

APP_WINDOW = {"start": START, "end": END, "leadMinutes": LEAD, "pcMin": 26, "pcMax": 39, "skus": {"SKU-000123": 2}}
DATA_WINDOW = {"start": START, "end": END, "leadMinutes": LEAD, "readersMin": 3, "readersMax": 6, "minAcu": 5.5,
               "maxAcu": 16.0, "warmThroughput": {"cache": {"reads": 15000, "writes": 6000}}}
OBS_WINDOW = {"start": START, "end": END, "leadMinutes": LEAD, "pcMin": 26}


def windows(*items: dict[str, Any]) -> str:
    return json.dumps(list(items))


@pytest.fixture(scope="module")
def app_sale(plan_with: Callable[..., Plan]) -> Plan:
    return plan_with("app", {"catalog-app:saleWindows": windows(APP_WINDOW)})


@pytest.fixture(scope="module")
def data_sale(plan_with: Callable[..., Plan]) -> Plan:
    return plan_with("data", {"catalog-data:saleWindows": windows(DATA_WINDOW)})


@pytest.fixture(scope="module")
def obs_sale(plan_with: Callable[..., Plan]) -> Plan:
    return plan_with("observability", {"catalog-observability:saleWindows": windows(OBS_WINDOW)})


def by_schedule(plan: Plan, token: str) -> dict[str, Any]:
    return {r.get("schedule") or r.get("scheduleExpression"): r for r in plan.of_type(token)}


def test_app_window_schedules_provisioned_concurrency_at_start_minus_lead_and_restores_at_end(
        app_sale: Plan, chain: dict[str, Plan]) -> None:
    actions = by_schedule(app_sale, ACTION)
    assert set(actions) == {"at(2030-05-01T17:45:00)", "at(2030-05-01T20:00:00)"}
    out, back = actions["at(2030-05-01T17:45:00)"], actions["at(2030-05-01T20:00:00)"]
    target = chain["app"].one("aws:appautoscaling/target:Target")
    for action in (out, back):
        assert action.get("timezone") == "UTC"
        assert action.get("serviceNamespace") == "lambda"
        assert action.get("scalableDimension") == "lambda:function:ProvisionedConcurrency"
        assert action.get("resourceId") == target.get("resourceId")
        assert action.get("name").endswith(f"-{SUFFIX}")
    assert out.get("scalableTargetAction") == {"minCapacity": 26, "maxCapacity": 39}
    assert back.get("scalableTargetAction") == {"minCapacity": 2, "maxCapacity": 10}  # the steady settings
    assert out.get("name") == f"catalog-sale-20300501t1800-pc-scale-out-{SUFFIX}"


def test_data_window_schedules_readers_and_acu_through_aws_schedulers(data_sale: Plan, chain: dict[str, Plan]) -> None:
    actions = by_schedule(data_sale, ACTION)
    assert set(actions) == {"at(2030-05-01T17:45:00)", "at(2030-05-01T20:00:00)"}
    assert actions["at(2030-05-01T17:45:00)"].get("scalableTargetAction") == {"minCapacity": 3, "maxCapacity": 6}
    assert actions["at(2030-05-01T20:00:00)"].get("scalableTargetAction") == {"minCapacity": 2, "maxCapacity": 5}
    assert all(a.get("scalableDimension") == "rds:cluster:ReadReplicaCount" for a in actions.values())

    schedules = by_schedule(data_sale, SCHEDULE)
    assert set(schedules) == {"at(2030-05-01T17:45:00)", "at(2030-05-01T20:00:00)"}
    cluster_id = chain["data"].one("aws:rds/cluster:Cluster").get("clusterIdentifier")
    for expression, (lo, hi) in (("at(2030-05-01T17:45:00)", (5.5, 16.0)), ("at(2030-05-01T20:00:00)", (0.5, 16.0))):
        s = schedules[expression]
        assert s.get("scheduleExpressionTimezone") == "UTC"
        assert s.get("flexibleTimeWindow") == {"mode": "OFF"}
        assert s.get("actionAfterCompletion") == "NONE"
        assert s.get("target", "arn") == "arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster"
        body = json.loads(s.get("target", "input"))
        assert body["ServerlessV2ScalingConfiguration"] == {"MinCapacity": lo, "MaxCapacity": hi}
        assert body["DbClusterIdentifier"] in (cluster_id, data_sale.one("aws:rds/cluster:Cluster").get(
            "clusterIdentifier"))
        assert len(s.get("name")) <= 64


def test_data_scheduler_role_is_least_privilege(data_sale: Plan) -> None:
    role = next(r for r in data_sale.of_type(ROLE) if "sale-scheduler" in r.get("name"))
    trust = json.loads(role.get("assumeRolePolicy"))["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
                      "Action": "sts:AssumeRole",
                      "Condition": {"StringEquals": {"aws:SourceAccount": trust[0]["Condition"]["StringEquals"][
                          "aws:SourceAccount"]}}}]
    assert trust[0]["Condition"]["StringEquals"]["aws:SourceAccount"].isdigit()
    policy = next(r for r in data_sale.of_type(POLICY) if r.name == "sale-scheduler-modify-cluster")
    statements = json.loads(policy.get("policy"))["Statement"]
    assert [(s["Action"], s["Resource"].startswith("arn:aws:rds:")) for s in statements] == [
        ("rds:ModifyDBCluster", True)]
    assert ":cluster:" in statements[0]["Resource"]


def test_data_window_prewarms_only_the_tables_it_names(data_sale: Plan, chain: dict[str, Plan]) -> None:
    tables = {r.name: r for r in data_sale.of_type(TABLE)}
    assert tables["cache"].get("warmThroughput") == {"readUnitsPerSecond": 15000, "writeUnitsPerSecond": 6000}
    assert tables["sessions"].get("warmThroughput") is None
    assert all(r.get("warmThroughput") is None for r in chain["data"].of_type(TABLE))


def test_observability_window_alarms_below_the_planned_minimum_and_shows_on_the_dashboard(obs_sale: Plan) -> None:
    alarm = next(r for r in obs_sale.of_type(ALARM) if "sale-" in r.get("name"))
    assert alarm.get("comparisonOperator") == "LessThanThreshold"
    assert alarm.get("threshold") == 26
    # 2 of 3 one-minute datapoints: one late datapoint does not page; no traffic (no datapoints) is not a breach.
    assert (alarm.get("evaluationPeriods"), alarm.get("datapointsToAlarm")) == (3, 2)
    assert alarm.get("treatMissingData") == "notBreaching"
    queries = {q["id"]: q for q in alarm.get("metricQueries")}
    assert {q["metric"]["metricName"] for q in queries.values() if "metric" in q} == {
        "ProvisionedConcurrentExecutions", "ProvisionedConcurrencyUtilization"}
    expression = queries["allocated"]["expression"]
    assert "EPOCH(u) >= 1903888800" in expression and "EPOCH(u) < 1903896000" in expression  # 18:00Z, 20:00Z
    assert alarm.get("alarmActions")
    body = json.loads(obs_sale.one("aws:cloudwatch/dashboard:Dashboard").get("dashboardBody"))
    texts = [w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text"]
    assert texts[0].startswith("## Sale windows (UTC)")
    assert any("2030-05-01T17:45:00Z | 2030-05-01T18:00:00Z | 2030-05-01T20:00:00Z | 26" in t for t in texts)


@pytest.mark.parametrize("layer", ["app", "data", "observability"])
def test_without_a_window_a_layer_plans_exactly_as_before(layer: str, plan_with: Callable[..., Plan],
                                                          chain: dict[str, Plan]) -> None:
    again = plan_with(layer, {f"catalog-{layer}:saleWindows": "[]"})
    # Registration order of concurrent outputs may vary between runs: compare as a mapping.
    assert {(r.type, r.name): r.inputs for r in again.resources} == {
        (r.type, r.name): r.inputs for r in chain[layer].resources}
    assert len(again.resources) == len(chain[layer].resources)
    # No sale schedule; the app's one schedule is the waiting room controller's, always declared (disabled
    # without SKUs, projects/app/waiting_room.py).
    schedules = [(r.name, r.get("state")) for r in again.of_type(SCHEDULE)]
    assert not again.of_type(ACTION)
    assert schedules == ([("waiting-room-schedule", "DISABLED")] if layer == "app" else [])


@pytest.mark.parametrize("layer", ["app", "data", "observability"])
def test_an_ended_window_schedules_nothing(layer: str, plan_with: Callable[..., Plan],
                                           chain: dict[str, Plan]) -> None:
    past = {**{"app": APP_WINDOW, "data": DATA_WINDOW, "observability": OBS_WINDOW}[layer],
            "start": "2020-05-01T18:00:00Z", "end": "2020-05-01T20:00:00Z"}
    again = plan_with(layer, {f"catalog-{layer}:saleWindows": windows(past)})
    assert len(again.resources) == len(chain[layer].resources)


@pytest.mark.parametrize(("value", "needle"), [
    (windows({**APP_WINDOW, "end": "2030-05-01T17:00:00Z"}), "is not after start"),
    (windows({**APP_WINDOW, "end": "2030-05-01T18:10:00Z"}), "not longer than its 15 min lead time"),
    (windows({**APP_WINDOW, "start": "2030-05-01 18:00"}), "is not an ISO 8601 UTC time"),
    (windows({**APP_WINDOW, "start": "2030-05-01T18:00:00+02:00"}), "is not an ISO 8601 UTC time"),
    (windows(APP_WINDOW, {**APP_WINDOW, "start": "2030-05-01T20:10:00Z", "end": "2030-05-01T22:00:00Z"}),
     "overlaps window"),
    (windows({**APP_WINDOW, "pcMin": 50}), "provisioned concurrency 50-39"),
    (windows({**APP_WINDOW, "skus": {"ABC": 2}}), "skus"),
    ("{", "is not JSON"),
])
def test_a_bad_app_window_is_refused_before_any_resource(value: str, needle: str,
                                                         plan_with: Callable[..., Plan]) -> None:
    from shared.plan.planner import PlanError

    with pytest.raises(Exception) as caught:
        plan_with("app", {"catalog-app:saleWindows": value})
    assert needle in str(caught.value)
    assert "catalog-app:saleWindows" in str(caught.value)
    assert isinstance(caught.value, (PlanError, Exception))


def test_a_declared_sale_passes_the_guardrails() -> None:
    from shared.plan.planner import plan_chain
    from shared.policy import run_rules
    from tests.conftest import BASE_CONFIG, SECRET_KEYS

    config = {**BASE_CONFIG, "catalog-app:saleWindows": windows(APP_WINDOW),
              "catalog-data:saleWindows": windows(DATA_WINDOW),
              "catalog-observability:saleWindows": windows(OBS_WINDOW)}
    plans = plan_chain(SUFFIX, config, secret_keys=SECRET_KEYS, env={"CATALOG_DB_PASSWORD": ""})
    assert plans["app"].of_type(ACTION) and plans["data"].of_type(SCHEDULE)
    assert [v for v in run_rules(plans) if v.level == "mandatory"] == []


def test_a_window_under_way_keeps_its_schedules() -> None:
    from datetime import UTC, datetime

    from shared.runtime.sale_windows import active, parse_app_windows

    [w] = parse_app_windows(windows(APP_WINDOW), "catalog-app")
    assert active((w,), datetime(2030, 5, 1, 19, tzinfo=UTC)) == (w,)  # started: the restore must still fire
    assert active((w,), datetime(2030, 5, 1, 20, tzinfo=UTC)) == ()  # ended: the next up deletes them
