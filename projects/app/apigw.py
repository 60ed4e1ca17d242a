"""API Gateway REST API (regional) in front of alias `live`: `/health` open, `/api/{proxy+}` behind API keys,
stage `v1` with JSON access logs, X-Ray, metrics and throttling, a usage plan and its API key, the stage's
REGIONAL AWS WAF web ACL (waf.py), and documentation built from the API's OpenAPI document
(containers/catalog-api/openapi.json), published as the stage's documentation version."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from projects.app.policies import assume_role_policy
from projects.app.waf import ApiWaf, ApiWafArgs
from shared.runtime.api_document import document_version, documentation_parts, load_api_document

STAGE = "v1"
# (logical name, parent path, path part, HTTP method, API key required): the whole public surface.
ROUTES = (
    ("health", "/", "health", "GET", False),
    ("proxy", "/api", "{proxy+}", "ANY", True),
)
ACCESS_LOG_FORMAT = json.dumps({
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "apiKeyId": "$context.identity.apiKeyId",
    "errorMessage": "$context.error.message",
}, separators=(",", ":"))
PUSH_TO_CLOUDWATCH = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


@dataclass(frozen=True)
class RestApiFrontArgs:
    api_name: str
    usage_plan_name: str
    api_key_name: str
    access_log_group_name: str
    log_retention_days: int
    function_name: pulumi.Input[str]
    alias: aws.lambda_.Alias
    rate_limit: int
    burst_limit: int
    account_role_name: str | None  # set: also manage the account's CloudWatch role (regional singleton)
    # Front door (waf.py): the stage's REGIONAL web ACL.
    web_acl_name: str
    waf_log_group_name: str
    waf_rate_limit: int
    waf_window_s: int


class RestApiFront(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: RestApiFrontArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:app:RestApiFront", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.api = aws.apigateway.RestApi(
            "api-gateway",
            name=args.api_name,
            description="Catalog API (Lambda alias live)",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            api_key_source="HEADER",
            opts=child,
        )
        api_resource = aws.apigateway.Resource(
            "api-prefix", rest_api=self.api.id, parent_id=self.api.root_resource_id, path_part="api", opts=child,
        )
        parents = {"/": self.api.root_resource_id, "/api": api_resource.id}
        self.methods: dict[str, aws.apigateway.Method] = {}
        integrations: list[aws.apigateway.Integration] = []
        for name, parent, part, http_method, key_required in ROUTES:
            resource = aws.apigateway.Resource(
                f"route-{name}", rest_api=self.api.id, parent_id=parents[parent], path_part=part, opts=child,
            )
            method = aws.apigateway.Method(
                f"route-{name}-{http_method.lower()}",
                rest_api=self.api.id,
                resource_id=resource.id,
                http_method=http_method,
                authorization="NONE",
                api_key_required=key_required,
                opts=child,
            )
            integrations.append(aws.apigateway.Integration(
                f"route-{name}-lambda",
                rest_api=self.api.id,
                resource_id=resource.id,
                http_method=method.http_method,
                type="AWS_PROXY",
                integration_http_method="POST",  # Lambda is always invoked with POST
                uri=args.alias.invoke_arn,
                opts=child,
            ))
            self.methods[name] = method

        self.permission = aws.lambda_.Permission(
            "apigw-invoke-live",
            action="lambda:InvokeFunction",
            function=args.function_name,
            qualifier=args.alias.name,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(self.api.execution_arn, "/*/*"),
            opts=child,
        )

        # A deployment is a snapshot: a new one whenever a route, method or integration changes.
        fingerprint = pulumi.Output.all(
            [m.id for m in self.methods.values()], [i.id for i in integrations], args.alias.invoke_arn,
        ).apply(lambda ids: hashlib.sha256(json.dumps([ROUTES, ids], sort_keys=True).encode()).hexdigest())
        self.deployment = aws.apigateway.Deployment(
            "api-deployment",
            rest_api=self.api.id,
            triggers={"redeployment": fingerprint},
            # Pulumi creates the replacement before deleting the old one (the stage moves first).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self.methods.values(), *integrations],
                                        delete_before_replace=False),
        )

        # What a partner's portal shows is the API's own contract: documentation parts from its OpenAPI document,
        # snapshotted as a documentation version named after the document's hash (a new one when it changes).
        parts = [aws.apigateway.DocumentationPart(
            f"api-doc-{key}", rest_api_id=self.api.id,
            location=aws.apigateway.DocumentationPartLocationArgs(**location),
            properties=json.dumps(properties, sort_keys=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.methods.values())),
        ) for key, location, properties in documentation_parts(load_api_document())]
        self.documentation = aws.apigateway.DocumentationVersion(
            "api-documentation", rest_api_id=self.api.id, version=document_version(),
            description="the catalog API's OpenAPI document (GET /api/openapi.json)",
            opts=pulumi.ResourceOptions(parent=self, depends_on=parts),
        )

        stage_deps: list[pulumi.Resource] = []
        if args.account_role_name:
            role = aws.iam.Role(
                "apigw-cloudwatch-role",
                name=args.account_role_name,
                assume_role_policy=json.dumps(assume_role_policy("apigateway.amazonaws.com")),
                opts=child,
            )
            attach = aws.iam.RolePolicyAttachment(
                "apigw-cloudwatch-push", role=role.name, policy_arn=PUSH_TO_CLOUDWATCH, opts=child,
            )
            stage_deps.append(aws.apigateway.Account(
                "apigw-account", cloudwatch_role_arn=role.arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[attach]),
            ))

        self.access_logs = aws.cloudwatch.LogGroup(
            "api-access-logs",
            name=args.access_log_group_name,
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        self.stage = aws.apigateway.Stage(
            "api-stage",
            rest_api=self.api.id,
            deployment=self.deployment.id,
            stage_name=STAGE,
            documentation_version=self.documentation.version,
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=self.access_logs.arn, format=ACCESS_LOG_FORMAT,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=stage_deps),
        )
        aws.apigateway.MethodSettings(
            "api-stage-settings",
            rest_api=self.api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                metrics_enabled=True,
                throttling_rate_limit=args.rate_limit,
                throttling_burst_limit=args.burst_limit,
            ),
            opts=child,
        )
        self.usage_plan = aws.apigateway.UsagePlan(
            "api-usage-plan",
            name=args.usage_plan_name,
            api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=self.api.id, stage=self.stage.stage_name)],
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                rate_limit=args.rate_limit, burst_limit=args.burst_limit,
            ),
            opts=child,
        )
        self.api_key = aws.apigateway.ApiKey("api-key", name=args.api_key_name, enabled=True, opts=child)
        # A key only counts through a usage plan.
        aws.apigateway.UsagePlanKey(
            "api-usage-plan-key", key_id=self.api_key.id, key_type="API_KEY", usage_plan_id=self.usage_plan.id,
            opts=child,
        )
        self.waf = ApiWaf("api-waf", ApiWafArgs(
            web_acl_name=args.web_acl_name, log_group_name=args.waf_log_group_name,
            log_retention_days=args.log_retention_days, rate_limit=args.waf_rate_limit, window_s=args.waf_window_s,
            stage_arn=self.stage.arn), opts=child)
        self.register_outputs({"apiId": self.api.id, "invokeUrl": self.stage.invoke_url})
