"""App layer under mocks: the ALB (origin header, sticky live/canary forwarding, target groups) and API Gateway."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.declarations import outputs_of
from shared.plan.computed import computed_state
from shared.plan.planner import Plan, Resource
from shared.runtime.naming import Service, check_name
from tests.conftest import ORIGIN_VERIFY, SUFFIX

LB = "aws:lb/loadBalancer:LoadBalancer"
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
PERMISSION = "aws:lambda/permission:Permission"
ATTACHMENT = "aws:lb/targetGroupAttachment:TargetGroupAttachment"
METHOD = "aws:apigateway/method:Method"
FN_NAME = f"catalog-api-{SUFFIX}"
ALIAS_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FN_NAME}"


@pytest.fixture(scope="module")
def app(chain: dict[str, Plan]) -> Plan:
    return chain["app"]


def outputs(r: Resource) -> dict[str, Any]:
    return computed_state(r.type, r.name, r.inputs)[1]


def tg_arns(plan: Plan) -> dict[str, str]:
    return {r.name.removeprefix("tg-"): outputs(r)["arn"] for r in plan.of_type(TG)}


CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
PUBLIC = {"catalog-app:originMode": "public-https", "catalog-app:certificateArn": CERT,
          "catalog-app:originDomain": "api-origin.example.com"}


@pytest.fixture(scope="module")
def public(plan_with) -> Plan:
    """originMode=public-https: the mission's internet-facing ALB, HTTPS only, behind the origin-verify header."""
    return plan_with("app", PUBLIC)


def test_alb_is_internal_in_private_subnets_behind_the_cloudfront_http_group(app: Plan,
                                                                             chain: dict[str, Plan]) -> None:
    net, data = chain["network"], chain["data"]
    alb = app.one(LB)
    # Default: reached only through CloudFront's VPC origin (traffic stays on AWS's network).
    assert alb.get("internal") is True and alb.get("loadBalancerType") == "application"
    assert alb.get("subnets") == net.export_value("privateSubnetIds")
    assert alb.get("securityGroups") == [net.export_value("albHttpSecurityGroupId")]
    assert alb.get("dropInvalidHeaderFields") is True
    assert alb.get("enableDeletionProtection") is False
    assert alb.get("accessLogs") == {"bucket": data.export_value("logsBucketName"), "prefix": "alb", "enabled": True}


def test_public_mode_alb_is_internet_facing_in_public_subnets_https_only(public: Plan,
                                                                       chain: dict[str, Plan]) -> None:
    net = chain["network"]
    alb = public.one(LB)
    assert alb.get("internal") is False
    assert alb.get("subnets") == net.export_value("publicSubnetIds")
    assert alb.get("securityGroups") == [net.export_value("albHttpsSecurityGroupId")]
    assert [(li.get("port"), li.get("protocol")) for li in public.of_type(LISTENER)] == [(443, "HTTPS")]


def test_alb_and_target_group_names_fit_32_characters_with_the_longest_suffix(app: Plan) -> None:
    logical = [r.name for r in app.resources]
    assert len(logical) == len(set(logical))  # by_name() and the order checks rely on unique logical names
    # Registration order of independent resources is not fixed: compare target group names as a set.
    names = [app.one(LB).get("name"), *sorted(r.get("name") for r in app.of_type(TG))]
    assert names == [f"catalog-api-{SUFFIX}", f"catalog-canary-{SUFFIX}", f"catalog-live-{SUFFIX}"]
    check_name(names[0], Service.ALB)
    for name in names:
        assert len(name) <= 32 and name.endswith(SUFFIX)
        check_name(name, Service.TARGET_GROUP)


def test_lambda_target_groups_have_health_checks_and_no_stickiness_attribute(app: Plan) -> None:
    groups = app.of_type(TG)
    assert len(groups) == 2
    for tg in groups:
        assert tg.get("targetType") == "lambda"
        assert tg.get("lambdaMultiValueHeadersEnabled") is True
        assert "stickiness" not in tg.inputs  # lb_cookie/app_cookie fail on Lambda target groups
        assert not {"port", "protocol", "vpcId"} & set(tg.inputs)  # not for Lambda targets
        hc = tg.get("healthCheck")
        assert hc["enabled"] is True and hc["path"] == "/health" and hc["matcher"] == "200"
        assert (hc["interval"], hc["timeout"]) == (5, 2) and hc["timeout"] < hc["interval"]


