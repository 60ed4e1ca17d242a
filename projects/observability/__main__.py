"""Observability layer (owner: operations): alarm topic, alarms, log signals and the flash-sale dashboard.

Everything it watches comes from the upstream layers' exports and the API's metric contract: no physical name of
another layer is written here.
"""

from typing import Any

import pulumi
import pulumi_aws as aws

from projects.observability.alarm_specs import Targets, WafTarget, build_specs, build_waf_specs
from projects.observability.alarms import Alarms, AlarmsArgs
from projects.observability.dashboard import Dashboard, DashboardArgs, DashboardInputs, WafPanel
from projects.observability.faults import FaultArgs, FaultExperiments, Network
from projects.observability.logs import LogInsights, LogInsightsArgs
from projects.observability.metrics import load_contract
from projects.observability.outputs import OUTPUTS
from projects.observability.sale_window import SaleAlarmsArgs, sale_alarms, sale_rows
from projects.observability.settings import NAMESPACE, Settings
from projects.observability.topic import AlarmTopic, AlarmTopicArgs
from projects.observability.upstream import AppView, DataView, EdgeView, NetworkView
from projects.observability.waiting_room import start_epoch
from shared.runtime import REGION
from shared.runtime.errors import ConfigError, ContractError
from shared.runtime.faults import FAULTS
from shared.runtime.naming import Service
from shared.runtime.program import start_layer
from shared.runtime.sale_windows import parse_observability_windows

ctx = start_layer("observability", Settings, OUTPUTS)
settings = ctx.settings
contract = load_contract()
TARGET_GROUP_KEYS = ("live", "canary")  # app contract: targetGroupArnSuffixes = {live, canary}

region = aws.get_region().region
if region != REGION:
    # CloudFront metrics exist only in us-east-1 and an alarm may only notify a topic of its own Region.
    raise ConfigError(f"aws:region is {region}; the observability layer runs in {REGION}", f"set aws:region={REGION}")
account_id = aws.get_caller_identity().account_id

network = ctx.read(NetworkView)
data = ctx.read(DataView)
app = ctx.read(AppView)
edge = ctx.read(EdgeView)


def target_group(key: str) -> pulumi.Output[str]:
    def pick(groups: dict[str, Any]) -> str:
        if key not in groups:
            raise ContractError(f"app export targetGroupArnSuffixes has no {key!r} entry ({sorted(groups)})",
                                "the app layer exports {live, canary}; see projects/app/outputs.py")
        return groups[key]

    return app.target_group_arn_suffixes.apply(pick)


target_groups = {key: target_group(key) for key in TARGET_GROUP_KEYS}
tables = {"sessions": data.sessions_table_name, "cache": data.cache_table_name}

topic = AlarmTopic("alarm-topic", AlarmTopicArgs(
    topic_name=ctx.name("alarms", Service.SNS_TOPIC), key_alias=ctx.name("alarms", Service.KMS_ALIAS),
    account_id=account_id, region=region, emails=settings.alarm_emails))

specs = build_specs(Targets(
    function_name=app.function_name,
    function_resource=pulumi.Output.concat(app.function_name, ":", app.alias_name),
    metrics_service=app.metrics_service,
    alb_arn_suffix=app.alb_arn_suffix, target_groups=target_groups, api_name=app.api_name,
    api_stage=app.api_stage_name, distribution_id=edge.distribution_id, cluster_id=data.cluster_id,
    writer_instance_id=data.writer_instance_id, max_acu=data.max_acu, proxy_name=data.proxy_name,
    proxy_max_connections=data.proxy_max_connections, tables=tables,
    waiting_room_function=app.waiting_room_function_name,
    waiting_room_start=app.waiting_room_starts_at.apply(start_epoch)), settings, contract)
# AWS WAF: the distribution's ACL (CLOUDFRONT scope: no Region dimension) and the API Gateway stage's.
specs += build_waf_specs((WafTarget("edge", edge.web_acl_metric_name, None),
                          WafTarget("api", app.api_web_acl_metric_name, region)), settings, contract)
