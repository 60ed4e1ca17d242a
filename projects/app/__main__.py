"""App layer (owner: product team): the Catalog API on Lambda (arm64 image, 3 GB, provisioned concurrency),
an ALB with sticky live/canary routing for CloudFront, and API Gateway with usage plans."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi
import pulumi_aws as aws

from projects.app.alb import ApiLoadBalancer, ApiLoadBalancerArgs
from projects.app.apigw import STAGE, RestApiFront, RestApiFrontArgs
from projects.app.fault_injection import config_location_problem, config_read_statements, fault_env
from projects.app.function import CANARY, LIVE, ApiFunction, ApiFunctionArgs
from projects.app.image import SOURCE_DIR, ApiImage, ApiImageArgs, image_env
from projects.app.outputs import OUTPUTS
from projects.app.policies import dbuser_arn, index_arns
from projects.app.sale_schedule import SaleScheduleArgs, sale_schedule
from projects.app.settings import IMAGE_URI, NAMESPACE, Settings
from projects.app.upstream import DataView, NetworkView
from projects.app.vpc_origin import ApiVpcOrigin, ApiVpcOriginArgs
from projects.app.waiting_room import WaitingRoomArgs, WaitingRoomController
from shared.runtime import REGION
from shared.runtime.errors import ConfigError
from shared.runtime.naming import Service, check_name
from shared.runtime.program import start_layer
from shared.runtime.sale_windows import parse_app_windows

# The database CA bundle inside the image: the Dockerfile's own DB_CA_BUNDLE when it sets one (so the two
# never disagree), else the path agreed with the API team.
DB_CA_BUNDLE = image_env("DB_CA_BUNDLE") or "/var/task/certs/global-bundle.pem"
DB_POOL_MAX = "2"  # one request at a time per execution environment (config.mjs)
METRICS_CONTRACT = SOURCE_DIR / "src" / "metrics-contract.json"
DEFAULT_METRICS_NAMESPACE = "CatalogApi"

ctx = start_layer("app", Settings, OUTPUTS)
settings = ctx.settings

# Refuse before any resource: on an internet-facing ALB the header value is what keeps it for CloudFront only.
if settings.internet_facing and settings.origin_verify_secret is None:
    raise ConfigError(f"{NAMESPACE}:originVerifySecret is not set",
                      f"run `invoke secrets --suffix {ctx.suffix}` to generate it")
account_id = aws.get_caller_identity().account_id
fault_location = config_location_problem(settings.fault_config_location, ctx.suffix, account_id) \
    if settings.fault_injection else None
if fault_location:
    raise ConfigError(f"{NAMESPACE}:faultConfigLocation: {fault_location}",
                      "set it to that location (the bucket is brought by the operator, see projects/app/README.md)")
if settings.image_uri is not None:
    image_account = IMAGE_URI.match(settings.image_uri)["account"]  # validate() proved it matches
    if image_account != account_id:
        raise ConfigError(f"{NAMESPACE}:imageUri is in account {image_account}, this stack deploys to {account_id}",
                          "use an image in this account's ECR in us-east-1 (Lambda pulls from its own account)")


def metrics_namespace() -> str:
    """The API's CloudWatch namespace from its metrics contract (the observability layer reads the same file)."""
    try:
        return str(json.loads(METRICS_CONTRACT.read_text())["namespace"])
    except (OSError, KeyError, ValueError):
        return DEFAULT_METRICS_NAMESPACE


def checked_origin_secret(value: str) -> str:
    # An ALB http-header condition value: at most 128 characters, where `*` and `?` are wildcards.
    if not (16 <= len(value) <= 128) or re.search(r"[*?]", value) or not value.isprintable():
        raise ConfigError(f"{NAMESPACE}:originVerifySecret is unusable as an ALB header match",
                          "16-128 printable characters without * or ?; `invoke secrets` makes one")
    return value


def port_text(port: object) -> str:
    """Stack references carry numbers as floats (5432.0); the API wants an integer."""
    value = float(str(port))
    if not value.is_integer() or not 1 <= value <= 65535:
        raise ConfigError(f"data output port = {port!r} is not a TCP port", "check the data layer's exports")
    return str(int(value))


