"""Observability layer under mocks, fed by the upstream layers' planned exports (longest legal suffix).

The mission's alarms are found by what they watch, with dimension values taken from the upstream plans' exports,
never from literals: if an upstream name changes, the expectation follows it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from projects.observability.metrics import AWS_METRICS, LOG_METRICS, load_contract
from shared.plan.planner import Plan
from shared.runtime.naming import Service, check_name
from shared.runtime.tags import is_taggable
from tests.conftest import SUFFIX

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
QUERY = "aws:cloudwatch/queryDefinition:QueryDefinition"
CONTRACT = load_contract()


@pytest.fixture(scope="module")
def obs(chain: dict[str, Plan]) -> Plan:
    return chain["observability"]


@pytest.fixture(scope="module")
def up(chain: dict[str, Plan]) -> dict[str, Any]:
    """Every export of data, app and edge, by name (no two layers export the same name)."""
    return {k: chain[layer].export_value(k) for layer in ("data", "app", "edge") for k in chain[layer].exports}


def alarms(plan: Plan) -> dict[str, Any]:
    return {r.get("name"): r for r in plan.of_type(ALARM)}


def name_of(kind: str) -> str:
    return f"catalog-{kind}-{SUFFIX}"


def metrics_of(alarm: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of a single-metric or a metric-math alarm."""
    if alarm.get("metricName"):
        return [(alarm.get("namespace"), alarm.get("metricName"), alarm.get("dimensions") or {})]
    return [(q["metric"]["namespace"], q["metric"]["metricName"], q["metric"].get("dimensions") or {})
            for q in alarm.get("metricQueries") if "metric" in q]


def test_the_missions_alarms_watch_the_upstream_resources(obs: Plan, up: dict[str, Any]) -> None:
    """Mission 11: ALB target health, task count, RDS connections, Lambda errors and throttling; the 200 ms SLO."""
    planned = alarms(obs)
    fn = {"FunctionName": up["functionName"], "Resource": f"{up['functionName']}:{up['aliasName']}"}
    alb = {"LoadBalancer": up["albArnSuffix"]}

    def watching(namespace: str, metric: str, dims: dict[str, Any]) -> list[str]:
        return [name for name, a in planned.items() if (namespace, metric, dims) in metrics_of(a)]

    for tg in up["targetGroupArnSuffixes"].values():  # target health of both live and canary
        assert watching("AWS/ApplicationELB", "UnHealthyHostCount", {**alb, "TargetGroup": tg})
    assert watching("AWS/Lambda", "ProvisionedConcurrencyUtilization", fn)  # the "task count" of a Lambda API
    assert watching("AWS/Lambda", "ClaimedAccountConcurrency", {})
    assert watching("AWS/Lambda", "Errors", fn) and watching("AWS/Lambda", "Throttles", fn)
    assert watching("AWS/RDS", "DatabaseConnections", {"ProxyName": up["proxyName"]}) or watching(
        "AWS/RDS", "DatabaseConnections", {"ProxyName": up["proxyName"], "TargetGroup": "default",
                                           "TargetRole": "READ_WRITE"})
    slo = planned[name_of("api-latency-p99")]
    assert (slo.get("extendedStatistic"), slo.get("threshold")) == ("p99", 200)
    assert planned[name_of("alb-latency-p99")].get("threshold") == pytest.approx(0.2)  # seconds


def test_alarm_statistics_and_math_are_what_cloudwatch_accepts(obs: Plan) -> None:
    for name, a in alarms(obs).items():
        if a.get("metricName"):
            percentile = str(a.get("extendedStatistic") or "")
            # A percentile goes in extendedStatistic, never with statistic; low sample counts are ignored.
            assert (a.get("statistic") is None) == bool(percentile), name
            if percentile:
                assert percentile.startswith("p") and a.get("evaluateLowSampleCountPercentiles") == "ignore", name
            assert a.get("period") == 60, name
            continue
        queries = a.get("metricQueries")
        assert a.get("namespace") is None, name  # math alarms carry queries only
        assert len([q for q in queries if q.get("returnData")]) == 1, name
        stats = [q for q in queries if "metric" in q]
        assert len(stats) <= 10, name  # CloudWatch: a math alarm references at most 10 metrics
        assert all(q["metric"]["period"] == 60 and q["returnData"] is False for q in stats), name