def test_each_alias_has_an_alb_permission_registered_before_its_attachment(app: Plan) -> None:
    arns = tg_arns(app)
    order = [r.name for r in app.resources]
    for alias in ("live", "canary"):
        permission = app.one(PERMISSION, f"alb-invoke-{alias}")
        assert permission.get("action") == "lambda:InvokeFunction"
        assert permission.get("principal") == "elasticloadbalancing.amazonaws.com"
        assert permission.get("function") == FN_NAME and permission.get("qualifier") == alias
        assert permission.get("sourceArn") == arns[alias]
        attachment = app.one(ATTACHMENT, f"tg-{alias}-attachment")
        assert attachment.get("targetGroupArn") == arns[alias]
        assert attachment.get("targetId") == f"{ALIAS_ARN}:{alias}"
        # The attachment declares depends_on the permission (the planner records resource options), and
        # under mocks a resource registers only after its dependencies, so the order shows it too.
        assert permission.name in attachment.options["dependsOn"]
        assert order.index(permission.name) < order.index(attachment.name)


def rules(plan: Plan) -> dict[str, Resource]:
    return {r.name: r for r in plan.of_type(RULE)}


def test_path_rules_forward_sticky_across_live_and_canary_without_a_shared_secret(app: Plan) -> None:
    listener = app.one(LISTENER)
    assert (listener.get("port"), listener.get("protocol")) == (80, "HTTP")  # internal ALB only
    default = listener.get("defaultActions")[0]
    assert default["type"] == "fixed-response" and default["fixedResponse"]["statusCode"] == "404"
    assert json.loads(default["fixedResponse"]["messageBody"])["status"] == 404
    listener_arn = outputs(listener)["arn"]
    found = rules(app)
    arns = tg_arns(app)
    assert set(found) == {"forward-api", "forward-health"}  # no header, no 403 rule: only CloudFront reaches it
    for name, priority, path in (("forward-api", 10, ["/api/*"]), ("forward-health", 20, ["/health*"])):
        rule = found[name]
        assert rule.get("listenerArn") == listener_arn and rule.get("priority") == priority
        assert rule.get("conditions") == [{"pathPattern": {"values": path}}]
        (action,) = rule.get("actions")
        assert action["forward"]["stickiness"] == {"enabled": True, "duration": 3600}
        assert {tg["arn"]: tg["weight"] for tg in action["forward"]["targetGroups"]} == {
            arns["live"]: 100, arns["canary"]: 0}


def test_public_path_rules_forward_only_with_the_origin_header(public: Plan) -> None:
    listener = public.one(LISTENER)
    assert (listener.get("port"), listener.get("protocol")) == (443, "HTTPS")
    listener_arn = outputs(listener)["arn"]
    found = rules(public)
    paths = {}
    for name, priority in (("forward-api", 10), ("forward-health", 20)):
        rule = found[name]
        assert rule.get("listenerArn") == listener_arn and rule.get("priority") == priority
        conditions = rule.get("conditions")
        header = next(c["httpHeader"] for c in conditions if "httpHeader" in c)
        assert header == {"httpHeaderName": "x-origin-verify", "values": [ORIGIN_VERIFY]}
        paths[name] = next(c["pathPattern"]["values"] for c in conditions if "pathPattern" in c)
        assert "conditions" in rule.inputs and "$secret" in rule.inputs["conditions"]  # the value stays secret
    assert paths == {"forward-api": ["/api/*"], "forward-health": ["/health*"]}
    deny = found["deny-without-origin-header"]
    assert deny.get("priority") > 20 and deny.get("listenerArn") == listener_arn
    assert deny.get("conditions") == [{"pathPattern": {"values": ["/api/*", "/health*"]}}]
    assert deny.get("actions")[0]["fixedResponse"]["statusCode"] == "403"


def test_canary_weight_and_certificate_add_weighted_https_routing(plan_with) -> None:
    cert = CERT
    # A certificate on the internal ALB: HTTPS only there too, and the VPC origin uses https-only.
    plan = plan_with("app", {"catalog-app:canaryWeight": "10", "catalog-app:certificateArn": cert,
                             "catalog-app:originDomain": "api-origin.example.com",
                             "catalog-app:stickinessSeconds": "600"})
    listeners = {r.get("port"): r for r in plan.of_type(LISTENER)}
    assert set(listeners) == {443}
    https = listeners[443]
    assert https.get("protocol") == "HTTPS" and https.get("certificateArn") == cert
    assert https.get("sslPolicy") == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    origin = plan.one("aws:cloudfront/vpcOrigin:VpcOrigin").get("vpcOriginEndpointConfig")
    assert origin["originProtocolPolicy"] == "https-only" and plan.export_value("originProtocol") == "https"
    https_arn = outputs(https)["arn"]
    arns = tg_arns(plan)
    for rule in rules(plan).values():
        assert rule.get("listenerArn") == https_arn
    forward = rules(plan)["forward-api"].get("actions")[0]["forward"]
    assert {tg["arn"]: tg["weight"] for tg in forward["targetGroups"]} == {arns["live"]: 90, arns["canary"]: 10}
    assert forward["stickiness"]["duration"] == 600