function_name = ctx.name("api", Service.LAMBDA)
origin_secret = (pulumi.Output.secret(settings.origin_verify_secret).apply(checked_origin_secret)
                 if settings.internet_facing else None)
network = ctx.read(NetworkView)
data = ctx.read(DataView)

image = ApiImage("image", ApiImageArgs(
    repository_name=ctx.name("api", Service.ECR_REPOSITORY),
    function_name=function_name,
    account_id=account_id,
    prebuilt_uri=settings.image_uri,
    archive=Path(settings.image_archive) if settings.image_archive else None,
    fis_extension=((settings.fault_extension_layer_arn, settings.fault_extension_sha256)
                   if settings.fault_injection else None),
))
# The room as of this deploy: a room past its end (+ one pass lifetime) deploys as no room, schedule disabled.
room_window = settings.waiting_room_window()
environment: dict[str, pulumi.Input[str]] = {
    "DB_WRITER_HOST": data.proxy_endpoint,
    "DB_READER_HOST": data.proxy_read_only_endpoint,
    "DB_PORT": data.port.apply(port_text),
    "DB_NAME": data.database_name,
    "DB_USER": data.database_user,
    "DB_IAM_AUTH": "true",
    "DB_CA_BUNDLE": DB_CA_BUNDLE,
    "DB_POOL_MAX": DB_POOL_MAX,
    "SESSIONS_TABLE": data.sessions_table_name,
    "CACHE_TABLE": data.cache_table_name,
    "CACHE_TTL_SECONDS": str(settings.cache_ttl_seconds),
    "LOCAL_CACHE_TTL_MS": str(settings.local_cache_ttl_ms),
    "SESSION_TTL_SECONDS": str(settings.session_ttl_seconds),
    "RESERVATION_TTL_SECONDS": str(settings.reservation_ttl_seconds),
    "POWERTOOLS_SERVICE_NAME": function_name,
    "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace(),
    "LOG_LEVEL": settings.log_level,
    "NODE_OPTIONS": "--enable-source-maps",
    # Bearer-token verification (config.mjs loadAuthConfig); the edge bakes the same values (app exports).
    **settings.identity_env(),
    # The FIS Lambda extension built into the image (faultInjection, off by default).
    **(fault_env(settings.fault_config_location) if settings.fault_injection else {}),
    **settings.waiting_room_env(data.waiting_room_table_name, room_window),
    "WAITING_ROOM_SECRET_ARN": data.waiting_room_key_secret_arn,
    "WAITING_ROOM_CONTROLLER_MS": "0",  # the controller is its own scheduled function
}
api_function = ApiFunction("function", ApiFunctionArgs(
    function_name=function_name,
    role_name=ctx.name("api", Service.IAM_ROLE),
    scaling_policy_name=ctx.name("api-pc-utilization"),
    image_uri=image.image_uri,
    memory_mb=settings.memory_mb,
    timeout_seconds=settings.timeout_seconds,
    log_retention_days=settings.log_retention_days,
    subnet_ids=network.private_subnet_ids,
    security_group_ids=[network.lambda_security_group_id],
    environment=environment,
    dbuser_arn=dbuser_arn(REGION, account_id, data.proxy_resource_id, data.database_user),
    table_arns=[data.sessions_table_arn, data.cache_table_arn],
    index_arn_lists=[index_arns(data.sessions_table_arn, data.sessions_table_index_names),
                     index_arns(data.cache_table_arn, data.cache_table_index_names)],
    extra_statements=config_read_statements(settings.fault_config_location) if settings.fault_injection else [],
    room_table_arn=data.waiting_room_table_arn,
    key_secret_arn=data.waiting_room_key_secret_arn,
    pc_min=settings.provisioned_concurrency_min,
    pc_max=settings.provisioned_concurrency_max,
    pc_target=settings.provisioned_concurrency_target,
    canary_version=settings.canary_version,
    migrate_function_name=ctx.name("api-migrate", Service.LAMBDA),
    migrate_role_name=ctx.name("api-migrate", Service.IAM_ROLE),
    migrate_environment={
        # containers/catalog-api README "What the infrastructure must provide": the migrate task.
        "DB_WRITER_HOST": data.writer_endpoint,
        "DB_MIGRATE_HOST": data.writer_endpoint,
        "DB_PORT": data.port.apply(port_text),
        "DB_NAME": data.database_name,
        "DB_USER": data.database_user,
        "DB_OWNER_USER": data.owner_user,
        "DB_CA_BUNDLE": DB_CA_BUNDLE,
        "DB_MASTER_SECRET_ARN": data.master_secret_arn,
        "DB_OWNER_SECRET_ARN": data.owner_secret_arn,
        "DB_APP_SECRET_ARN": data.app_secret_arn,
        "LOG_LEVEL": settings.log_level,
    },
    migrate_security_group_ids=[network.db_admin_security_group_id],
    migrate_secret_arns=[data.master_secret_arn, data.owner_secret_arn, data.app_secret_arn],
))
fn = api_function.function
waiting_room = WaitingRoomController("waiting-room", WaitingRoomArgs(
    function_name=ctx.name("waiting-room", Service.LAMBDA),
    role_name=ctx.name("waiting-room", Service.IAM_ROLE),
    # Scheduler names: 1-64 of [0-9A-Za-z_.-]; the Lambda rule (64, [A-Za-z0-9_-]) is a strict subset.
    schedule_name=ctx.name("waiting-room", Service.LAMBDA),
    schedule_role_name=ctx.name("waiting-room-schedule", Service.IAM_ROLE),
    image_uri=image.image_uri,
    account_id=account_id,
    log_retention_days=settings.log_retention_days,
    table_arn=data.waiting_room_table_arn,
    index_names=data.waiting_room_table_index_names,
    environment={
        **settings.waiting_room_env(data.waiting_room_table_name, room_window),
        "POWERTOOLS_SERVICE_NAME": function_name,  # its metrics under the API's service dimension
        "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace(),
        "LOG_LEVEL": settings.log_level,
        "NODE_OPTIONS": "--enable-source-maps",
    },
    window=room_window,
))
sale_schedule("sale-schedule", SaleScheduleArgs(
    windows=parse_app_windows(settings.sale_windows, NAMESPACE), target=api_function.scaling_target,
    steady_min=settings.provisioned_concurrency_min, steady_max=settings.provisioned_concurrency_max,
    name=lambda kind: ctx.name(kind, Service.GENERIC)))