def test_every_alarm_notifies_the_topic_on_alarm_and_on_ok(obs: Plan) -> None:
    topic = obs.export_value("alarmTopicArn")
    assert topic == f"arn:aws:sns:us-east-1:123456789012:catalog-alarms-{SUFFIX}"
    for r in [*obs.of_type(ALARM), *obs.of_type(COMPOSITE)]:
        assert r.get("alarmActions") == [topic], r.name
        assert r.get("okActions") == [topic], r.name
        description = r.get("alarmDescription")
        assert 40 <= len(description) <= 1024, r.name  # AlarmDescription: up to 1024 characters
        # each says what to do, not only what happened
        assert any(verb in description.lower() for verb in ("check", "raise", "run ", "open", "look", "compare",
                                                             "roll")), r.name


def test_alarm_evaluation_fits_cloudwatch_limits(obs: Plan) -> None:
    for a in obs.of_type(ALARM):
        assert 1 <= a.get("datapointsToAlarm") <= a.get("evaluationPeriods"), a.name
        assert a.get("evaluationPeriods") * 60 <= 86_400, a.name
        # The settings' 3 of 5, but "queue stops draining": 3 consecutive minutes (3 of 3), as its rule says.
        expected = (3, 3) if a.name == "waiting-room-not-draining" else (3, 5)
        assert (a.get("datapointsToAlarm"), a.get("evaluationPeriods")) == expected, a.name


def test_every_alarmed_metric_is_in_the_api_contract_or_the_aws_table(obs: Plan) -> None:
    known = CONTRACT.known()
    for a in obs.of_type(ALARM):
        metrics = [q["metric"] for q in a.get("metricQueries") or [] if "metric" in q] or [
            {"namespace": a.get("namespace"), "metricName": a.get("metricName"), "dimensions": a.get("dimensions")}]
        for m in metrics:
            assert m["metricName"] in known[m["namespace"]], (a.name, m)
            assert frozenset(m["dimensions"]) in known[m["namespace"]][m["metricName"]], (a.name, m)


def test_names_are_legal_unique_and_exported_with_the_composite_last(obs: Plan) -> None:
    names = [a.get("name") for a in obs.of_type(ALARM)] + [obs.one(COMPOSITE).get("alarmName")]
    assert len(set(names)) == len(names)
    for n in names:
        check_name(n, Service.ALARM)
        assert n.endswith(f"-{SUFFIX}")
    exported = obs.export_value("alarmNames")
    assert sorted(exported[:-1]) == sorted(names[:-1])  # resource registration order under mocks varies
    assert exported[-1] == names[-1] == f"catalog-degraded-{SUFFIX}"


def test_composite_degraded_alarm_ors_exactly_the_customer_facing_alarms(obs: Plan) -> None:
    rule = obs.one(COMPOSITE).get("alarmRule")
    parts = rule.split(" OR ")
    referenced = {p.removeprefix('ALARM("').removesuffix('")') for p in parts}
    assert all(p.startswith('ALARM("') and p.endswith('")') for p in parts)
    assert referenced == {name_of(k) for k in (
        "api-latency-p99", "api-error-rate", "alb-live-no-healthy", "alb-5xx-rate", "alb-latency-p99",
        "lambda-error-rate", "lambda-throttles", "apigw-5xx-rate", "apigw-latency-p99", "cloudfront-5xx-rate",
        "waiting-room-not-draining")}
    assert referenced <= set(alarms(obs))
    assert len(rule) <= 10_240  # AlarmRule limit


