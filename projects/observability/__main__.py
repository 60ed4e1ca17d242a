"""Observability layer (owner: operations): alarm topic, alarms, log signals and the flash-sale dashboard.

Everything it watches comes from the upstream layers' exports and the API's metric contract: no physical name of
another layer is written here.
"""

from typing import Any

import pulumi
import pulumi_aws as aws

from projects.observability.alarm_specs import Targets, build_specs
from projects.observability.alarms import Alarms, AlarmsArgs
from projects.observability.dashboard import Dashboard, DashboardArgs, DashboardInputs
from projects.observability.logs import LogInsights, LogInsightsArgs
from projects.observability.metrics import load_contract
from projects.observability.topic import AlarmTopic, AlarmTopicArgs
from shared import REGION
from shared.errors import ConfigError, ContractError
from shared.naming import Service
from shared.program import start_layer

ctx = start_layer("observability")
settings = ctx.settings
contract = load_contract()
TARGET_GROUP_KEYS = ("live", "canary")  # app contract: targetGroupArnSuffixes = {live, canary}

region = aws.get_region().region
if region != REGION:
    # CloudFront metrics exist only in us-east-1 and an alarm may only notify a topic of its own Region.
    raise ConfigError(f"aws:region is {region}; the observability layer runs in {REGION}", f"set aws:region={REGION}")
account_id = aws.get_caller_identity().account_id

data = {k: ctx.require("data", k) for k in ("clusterId", "writerInstanceId", "maxAcu", "proxyName",
                                            "proxyMaxConnections", "sessionsTableName", "cacheTableName")}
app = {k: ctx.require("app", k) for k in (
    "functionName", "aliasName", "logGroupName", "metricsService", "provisionedConcurrencyMin",
    "provisionedConcurrencyMax", "albArnSuffix", "targetGroupArnSuffixes", "apiName", "apiStageName")}
edge = {k: ctx.require("edge", k) for k in ("distributionId", "viewerRequestFunctionName",
                                            "originResponseFunctionName")}


def target_group(key: str) -> pulumi.Output[str]:
    def pick(groups: dict[str, Any]) -> str:
        if key not in groups:
            raise ContractError(f"app export targetGroupArnSuffixes has no {key!r} entry ({sorted(groups)})",
                                "the app layer exports {live, canary}; see shared/contracts/app.py")
        return groups[key]

    return app["targetGroupArnSuffixes"].apply(pick)


target_groups = {key: target_group(key) for key in TARGET_GROUP_KEYS}
tables = {"sessions": data["sessionsTableName"], "cache": data["cacheTableName"]}

topic = AlarmTopic("alarm-topic", AlarmTopicArgs(
    topic_name=ctx.name("alarms", Service.SNS_TOPIC), key_alias=ctx.name("alarms", Service.KMS_ALIAS),
    account_id=account_id, region=region, emails=settings.alarm_emails))

specs = build_specs(Targets(
    function_name=app["functionName"],
    function_resource=pulumi.Output.concat(app["functionName"], ":", app["aliasName"]),
    metrics_service=app["metricsService"],
    alb_arn_suffix=app["albArnSuffix"], target_groups=target_groups, api_name=app["apiName"],
    api_stage=app["apiStageName"], distribution_id=edge["distributionId"], cluster_id=data["clusterId"],
    writer_instance_id=data["writerInstanceId"], max_acu=data["maxAcu"], proxy_name=data["proxyName"],
    proxy_max_connections=data["proxyMaxConnections"], tables=tables), settings, contract)
alarms = Alarms("alarms", AlarmsArgs(specs=specs, topic_arn=topic.topic.arn,
                                     name=lambda kind: ctx.name(kind, Service.ALARM)))

LogInsights("log-insights", LogInsightsArgs(log_group_name=app["logGroupName"], contract=contract,
                                            slow_ms=settings.latency_slo_ms, name=ctx.name))

inputs = pulumi.Output.all(
    *data.values(), *app.values(), *edge.values(), *target_groups.values()
).apply(lambda values: dict(zip([*data, *app, *edge, *(f"tg:{k}" for k in target_groups)], values, strict=True)))
dashboard = Dashboard("dashboard", DashboardArgs(
    dashboard_name=ctx.name("flash-sale", Service.DASHBOARD),
    inputs=inputs.apply(lambda v: DashboardInputs(
        function_name=v["functionName"], alias_name=v["aliasName"], pc_min=v["provisionedConcurrencyMin"],
        pc_max=v["provisionedConcurrencyMax"], metrics_service=v["metricsService"],
        log_group_name=v["logGroupName"], alb_arn_suffix=v["albArnSuffix"],
        target_groups={k: v[f"tg:{k}"] for k in TARGET_GROUP_KEYS}, api_name=v["apiName"],
        api_stage=v["apiStageName"], distribution_id=v["distributionId"],
        viewer_request_function=v["viewerRequestFunctionName"],
        origin_response_function=v["originResponseFunctionName"], cluster_id=v["clusterId"],
        writer_instance_id=v["writerInstanceId"], max_acu=v["maxAcu"], proxy_name=v["proxyName"],
        proxy_max_connections=v["proxyMaxConnections"],
        tables={"sessions": v["sessionsTableName"], "cache": v["cacheTableName"]})),
    settings=settings, contract=contract))

ctx.export({
    "alarmTopicArn": topic.topic.arn,
    "dashboardName": dashboard.dashboard.dashboard_name,
    "dashboardUrl": dashboard.url,
    "alarmNames": alarms.names,
})