balancer = ApiLoadBalancer("load-balancer", ApiLoadBalancerArgs(
    alb_name=ctx.name("api", Service.ALB),
    target_group_names={LIVE: ctx.name(LIVE, Service.TARGET_GROUP), CANARY: ctx.name(CANARY, Service.TARGET_GROUP)},
    function_name=fn.name,
    aliases={LIVE: api_function.live, CANARY: api_function.canary},
    internal=not settings.internet_facing,
    # vpc-origin: private subnets; the group admitting CloudFront's origin-facing prefix list on the one port used.
    subnet_ids=network.public_subnet_ids if settings.internet_facing else network.private_subnet_ids,
    security_group_ids=[network.alb_https_security_group_id if settings.certificate_arn
                        else network.alb_http_security_group_id],
    logs_bucket=data.logs_bucket_name,
    header_name=settings.origin_verify_header,
    header_value=origin_secret,
    weights={LIVE: 100 - settings.canary_weight, CANARY: settings.canary_weight},
    stickiness_seconds=settings.stickiness_seconds,
    certificate_arn=settings.certificate_arn,
))

# The default placement: CloudFront reaches the internal ALB through a VPC origin, never over the internet.
vpc_origin = None if settings.internet_facing else ApiVpcOrigin("api-vpc-origin", ApiVpcOriginArgs(
    name=ctx.name("api-origin", Service.CLOUDFRONT_POLICY),
    alb_arn=balancer.alb.arn,
    https=settings.certificate_arn is not None,
))

