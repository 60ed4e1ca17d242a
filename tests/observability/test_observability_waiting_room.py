"""The waiting room in the observability layer under mocks: its dashboard row and the "queue stops draining" alarm
(metric math over the API's contract metrics, gated by the room's start), the controller's errors alarm."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from projects.observability.metrics import load_contract
from shared.plan.planner import Plan, plan_layer
from tests.conftest import BASE_CONFIG, SECRET_KEYS, SUFFIX

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
CONTRACT = load_contract()
START = "2030-05-01T18:00:00Z"


@pytest.fixture(scope="module")
def obs(chain: dict[str, Plan]) -> Plan:
    return chain["observability"]


@pytest.fixture(scope="module")
def started(chain: dict[str, Plan], plan_with: Any) -> Plan:
    """The room on two SKUs with a start instant (the app's config as `invoke sale plan --waiting-room` writes it)."""
    app = plan_with(
        "app", {"catalog-app:waitingRoomSkus": "SKU-000123,SKU-000456", "catalog-app:waitingRoomStartsAt": START}
    )
    return plan_layer(
        "observability",
        SUFFIX,
        BASE_CONFIG,
        {**chain, "app": app},
        secret_keys=SECRET_KEYS,
        env={"CATALOG_DB_PASSWORD": ""},
    )


def test_the_contract_has_the_rooms_metrics_as_the_api_writes_them() -> None:
    svc, sku = CONTRACT.service_dimension, "sku"
    assert CONTRACT.metrics["WaitingRoomQueued"] == (frozenset({svc}), frozenset({svc, sku}))
    assert CONTRACT.metrics["WaitingRoomPassRefused"] == (frozenset({svc}),)
    assert CONTRACT.units["WaitingRoomWaitSeconds"] == "Seconds"


def test_not_draining_is_queued_without_admissions_for_three_minutes(obs: Plan, chain: dict[str, Plan]) -> None:
    alarm = obs.by_name("waiting-room-not-draining")
    assert alarm.get("name") == f"catalog-waiting-room-not-draining-{SUFFIX}"
    assert (alarm.get("evaluationPeriods"), alarm.get("datapointsToAlarm")) == (3, 3)
    assert alarm.get("treatMissingData") == "notBreaching"
    assert alarm.get("comparisonOperator") == "GreaterThanThreshold"
    assert alarm.get("threshold") == 0  # no start instant: any stuck minute breaches
    queries = {q["id"]: q for q in alarm.get("metricQueries")}
    service = chain["app"].export_value("metricsService")
    assert queries["m0"]["metric"] == {
        "namespace": "CatalogApi",
        "metricName": "WaitingRoomQueued",
        "dimensions": {"service": service},
        "period": 60,
        "stat": "Maximum",
    }
    assert queries["m1"]["metric"]["metricName"] == "WaitingRoomAdmitted" and queries["m1"]["metric"]["stat"] == "Sum"
    assert queries["e1"]["expression"] == "IF(m0 > 0 AND FILL(m1, 0) == 0, EPOCH(m0), 0)"
    assert queries["e1"]["returnData"] is True
    topic = obs.export_value("alarmTopicArn")
    assert alarm.get("alarmActions") == [topic] == alarm.get("okActions")


def test_the_pre_queue_before_the_start_never_breaches(started: Plan) -> None:
    """EPOCH(m0) of a stuck minute is compared with the start: minutes before it (the pre-queue) stay below."""
    alarm = started.by_name("waiting-room-not-draining")
    assert alarm.get("threshold") == datetime(2030, 5, 1, 18, tzinfo=UTC).timestamp()


def test_a_stuck_queue_pages_through_the_composite(obs: Plan) -> None:
    rule = obs.one(COMPOSITE).get("alarmRule")
    assert f'ALARM("catalog-waiting-room-not-draining-{SUFFIX}")' in rule
    assert "controller-errors" not in rule  # its consequence (not draining) is what pages


def test_controller_errors_alarm_watches_the_controller_function(obs: Plan, chain: dict[str, Plan]) -> None:
    alarm = obs.by_name("waiting-room-controller-errors")
    assert (alarm.get("namespace"), alarm.get("metricName"), alarm.get("statistic")) == ("AWS/Lambda", "Errors", "Sum")
    assert alarm.get("dimensions") == {"FunctionName": chain["app"].export_value("waitingRoomFunctionName")}
    assert alarm.get("treatMissingData") == "notBreaching"


def test_the_dashboard_row_graphs_length_rate_wait_and_refusals(obs: Plan, chain: dict[str, Plan]) -> None:
    body = json.loads(obs.one("aws:cloudwatch/dashboard:Dashboard").get("dashboardBody"))
    texts = [w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text"]
    assert any(t.startswith("## Waiting room") for t in texts)
    titles = {w["properties"]["title"]: w["properties"] for w in body["widgets"] if w["type"] == "metric"}
    queue = titles["Queue length (shoppers waiting)"]["metrics"]
    assert queue[0][:2] == ["CatalogApi", "WaitingRoomQueued"] and queue[0][-1]["stat"] == "Maximum"
    assert 'SEARCH(\'{CatalogApi,service,sku} MetricName="WaitingRoomQueued"' in queue[1][0]["expression"]
    rate = titles["Admitted per second"]["metrics"]
    assert rate[-1][0]["expression"] == "a / PERIOD(a)"
    wait = titles["Wait before admission (s): p50 / p90"]["metrics"]
    assert [line[-1]["stat"] for line in wait] == ["p50", "p90"]
    assert titles["Passes refused at the reservation (per minute)"]["metrics"][0][1] == "WaitingRoomPassRefused"
    runs = titles["Controller runs and errors (per minute)"]["metrics"]
    assert {tuple(line[:4]) for line in runs} == {
        ("AWS/Lambda", m, "FunctionName", chain["app"].export_value("waitingRoomFunctionName"))
        for m in ("Invocations", "Errors")
    }
