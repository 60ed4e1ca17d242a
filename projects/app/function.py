"""The API function: log group first, least-privilege role, arm64 image in the VPC, migrations on deploy,
aliases `live` and `canary`, provisioned concurrency auto scaling on `live`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from projects.app.policies import assume_role_policy, function_policy, migrate_policy
from shared.runtime import mission
from shared.runtime.autoscaling import target_tracking

LIVE = "live"
CANARY = "canary"
MIGRATE_EVENT = {"catalogTask": "migrate"}
# The same image, another handler (containers/catalog-api/src/lambda.mjs migrateHandler): only this function's
# role may read the master and owner secrets; the API's role never can.
MIGRATE_HANDLER = "src/lambda.migrateHandler"
MIGRATE_TIMEOUT_S = 900  # migrations may take long; nothing waits on an HTTP answer here
PC_DIMENSION = "lambda:function:ProvisionedConcurrency"
PC_METRIC = "LambdaProvisionedConcurrencyUtilization"


@dataclass(frozen=True)
class ApiFunctionArgs:
    function_name: str
    role_name: str
    scaling_policy_name: str
    image_uri: pulumi.Input[str]
    memory_mb: int
    timeout_seconds: int
    log_retention_days: int
    subnet_ids: pulumi.Input[list[str]]
    security_group_ids: list[pulumi.Input[str]]
    environment: Mapping[str, pulumi.Input[str]]
    dbuser_arn: pulumi.Input[str]
    table_arns: list[pulumi.Input[str]]
    index_arn_lists: list[pulumi.Input[list[str]]]
    room_table_arn: pulumi.Input[str]  # the waiting room's table (single items only)
    key_secret_arn: pulumi.Input[str]  # the waiting room's HMAC key (read only)
    pc_min: int
    pc_max: int
    pc_target: float
    canary_version: str | None
    migrate_function_name: str
    migrate_role_name: str
    migrate_environment: Mapping[str, pulumi.Input[str]]
    migrate_security_group_ids: list[pulumi.Input[str]]
    migrate_secret_arns: list[pulumi.Input[str]]  # master, owner, app
    extra_statements: list[dict[str, Any]] = field(default_factory=list)  # e.g. the FIS extension's reads


class ApiFunction(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: ApiFunctionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:app:ApiFunction", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # Created before the function, so Lambda never creates it itself without retention (or outside state).
        self.log_group = aws.cloudwatch.LogGroup(
            "api-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        self.role = aws.iam.Role(
            "api-role",
            name=args.role_name,
            assume_role_policy=json.dumps(assume_role_policy("lambda.amazonaws.com")),
            opts=child,
        )
        self.role_policy = aws.iam.RolePolicy(
            "api-role-policy",
            role=self.role.id,
            policy=function_policy(self.log_group.arn, args.dbuser_arn, args.table_arns, args.index_arn_lists,
                                   args.room_table_arn, args.key_secret_arn, args.extra_statements),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            "api",
            name=args.function_name,
            role=self.role.arn,
            package_type="Image",
            image_uri=args.image_uri,
            architectures=[mission.API_ARCHITECTURE],
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            publish=True,
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=args.subnet_ids, security_group_ids=args.security_group_ids
            ),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            # Text: the API already writes one JSON object per line (Powertools, EMF) straight to stdout;
            # Lambda's JSON format would wrap them and break the metric filters on top-level keys.
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=self.log_group.name),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(args.environment)),
            # The role must be able to create ENIs and write logs before the first start, and must outlive
            # the function on destroy.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, self.role_policy]),
        )
        self.migrate_log_group = aws.cloudwatch.LogGroup(
            "migrate-logs", name=f"/aws/lambda/{args.migrate_function_name}",
            retention_in_days=args.log_retention_days, opts=child)
        self.migrate_role = aws.iam.Role(
            "migrate-role", name=args.migrate_role_name,
            assume_role_policy=json.dumps(assume_role_policy("lambda.amazonaws.com")), opts=child)
        migrate_role_policy = aws.iam.RolePolicy(
            "migrate-role-policy", role=self.migrate_role.id,
            policy=migrate_policy(self.migrate_log_group.arn, args.migrate_secret_arns[0],
                                 args.migrate_secret_arns[1:]), opts=child)
        self.migrate_function = aws.lambda_.Function(
            "migrate",
            name=args.migrate_function_name,
            role=self.migrate_role.arn,
            package_type="Image",
            image_uri=args.image_uri,
            image_config=aws.lambda_.FunctionImageConfigArgs(commands=[MIGRATE_HANDLER]),
            architectures=[mission.API_ARCHITECTURE],
            memory_size=args.memory_mb,  # lambda-api-shape: every non-edge function is 3 GB arm64
            timeout=MIGRATE_TIMEOUT_S,
            publish=True,
            # db-admin group: straight to the cluster endpoint with passwords (the proxy requires IAM auth).
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=args.subnet_ids, security_group_ids=args.migrate_security_group_ids),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text",
                                                                 log_group=self.migrate_log_group.name),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(args.migrate_environment)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.migrate_log_group, migrate_role_policy]),
        )
        # Migrations run before alias live moves to the new API version; a failed migration stops the deploy
        # with live still on the previous version. Re-runs whenever the image changes.
        self.migration = aws.lambda_.Invocation(
            "api-migrate",
            function_name=self.migrate_function.name,
            qualifier=self.migrate_function.version,
            input=json.dumps(MIGRATE_EVENT),
            triggers={"imageUri": pulumi.Output.from_input(args.image_uri)},
            opts=child,
        )
        self.live = aws.lambda_.Alias(
            "api-live",
            name=LIVE,
            function_name=self.function.name,
            function_version=self.function.version,
            description="serves API Gateway and the ALB's stable target group",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.migration]),
        )
        self.canary = aws.lambda_.Alias(
            "api-canary",
            name=CANARY,
            function_name=self.function.name,
            # Same version as live unless pinned: the canary target group then serves the same code.
            function_version=args.canary_version or self.function.version,
            description="the ALB's canary target group (catalog-app:canaryWeight)",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.migration]),
        )
        # Registering the alias as a scalable target sets its provisioned concurrency within [min, max]
        # (RegisterScalableTarget); no ProvisionedConcurrencyConfig resource competes with the scaling.
        scaling = target_tracking(
            "api-pc-target", "api-pc-tracking", namespace="lambda", dimension=PC_DIMENSION,
            resource_id=pulumi.Output.concat("function:", self.function.name, ":", self.live.name),
            min_capacity=args.pc_min, max_capacity=args.pc_max, physical_policy_name=args.scaling_policy_name,
            metric=PC_METRIC, target_value=args.pc_target, scale_out_cooldown=30, scale_in_cooldown=180,
            parent=self)
        self.scaling_target, self.scaling_policy = scaling.target, scaling.policy
        self.register_outputs({"functionName": self.function.name, "aliasArn": self.live.arn})
