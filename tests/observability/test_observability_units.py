"""Observability helpers on their own (no plan): contract loading, metric checks, alarm specs, widgets, settings."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from projects.observability.alarm_specs import Targets, Threshold, build_specs
from projects.observability.dashboard import DashboardInputs, build_body
from projects.observability.logs import signals
from projects.observability.metrics import Metric, UnknownMetricError, check_metric, load_contract
from projects.observability.settings import METRICS_CONTRACT_PATH, NAMESPACE, Settings
from projects.observability.topic import key_policy, subscription_name, topic_policy
from projects.observability.widgets import Annotation, Line, MetricWidget, Row, Search, TextWidget, layout
from shared.runtime.errors import CatalogError, ConfigError
from shared.runtime.settings import load_settings

CONTRACT = load_contract()
TARGETS = Targets(
    function_name="fn", function_resource="fn:live", metrics_service="svc",
    alb_arn_suffix="app/alb/1", target_groups={"live": "targetgroup/l/1", "canary": "targetgroup/c/2"},
    api_name="api", api_stage="v1", distribution_id="E1", cluster_id="cl", writer_instance_id="w",
    max_acu=16, proxy_name="px", proxy_max_connections=100, tables={"sessions": "s", "cache": "c"})


def doctored_contract(tmp_path: Path, **changes: object) -> Path:
    data = json.loads(METRICS_CONTRACT_PATH.read_text())
    for dotted, value in changes.items():
        section, _, key = dotted.partition("__")
        if value is None:
            del data[section][key]
        else:
            data[section][key] = value
    path = tmp_path / "metrics-contract.json"
    path.write_text(json.dumps(data))
    return path


def test_renamed_log_keys_in_the_contract_flow_into_filters_and_queries(tmp_path: Path) -> None:
    contract = load_contract(doctored_contract(tmp_path, logFields__level="severity", logFields__durationMs="tookMs",
                                               logEvents__soldOut="stock.exhausted"))
    by_key = {s.key: s for s in signals(contract, 250)}
    assert by_key["errors"].pattern == '{ $.severity = "ERROR" || $.severity = "CRITICAL" }'
    assert "$.tookMs > 250" in by_key["slow"].pattern and "tookMs > 250" in by_key["slow"].query
    assert '"stock.exhausted"' in by_key["soldOut"].pattern
    assert "level" not in by_key["errors"].query and "durationMs" not in by_key["slow"].query


def test_a_contract_without_a_needed_key_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="lacks durationMs"):
        load_contract(doctored_contract(tmp_path, logFields__durationMs=None))
    with pytest.raises(CatalogError, match="lacks Latency"):
        load_contract(doctored_contract(tmp_path, metrics__Latency=None))


@pytest.mark.parametrize(("metric", "message"), [
    (Metric("AWS/Lambdaa", "Errors", {"FunctionName": "f"}), "namespace 'AWS/Lambdaa'"),
    (Metric("AWS/Lambda", "Error", {"FunctionName": "f"}), "AWS/Lambda/Error is not known"),
    (Metric("AWS/DynamoDB", "SystemErrors", {"TableName": "t"}), "has no dimension set ['TableName']"),
    (Metric("AWS/ApplicationELB", "HealthyHostCount", {"LoadBalancer": "l"}), "has no dimension set"),
    (Metric("CatalogApi", "ServerErrors", {"service": "s", "route": "r"}), "has no dimension set"),
    (Metric("CatalogApi", "Latency", {"service": "s"}, "p999"), "statistic 'p999'"),
])
def test_unknown_metrics_dimensions_and_statistics_are_refused(metric: Metric, message: str) -> None:
    with pytest.raises(UnknownMetricError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_metric(metric, CONTRACT)


def test_known_metrics_pass_including_the_contract_and_log_metrics() -> None:
    for metric in (Metric("CatalogApi", "Latency", {"service": "s", "route": "r"}, "p99"),
                   Metric("CatalogApi/Logs", "SlowRequests"),
                   Metric("AWS/DynamoDB", "ThrottledRequests", {"TableName": "t", "Operation": "GetItem"}),
                   Metric("AWS/CloudFront", "5xxErrorRate", {"DistributionId": "E", "Region": "Global"}, "Average")):
        assert check_metric(metric, CONTRACT) is metric


def test_specs_take_thresholds_from_upstream_values_and_settings() -> None:
    specs = {s.kind: s for s in build_specs(TARGETS, Settings(), CONTRACT)}
    assert specs["proxy-db-connections"].threshold == Threshold(0.8, 100)
    assert specs["proxy-db-connections"].threshold.resolve(100) == 80
    assert specs["aurora-writer-acu"].threshold.resolve(16) == pytest.approx(14.4)
    assert specs["lambda-concurrency"].threshold.resolve() == 800  # 80 % of the account's 1,000
    assert specs["lambda-concurrency"].metric.name == "ClaimedAccountConcurrency"
    assert specs["lambda-concurrency"].metric.dimensions == {}
    assert specs["alb-latency-p99"].threshold.resolve() == 0.2
    assert specs["alb-live-no-healthy"].customer_facing and not specs["alb-canary-no-healthy"].customer_facing
    ddb = specs["ddb-cache-system-errors"]
    assert [m.dimensions["Operation"] for m in ddb.inputs] == list(Settings().dynamodb_operations)
    assert {m.dimensions["TableName"] for m in ddb.inputs} == {"c"}


def test_ten_dynamodb_operations_still_fit_one_math_alarm() -> None:
    ops = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
           "TransactGetItems", "TransactWriteItems")
    specs = build_specs(TARGETS, replace(Settings(), dynamodb_operations=ops), CONTRACT)
    assert max(len(s.inputs) for s in specs) == 10
    with pytest.raises(ConfigError, match="dynamodbOperations"):
        load_settings(Settings, NAMESPACE, {"dynamodbOperations": ",".join((*ops, "ExecuteStatement"))})


def test_dashboard_follows_the_contract_metrics(tmp_path: Path) -> None:
    inputs = DashboardInputs("fn", "live", 2, 10, "svc", "/aws/lambda/fn", "app/alb/1", TARGETS.target_groups,
                             "api", "v1", "E1", "auth", "headers", "cl", "w", 16, "px", 100, TARGETS.tables)
    full = json.dumps(build_body(inputs, Settings(), CONTRACT))
    assert "Cache hit ratio" in full and '"LocalCacheHits"' in full
    fewer = load_contract(doctored_contract(tmp_path, metrics__CacheHits=None, metrics__LocalCacheHits=None))
    body = json.dumps(build_body(inputs, Settings(), fewer))
    assert "Cache hit ratio" not in body and '"LocalCacheHits"' not in body
    only = json.dumps(build_body(inputs, replace(Settings(), dashboard_api_metrics=("ReservationsSoldOut",)),
                                 CONTRACT))
    assert '"ReservationsSoldOut"' in only and '"ReservationsSucceeded"' not in only


@pytest.mark.parametrize("email", ["ops@example.com", "first.last+sale@sub.example.co.uk", "a_b@ex-ample.io"])
def test_sane_addresses_are_accepted(email: str) -> None:
    assert load_settings(Settings, NAMESPACE, {"alarmEmails": email}).alarm_emails == (email,)


@pytest.mark.parametrize("email", ["ops", "ops@", "@example.com", "ops@example", "ops@@example.com",
                                   "ops@-example.com", "ops example@example.com", "ops@example.c"])
def test_malformed_addresses_are_refused_naming_them(email: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(Settings, NAMESPACE, {"alarmEmails": json.dumps(["ok@example.com", email])})
    assert "catalog-observability:alarmEmails" in str(err.value) and repr(email) in str(err.value)


def test_key_and_topic_policies() -> None:
    kp = key_policy("111122223333", "us-east-1")
    cw = next(s for s in kp["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"})
    assert cw["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert "Condition" not in cw  # AWS documents this statement without conditions
    tp = topic_policy("arn:aws:sns:us-east-1:111122223333:t", "111122223333", "us-east-1")
    assert {s["Sid"] for s in tp["Statement"]} == {"OwnerManagesTopic", "CloudWatchAlarmsPublish"}
    publish = next(s for s in tp["Statement"] if s["Sid"] == "CloudWatchAlarmsPublish")
    assert publish["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"},
                                    "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:*"}}
    assert subscription_name("Ops@Example.com") == subscription_name("ops@example.com")
    assert subscription_name("a@example.com") != subscription_name("b@example.com")


def test_layout_wraps_rows_and_renders_lines_searches_and_annotations() -> None:
    lat = Metric("CatalogApi", "Latency", {"service": "svc"}, "p99", label="p99")
    rows = [Row("One", "", (MetricWidget("a", (Line(lat),), width=16, annotations=(Annotation(200, "SLO"),)),
                            MetricWidget("b", (Search(lat, ("service", "route"), "s1"),), width=16))),
            Row("Two", "note", (TextWidget("x", width=24, height=2),))]
    body = layout(rows, CONTRACT)
    w = body["widgets"]
    assert [(x["x"], x["y"], x["width"]) for x in w] == [(0, 0, 24), (0, 1, 16), (0, 7, 16), (0, 13, 24),
                                                          (0, 15, 24)]
    assert w[1]["properties"]["metrics"] == [["CatalogApi", "Latency", "service", "svc",
                                              {"stat": "p99", "period": 60, "label": "p99"}]]
    assert w[1]["properties"]["annotations"] == {"horizontal": [{"value": 200, "label": "SLO", "color": "#d62728"}]}
    assert w[2]["properties"]["metrics"][0][0]["expression"] == (
        "SEARCH('{CatalogApi,service,route} MetricName=\"Latency\" service=\"svc\"', 'p99', 60)")


def test_layout_refuses_an_unknown_metric() -> None:
    bad = MetricWidget("x", (Line(Metric("CatalogApi", "Latencyy", {"service": "s"})),))
    with pytest.raises(UnknownMetricError):
        layout([Row("r", "", (bad,))], CONTRACT)
    bad_search = MetricWidget("x", (Search(Metric("AWS/DynamoDB", "SystemErrors", {"TableName": "t"}),
                                           ("TableName",), "s1"),))
    with pytest.raises(UnknownMetricError):
        layout([Row("r", "", (bad_search,))], CONTRACT)