def test_rest_api_requires_keys_on_api_paths_and_proxies_to_live(app: Plan) -> None:
    api = app.one("aws:apigateway/restApi:RestApi")
    assert api.get("endpointConfiguration", "types") == "REGIONAL"
    methods = {m.name: m for m in app.of_type(METHOD)}
    assert methods["route-health-get"].get("httpMethod") == "GET"
    assert methods["route-health-get"].get("apiKeyRequired") is False
    assert methods["route-proxy-any"].get("httpMethod") == "ANY"
    assert methods["route-proxy-any"].get("apiKeyRequired") is True
    resources = {r.name: r.get("pathPart") for r in app.of_type("aws:apigateway/resource:Resource")}
    assert resources == {"api-prefix": "api", "route-health": "health", "route-proxy": "{proxy+}"}
    live_invoke = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{ALIAS_ARN}:live/invocations"
    for integration in app.of_type("aws:apigateway/integration:Integration"):
        assert integration.get("type") == "AWS_PROXY" and integration.get("integrationHttpMethod") == "POST"
        assert integration.get("uri") == live_invoke
    permission = app.one(PERMISSION, "apigw-invoke-live")
    assert permission.get("principal") == "apigateway.amazonaws.com"
    assert permission.get("qualifier") == "live" and permission.get("function") == FN_NAME
    assert permission.get("sourceArn") == f"{outputs(api)['executionArn']}/*/*"
    deployment = app.one("aws:apigateway/deployment:Deployment")
    assert len(deployment.get("triggers", "redeployment")) == 64
    order = [r.name for r in app.resources]
    assert max(order.index(n) for n in methods) < order.index(deployment.name)


def test_stage_logs_traces_and_throttles_at_10000_rps(app: Plan) -> None:
    stage = app.one("aws:apigateway/stage:Stage")
    assert stage.get("stageName") == "v1" and stage.get("xrayTracingEnabled") is True
    group = app.by_name("api-access-logs")
    assert stage.get("accessLogSettings", "destinationArn") == outputs(group)["arn"]
    assert json.loads(stage.get("accessLogSettings", "format"))["requestId"] == "$context.requestId"
    settings = app.one("aws:apigateway/methodSettings:MethodSettings")
    assert settings.get("methodPath") == "*/*" and settings.get("stageName") == "v1"
    assert settings.get("settings") == {"metricsEnabled": True, "throttlingRateLimit": 10000,
                                        "throttlingBurstLimit": 5000}
    plan = app.one("aws:apigateway/usagePlan:UsagePlan")
    assert plan.get("throttleSettings") == {"rateLimit": 10000, "burstLimit": 5000}
    assert plan.get("apiStages") == [{"apiId": app.export_value("apiId"), "stage": "v1"}]
    key = app.one("aws:apigateway/apiKey:ApiKey")
    assert key.get("enabled") is True
    link = app.one("aws:apigateway/usagePlanKey:UsagePlanKey")
    assert link.get("keyType") == "API_KEY" and link.get("keyId") == app.export_value("apiKeyId")
    assert link.get("usagePlanId") == app.export_value("usagePlanId")
    assert not app.of_type("aws:apigateway/account:Account")  # opt-in: a regional singleton


def test_api_gateway_account_role_is_opt_in(plan_with) -> None:
    plan = plan_with("app", {"catalog-app:manageApiGatewayAccount": "true"})
    account = plan.one("aws:apigateway/account:Account")
    role = plan.by_name("apigw-cloudwatch-role")
    assert account.get("cloudwatchRoleArn") == outputs(role)["arn"]
    trust = json.loads(role.get("assumeRolePolicy"))["Statement"][0]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    attach = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attach.get("policyArn").endswith("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
    order = [r.name for r in plan.resources]
    assert order.index("apigw-account") < order.index("api-stage")


def test_exports_match_the_contract_and_secrets_stay_secret(app: Plan) -> None:
    assert set(app.exports) == set(outputs_of("app"))
    assert app.secret_exports == {"apiKeyValue", "originVerifyHeaderValue"}
    assert app.export_value("originVerifyHeaderName") == "x-origin-verify"
    assert app.export_value("originVerifyHeaderValue") == ""  # VPC origin: no shared secret in use
    assert (app.export_value("originMode"), app.export_value("originProtocol")) == ("vpc-origin", "http")
    assert app.export_value("vpcOriginId")
    suffixes = app.export_value("targetGroupArnSuffixes")
    assert set(suffixes) == {"live", "canary"}
    assert all(s.startswith("targetgroup/catalog-") for s in suffixes.values())
    assert app.export_value("albArnSuffix").startswith(f"app/catalog-api-{SUFFIX}/")
    assert app.export_value("apiStageName") == "v1"
    assert app.export_value("apiInvokeUrl").endswith("/v1")
