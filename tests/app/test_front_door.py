"""The flash-sale front door, under mocks with the longest legal suffix: the CloudFront (global) and
API Gateway (regional) web ACLs, their rules with the configured numbers, the stage association, WAF logging,
and what observability watches (dashboard row, blocked-surge alarms routed to the alarm topic)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.plan.computed import computed_state
from shared.plan.planner import Plan, Resource
from shared.runtime.naming import Service, check_name
from tests.conftest import SUFFIX

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
CUSTOM = {"catalog-edge:wafRateLimit": "1200", "catalog-edge:wafReservationRateLimit": "30",
          "catalog-edge:wafEvaluationWindowSeconds": "120", "catalog-edge:wafBotControl": "true",
          "catalog-edge:logRetentionDays": "90"}


def computed(r: Resource, key: str) -> Any:
    return computed_state(r.type, r.name, r.inputs)[1][key]


def rules_by_name(acl: Resource) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in acl.get("rules")}


@pytest.fixture(scope="module")
def edge(chain: dict[str, Plan]) -> Plan:
    return chain["edge"]


@pytest.fixture(scope="module")
def custom(plan_with: Callable[..., Plan]) -> Plan:
    return plan_with("edge", CUSTOM)


# --- CloudFront (global) web ACL -------------------------------------------------------------------------------

def test_edge_acl_is_cloudfront_scope_in_us_east_1_and_named_with_the_suffix(edge: Plan) -> None:
    acl = edge.one(WEB_ACL)
    assert acl.get("scope") == "CLOUDFRONT" and acl.get("defaultAction") == {"allow": {}}
    assert acl.get("name") == f"catalog-edge-{SUFFIX}"
    check_name(acl.get("name"), Service.WAF_WEB_ACL)
    for r in (acl, edge.one(LOGGING), edge.one(LOG_GROUP, "edge-waf-logs")):
        assert r.provider.split("::")[-2] == "us-east-1", r.name  # CLOUDFRONT scope exists only there
    assert edge.one("aws:cloudfront/distribution:Distribution").get("webAclId") == computed(acl, "arn")
    assert ":global/webacl/" in computed(acl, "arn")


def test_acl_descriptions_and_label_names_match_the_wafv2_patterns(chain: dict[str, Plan]) -> None:
    import re

    from shared.runtime.waf import DESCRIPTION

    label = re.compile(r"^[0-9A-Za-z_\-:]+$")  # wafv2 LabelName / LabelMatchKey
    for layer in ("edge", "app"):
        acl = chain[layer].one(WEB_ACL)
        assert DESCRIPTION.match(acl.get("description")), acl.get("description")
        for rule in acl.get("rules"):
            for name in (r["name"] for r in rule.get("ruleLabels") or []):
                assert label.match(name), name


def test_edge_acl_rules_and_numbers(edge: Plan) -> None:
    rules = rules_by_name(edge.one(WEB_ACL))
    assert list(rules) == ["AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
                           "AWSManagedRulesKnownBadInputsRuleSet", "rate-ip", "rate-reservations",
                           "throttle-api", "throttle-site"]  # no Bot Control by default: priced per request
    assert [r["priority"] for r in rules.values()] == list(range(len(rules)))
    for group in list(rules)[:3]:
        assert rules[group]["statement"] == {"managedRuleGroupStatement": {"vendorName": "AWS", "name": group}}
        assert rules[group]["overrideAction"] == {"none": {}}
    ip = rules["rate-ip"]["statement"]["rateBasedStatement"]
    assert ip == {"aggregateKeyType": "IP", "limit": 600, "evaluationWindowSec": 60}
    res = rules["rate-reservations"]["statement"]["rateBasedStatement"]
    assert (res["aggregateKeyType"], res["limit"], res["evaluationWindowSec"]) == ("IP", 60, 60)
    method, path = res["scopeDownStatement"]["andStatement"]["statements"]
    assert method["byteMatchStatement"]["searchString"] == "POST"
    assert method["byteMatchStatement"]["fieldToMatch"] == {"method": {}}
    assert path["regexMatchStatement"]["regexString"] == r"^/api/products/[^/]+/reservations$"
    # Rate rules count and label; the throttle rules answer by path.
    for name in ("rate-ip", "rate-reservations"):
        assert rules[name]["action"] == {"count": {}}
        assert rules[name]["ruleLabels"] == [{"name": f"catalog:rate:{name}"}]
    for r in rules.values():
        vis = r["visibilityConfig"]
        assert vis["cloudwatchMetricsEnabled"] and vis["metricName"] == f"catalog-edge-{SUFFIX}-{r['name']}"
        check_name(vis["metricName"], Service.WAF_WEB_ACL)


def test_over_the_limit_api_gets_json_429_and_the_site_gets_its_page(edge: Plan) -> None:
    acl = edge.one(WEB_ACL)
    rules = rules_by_name(acl)
    api = rules["throttle-api"]
    labels, prefix = api["statement"]["andStatement"]["statements"]
    assert {s["labelMatchStatement"]["key"] for s in labels["orStatement"]["statements"]} == {
        "catalog:rate:rate-ip", "catalog:rate:rate-reservations"}
    assert prefix["byteMatchStatement"] | {"textTransformations": None} == {
        "fieldToMatch": {"uriPath": {}}, "positionalConstraint": "STARTS_WITH", "searchString": "/api/",
        "textTransformations": None}
    block = api["action"]["block"]["customResponse"]
    assert block == {"responseCode": 429, "customResponseBodyKey": "throttled-json",
                     "responseHeaders": [{"name": "Retry-After", "value": "60"}]}
    site = rules["throttle-site"]["action"]["block"]["customResponse"]
    assert (site["responseCode"], site["customResponseBodyKey"]) == (429, "throttled-html")
    assert rules["throttle-site"]["priority"] > api["priority"]  # /api/* is answered first, as JSON
    bodies = {b["key"]: b for b in acl.get("customResponseBodies")}
    assert bodies["throttled-json"]["contentType"] == "APPLICATION_JSON"
    assert json.loads(bodies["throttled-json"]["content"])["error"] == "rate_limited"
    html = bodies["throttled-html"]
    assert html["contentType"] == "TEXT_HTML" and "Too many requests" in html["content"]
    assert len(html["content"].encode()) <= 4096  # WAF quota: custom response body size


def test_edge_acl_logs_to_an_aws_waf_logs_group_with_redaction(edge: Plan) -> None:
    group = edge.one(LOG_GROUP, "edge-waf-logs")
    assert group.get("name") == f"aws-waf-logs-catalog-edge-{SUFFIX}"
    check_name(group.get("name"), Service.WAF_LOG_GROUP)
    assert group.get("retentionInDays") == 30
    logging = edge.one(LOGGING)
    assert logging.get("resourceArn") == computed(edge.one(WEB_ACL), "arn")
    assert logging.get("logDestinationConfigs") == [computed(group, "arn")]
    assert logging.get("redactedFields") == [{"singleHeader": {"name": "authorization"}},
                                             {"singleHeader": {"name": "cookie"}}]
    assert edge.export_value("wafLogGroupName") == group.get("name")


def test_configured_numbers_and_bot_control_reach_the_plan(custom: Plan) -> None:
    acl = custom.one(WEB_ACL)
    rules = rules_by_name(acl)
    assert rules["rate-ip"]["statement"]["rateBasedStatement"]["limit"] == 1200
    assert rules["rate-reservations"]["statement"]["rateBasedStatement"]["limit"] == 30
    assert {r["statement"]["rateBasedStatement"]["evaluationWindowSec"]
            for r in rules.values() if "rateBasedStatement" in r["statement"]} == {120}
    assert rules["throttle-api"]["action"]["block"]["customResponse"]["responseHeaders"] == [
        {"name": "Retry-After", "value": "120"}]
    bot = rules["AWSManagedRulesBotControlRuleSet"]["statement"]["managedRuleGroupStatement"]
    assert bot["managedRuleGroupConfigs"] == [{"awsManagedRulesBotControlRuleSet": {"inspectionLevel": "COMMON"}}]
    assert custom.one(LOG_GROUP, "edge-waf-logs").get("retentionInDays") == 90


# --- API Gateway (regional) web ACL ----------------------------------------------------------------------------

def test_api_stage_has_a_regional_acl_with_its_rate_rule(chain: dict[str, Plan]) -> None:
    app = chain["app"]
    acl = app.one(WEB_ACL)
    assert acl.get("scope") == "REGIONAL" and acl.get("name") == f"catalog-api-{SUFFIX}"
    rules = rules_by_name(acl)
    assert rules["rate-ip"]["statement"]["rateBasedStatement"] == {
        "aggregateKeyType": "IP", "limit": 3000, "evaluationWindowSec": 60}
    assert "throttle-site" not in rules  # the stage serves only the API: every throttled answer is JSON
    assert rules["throttle-api"]["statement"] == {"labelMatchStatement": {"scope": "LABEL",
                                                                          "key": "catalog:rate:rate-ip"}}
    stage = app.one("aws:apigateway/stage:Stage")
    association = app.one(ASSOCIATION)
    assert association.get("resourceArn") == computed(stage, "arn")
    assert association.get("webAclArn") == computed(acl, "arn") == app.export_value("apiWebAclArn")
    group = app.one(LOG_GROUP, "api-waf-acl-logs")
    assert group.get("name") == f"aws-waf-logs-catalog-api-{SUFFIX}" and group.get("retentionInDays") == 30
    assert app.one(LOGGING).get("logDestinationConfigs") == [computed(group, "arn")]


def test_api_rate_limit_setting_reaches_the_plan(plan_with: Callable[..., Plan]) -> None:
    app = plan_with("app", {"catalog-app:apiWafRateLimit": "1500", "catalog-app:apiWafEvaluationWindowSeconds": "300"})
    statement = rules_by_name(app.one(WEB_ACL))["rate-ip"]["statement"]["rateBasedStatement"]
    assert (statement["limit"], statement["evaluationWindowSec"]) == (1500, 300)


# --- observability ---------------------------------------------------------------------------------------------

def test_blocked_surge_alarms_watch_both_acls_and_notify_the_topic(chain: dict[str, Plan]) -> None:
    obs = chain["observability"]
    topic = computed(obs.one("aws:sns/topic:Topic"), "arn")
    alarms = {a.get("name"): a for a in obs.of_type(ALARM) if "waf" in a.get("name")}
    assert set(alarms) == {f"catalog-waf-edge-blocked-surge-{SUFFIX}", f"catalog-waf-api-blocked-surge-{SUFFIX}"}
    edge_alarm = alarms[f"catalog-waf-edge-blocked-surge-{SUFFIX}"]
    api_alarm = alarms[f"catalog-waf-api-blocked-surge-{SUFFIX}"]
    for alarm in alarms.values():
        assert alarm.get("namespace") == "AWS/WAFV2" and alarm.get("metricName") == "BlockedRequests"
        assert alarm.get("statistic") == "Sum" and alarm.get("threshold") == 6000
        assert alarm.get("alarmActions") == [topic]
    # CLOUDFRONT-scope ACL metrics carry no Region dimension; the regional one does.
    assert edge_alarm.get("dimensions") == {"WebACL": chain["edge"].export_value("webAclMetricName"), "Rule": "ALL"}
    assert api_alarm.get("dimensions") == {"WebACL": chain["app"].export_value("apiWebAclMetricName"),
                                           "Rule": "ALL", "Region": "us-east-1"}


def test_dashboard_has_a_waf_row_by_action_and_by_rule(chain: dict[str, Plan]) -> None:
    obs = chain["observability"]
    body = json.loads(obs.one("aws:cloudwatch/dashboard:Dashboard").get("dashboardBody"))
    text = json.dumps(body)
    assert "AWS WAF (front door)" in text
    waf_metrics = [m for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]
                   if m and m[0] == "AWS/WAFV2"]
    names = {m[1] for m in waf_metrics}
    assert names == {"AllowedRequests", "BlockedRequests", "CountedRequests"}
    rule_dims = {m[m.index("Rule") + 1] for m in waf_metrics if "Rule" in m}
    assert "ALL" in rule_dims
    assert set(chain["edge"].export_value("webAclRuleMetricNames")) <= rule_dims
    assert set(chain["app"].export_value("apiWebAclRuleMetricNames")) <= rule_dims