sale_windows = parse_observability_windows(settings.sale_windows, NAMESPACE)
sale_alarms("sale-alarms", SaleAlarmsArgs(
    windows=sale_windows, function_name=app.function_name, alias_name=app.alias_name, topic_arn=topic.topic.arn,
    name=lambda kind: ctx.name(kind, Service.ALARM)))
alarms = Alarms("alarms", AlarmsArgs(specs=specs, topic_arn=topic.topic.arn,
                                     name=lambda kind: ctx.name(kind, Service.ALARM)))

template_ids: pulumi.Input[dict[str, str]] = {}
if settings.fault_experiments:
    faults = tuple(settings.fault_experiments)
    needs_cluster = "aurora-failover" in faults
    needs_function = any(FAULTS[name].lambda_extension for name in faults)
    needs_network = any(FAULTS[name].network for name in faults)
    experiments = FaultExperiments("faults", FaultArgs(
        faults=faults, role_name=ctx.name("fault-injection", Service.IAM_ROLE), account_id=account_id,
        region=region, stop_alarm_arns=[alarms.composite.arn],
        cluster_arn=data.cluster_arn if needs_cluster else None,
        function_arn=app.function_arn if needs_function else None,
        config_location=app.fault_config_location,
        network=Network(network.vpc_id, network.private_subnet_ids, settings.fault_az_index,
                        network.default_network_acl_id) if needs_network else None,
        duration_minutes=settings.fault_duration_minutes,
        invocation_percentage=settings.fault_invocation_percentage, delay_ms=settings.fault_delay_ms))
    template_ids = pulumi.Output.all(**{name: t.id for name, t in experiments.templates.items()})

LogInsights("log-insights", LogInsightsArgs(log_group_name=app.log_group_name, contract=contract,
                                            slow_ms=settings.latency_slo_ms, name=ctx.name))

def dashboard_inputs(v: dict[str, Any]) -> DashboardInputs:
    wafs = (WafPanel("CloudFront web ACL", v.pop("edge_acl"), tuple(v.pop("edge_acl_rules")), None),
            WafPanel("API Gateway web ACL", v.pop("api_acl"), tuple(v.pop("api_acl_rules")), region))
    return DashboardInputs(
        target_groups={k: v.pop(f"tg_{k}") for k in TARGET_GROUP_KEYS},
        tables={"sessions": v.pop("sessions_table"), "cache": v.pop("cache_table")}, wafs=wafs, **v)


inputs = pulumi.Output.all(
    function_name=app.function_name, alias_name=app.alias_name, pc_min=app.provisioned_concurrency_min,
    pc_max=app.provisioned_concurrency_max, metrics_service=app.metrics_service, log_group_name=app.log_group_name,
    alb_arn_suffix=app.alb_arn_suffix, api_name=app.api_name, api_stage=app.api_stage_name,
    distribution_id=edge.distribution_id, viewer_request_function=edge.viewer_request_function_name,
    origin_response_function=edge.origin_response_function_name, cluster_id=data.cluster_id,
    writer_instance_id=data.writer_instance_id, max_acu=data.max_acu, proxy_name=data.proxy_name,
    proxy_max_connections=data.proxy_max_connections, sessions_table=data.sessions_table_name,
    cache_table=data.cache_table_name, **{f"tg_{k}": target_groups[k] for k in TARGET_GROUP_KEYS},
    edge_acl=edge.web_acl_metric_name, edge_acl_rules=edge.web_acl_rule_metric_names,
    api_acl=app.api_web_acl_metric_name, api_acl_rules=app.api_web_acl_rule_metric_names,
    waiting_room_function=app.waiting_room_function_name,
).apply(dashboard_inputs)
dashboard = Dashboard("dashboard", DashboardArgs(
    dashboard_name=ctx.name("flash-sale", Service.DASHBOARD),
    inputs=inputs,
    settings=settings, contract=contract, extra_rows=sale_rows(sale_windows)))

ctx.export({
    "alarmTopicArn": topic.topic.arn,
    "dashboardName": dashboard.dashboard.dashboard_name,
    "dashboardUrl": dashboard.url,
    "alarmNames": alarms.names,
    "faultExperimentTemplateIds": template_ids,
})