def test_thresholds_follow_config_and_upstream(plan_with, up: dict[str, Any]) -> None:
    plan = plan_with("observability", {"catalog-observability:proxyConnectionsAlarmPercent": "50",
                                       "catalog-observability:acuAlarmPercent": "75",
                                       "catalog-observability:latencySloMs": "300",
                                       "catalog-observability:alarmEvaluationPeriods": "3",
                                       "catalog-observability:alarmDatapointsToAlarm": "2"})
    planned = alarms(plan)
    assert planned[name_of("proxy-db-connections")].get("threshold") == pytest.approx(0.5 * up["proxyMaxConnections"])
    assert planned[name_of("aurora-writer-acu")].get("threshold") == pytest.approx(0.75 * up["maxAcu"])
    assert planned[name_of("alb-latency-p99")].get("threshold") == pytest.approx(0.3)
    assert planned[name_of("api-latency-p99")].get("threshold") == 300
    assert all((a.get("evaluationPeriods"), a.get("datapointsToAlarm")) == (3, 2) for n, a in planned.items()
               if n != name_of("waiting-room-not-draining"))
    slow = next(f for f in plan.of_type(FILTER) if f.get("metricTransformation", "name") == "SlowRequests")
    assert "$.durationMs > 300" in slow.get("pattern")