front = RestApiFront("rest-api", RestApiFrontArgs(
    api_name=ctx.name("api", Service.API_GATEWAY),
    usage_plan_name=ctx.name("api-plan", Service.API_GATEWAY),
    api_key_name=ctx.name("api-key", Service.API_GATEWAY),
    access_log_group_name=check_name(f"/aws/apigateway/{ctx.name('api-access', Service.LOG_GROUP)}",
                                     Service.LOG_GROUP),
    log_retention_days=settings.log_retention_days,
    function_name=fn.name,
    alias=api_function.live,
    rate_limit=settings.api_throttle_rate_limit,
    burst_limit=settings.api_throttle_burst_limit,
    account_role_name=ctx.name("apigw-cloudwatch", Service.IAM_ROLE) if settings.manage_api_gateway_account else None,
    web_acl_name=ctx.name("api", Service.WAF_WEB_ACL),
    waf_log_group_name=ctx.name("api", Service.WAF_LOG_GROUP),
    waf_rate_limit=settings.api_waf_rate_limit,
    waf_window_s=settings.api_waf_evaluation_window_seconds,
))

ctx.export({
    "functionName": fn.name,
    "functionArn": fn.arn,
    "aliasName": api_function.live.name,
    "aliasArn": api_function.live.arn,
    "logGroupName": api_function.log_group.name,
    "metricsService": function_name,
    "provisionedConcurrencyMin": settings.provisioned_concurrency_min,
    "provisionedConcurrencyMax": settings.provisioned_concurrency_max,
    "albArn": balancer.alb.arn,
    "albArnSuffix": balancer.alb.arn_suffix,
    "albDnsName": balancer.alb.dns_name,
    "targetGroupArnSuffixes": {alias: tg.arn_suffix for alias, tg in balancer.target_groups.items()},
    "apiId": front.api.id,
    "apiName": front.api.name,
    "apiStageName": STAGE,
    "apiInvokeUrl": front.stage.invoke_url,
    "usagePlanId": front.usage_plan.id,
    "apiKeyId": front.api_key.id,
    "apiKeyValue": front.api_key.value,
    "originVerifyHeaderName": settings.origin_verify_header,
    # "" with a VPC origin: no header is sent or checked (the internal ALB is reachable only from CloudFront).
    "originVerifyHeaderValue": origin_secret if origin_secret is not None else pulumi.Output.secret(""),
    "originMode": settings.origin_mode,
    "originDomain": settings.origin_domain or "",
    "originProtocol": "https" if settings.certificate_arn else "http",
    "vpcOriginId": vpc_origin.origin.id if vpc_origin is not None else "",
    "ecrRepositoryUrl": image.repository.repository_url,
    "faultConfigLocation": settings.fault_config_location if settings.fault_injection else "",
    "authIssuer": settings.auth_issuer,
    "authAudience": settings.auth_audience,
    "authPublicKeyPem": settings.identity_env().get("AUTH_PUBLIC_KEY_PEM", ""),
    "authJwksUrl": settings.auth_jwks_url or "",
    "authRoleClaim": settings.auth_role_claim,
    "authClockSkewSeconds": settings.auth_clock_skew_seconds,
    "apiWebAclArn": front.waf.acl.web_acl.arn,
    "apiWebAclName": front.waf.acl.web_acl.name,
    "apiWebAclMetricName": front.waf.acl.metric_name,
    "apiWebAclRuleMetricNames": front.waf.acl.rule_metric_names,
    "apiWafLogGroupName": front.waf.acl.log_group.name,
    "waitingRoomSkus": list(settings.waiting_room_sku_list) if room_window.enabled else [],
    "waitingRoomStartsAt": settings.waiting_room_starts_at or "",
    "waitingRoomEndsAt": settings.waiting_room_ends_at or "",
    "waitingRoomFunctionName": waiting_room.function.name,
    "waitingRoomScheduleName": waiting_room.schedule.name,
})