def test_topic_key_lets_cloudwatch_encrypt_and_rotates(obs: Plan) -> None:
    key = obs.one("aws:kms/key:Key")
    assert key.get("enableKeyRotation") is True and key.get("deletionWindowInDays") == 7
    policy = json.loads(key.get("policy"))
    cw = [s for s in policy["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(cw) == 1 and cw[0]["Effect"] == "Allow"
    assert set(cw[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert "Condition" not in cw[0]  # the documented statement; the topic policy holds the conditions
    root = [s for s in policy["Statement"] if s["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}]
    assert len(root) == 1 and "kms:PutKeyPolicy" in root[0]["Action"]  # the account can always manage its key
    assert not any(a.endswith(":*") or a == "*" for s in policy["Statement"] for a in s["Action"])
    alias = obs.one("aws:kms/alias:Alias")
    assert alias.get("name") == f"alias/catalog-alarms-{SUFFIX}"


def test_topic_is_encrypted_with_that_key_and_cloudwatch_may_publish(obs: Plan) -> None:
    from shared.plan.computed import computed_state

    key = obs.one("aws:kms/key:Key")
    key_arn = computed_state(key.type, key.name, key.inputs)[1]["arn"]
    topic = obs.one("aws:sns/topic:Topic")
    assert topic.get("kmsMasterKeyId") == key_arn
    assert "alias/aws/sns" not in json.dumps(obs.to_json())  # the AWS managed key would deliver nothing
    policy = obs.one("aws:sns/topicPolicy:TopicPolicy")
    arn = obs.export_value("alarmTopicArn")
    assert policy.get("arn") == arn
    doc = json.loads(policy.get("policy"))
    cw = [s for s in doc["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(cw) == 1 and cw[0]["Action"] == "sns:Publish" and cw[0]["Resource"] == arn
    assert cw[0]["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert cw[0]["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*"
    assert all(s["Resource"] == arn for s in doc["Statement"])


def test_no_subscription_by_default_and_one_email_subscription_per_address(obs: Plan, plan_with) -> None:
    assert obs.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    plan = plan_with("observability", {"catalog-observability:alarmEmails": '["ops@example.com", "sre@example.org"]'})
    subs = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert sorted(s.get("endpoint") for s in subs) == ["ops@example.com", "sre@example.org"]
    assert {s.get("protocol") for s in subs} == {"email"}
    assert {s.get("topic") for s in subs} == {plan.export_value("alarmTopicArn")}


def test_log_metric_filters_follow_the_api_contract(obs: Plan, up: dict[str, Any]) -> None:
    f, e = CONTRACT.log_fields, CONTRACT.log_events
    filters = {r.get("metricTransformation", "name"): r for r in obs.of_type(FILTER)}
    assert set(filters) == set(LOG_METRICS.values())
    for r in filters.values():
        assert r.get("logGroupName") == up["logGroupName"]
        assert r.get("metricTransformation", "namespace") == f"{CONTRACT.namespace}/Logs"
        assert r.get("metricTransformation", "value") == "1"
    assert filters["LoggedErrors"].get("pattern") == f'{{ $.{f["level"]} = "ERROR" || $.{f["level"]} = "CRITICAL" }}'
    assert filters["SlowRequests"].get("pattern") == (
        f'{{ ($.{f["event"]} = "{e["request"]}") && ($.{f["durationMs"]} > 200) }}')
    assert filters["SoldOutReservations"].get("pattern") == f'{{ $.{f["event"]} = "{e["soldOut"]}" }}'


def test_saved_queries_for_errors_slow_requests_and_sold_out(obs: Plan, up: dict[str, Any]) -> None:
    queries = {r.get("name").rsplit("/", 1)[-1]: r for r in obs.of_type(QUERY)}
    assert set(queries) == {"errors", "slow requests (over 200 ms)", "sold-out reservations"}
    for q in queries.values():
        assert q.get("logGroupNames") == [up["logGroupName"]]
        assert q.get("name").startswith(f"catalog-queries-{SUFFIX}/")
    assert 'durationMs > 200' in queries["slow requests (over 200 ms)"].get("queryString")
    assert '"reservation.sold_out"' in queries["sold-out reservations"].get("queryString")


def test_taggable_resources_carry_the_layer_tags(obs: Plan) -> None:
    for r in obs.custom_resources():
        if is_taggable(r.type):
            assert r.get("tags", "Layer") == "observability", r.name
            assert r.get("tags", "Environment") == SUFFIX, r.name


def test_upstream_reads_are_exactly_the_declared_ones(obs: Plan) -> None:
    reads = {(p, o) for c, p, o in obs.reads if c == "observability"}
    assert reads == {("network", "vpcId"), ("network", "privateSubnetIds"), ("network", "defaultNetworkAclId")} | {
        ("data", o) for o in ("clusterId", "clusterArn", "writerInstanceId", "maxAcu", "proxyName",
                              "proxyMaxConnections", "sessionsTableName", "cacheTableName")
    } | {
        ("app", o) for o in ("functionName", "functionArn", "aliasName", "logGroupName", "metricsService",
                             "provisionedConcurrencyMin", "provisionedConcurrencyMax", "albArnSuffix",
                             "targetGroupArnSuffixes", "apiName", "apiStageName",
                             "apiWebAclMetricName", "apiWebAclRuleMetricNames", "faultConfigLocation",
                             "waitingRoomFunctionName", "waitingRoomStartsAt")
    } | {("edge", o) for o in ("distributionId", "viewerRequestFunctionName", "originResponseFunctionName",
                               "webAclMetricName", "webAclRuleMetricNames")}


def test_the_aws_table_only_names_documented_namespaces() -> None:
    assert set(AWS_METRICS) == {"AWS/ApplicationELB", "AWS/Lambda", "AWS/RDS", "AWS/ApiGateway", "AWS/CloudFront",
                                "AWS/DynamoDB", "AWS/WAFV2"}
    assert all(sets for metrics in AWS_METRICS.values() for sets in metrics.values())


def test_target_health_alarms_rest_on_the_app_enabling_health_checks(chain: dict[str, Plan],
                                                                    up: dict[str, Any]) -> None:
    """HealthyHostCount exists for Lambda targets only with health checks on: `breaching` on missing data needs it."""
    groups = chain["app"].of_type("aws:lb/targetGroup:TargetGroup")
    assert {g.get("name") for g in groups} == {s.split("/")[1] for s in up["targetGroupArnSuffixes"].values()}
    assert all(g.get("targetType") == "lambda" and g.get("healthCheck", "enabled") is True for g in groups)
