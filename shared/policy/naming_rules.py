"""Every named resource carries the suffix and fits its service's name rule (shared/naming.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared.policy.model import UNKNOWN, Context, Res
from shared.runtime.errors import NamingError
from shared.runtime.naming import Service, check_name

# type token -> (physical-name input, prefix input or None, service rule). Only names that live in an
# account/region-wide namespace: two environments would collide on them, so they must carry the suffix.
NAMED: dict[str, tuple[str, str | None, Service | None]] = {
    "aws:lambda/function:Function": ("name", None, Service.LAMBDA),
    "aws:lb/loadBalancer:LoadBalancer": ("name", "namePrefix", Service.ALB),
    "aws:lb/targetGroup:TargetGroup": ("name", "namePrefix", Service.TARGET_GROUP),
    "aws:rds/cluster:Cluster": ("clusterIdentifier", "clusterIdentifierPrefix", Service.RDS_CLUSTER),
    "aws:rds/clusterInstance:ClusterInstance": ("identifier", "identifierPrefix", Service.RDS_INSTANCE),
    "aws:rds/instance:Instance": ("identifier", "identifierPrefix", Service.RDS_INSTANCE),
    "aws:rds/proxy:Proxy": ("name", None, Service.RDS_PROXY),
    "aws:rds/proxyEndpoint:ProxyEndpoint": ("dbProxyEndpointName", None, Service.RDS_PROXY),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": ("name", "namePrefix", Service.RDS_PARAMETER_GROUP),
    "aws:rds/parameterGroup:ParameterGroup": ("name", "namePrefix", Service.RDS_PARAMETER_GROUP),
    "aws:rds/subnetGroup:SubnetGroup": ("name", "namePrefix", Service.RDS_SUBNET_GROUP),
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix", Service.S3_BUCKET),
    "aws:dynamodb/table:Table": ("name", None, Service.DYNAMODB_TABLE),
    "aws:sns/topic:Topic": ("name", "namePrefix", Service.SNS_TOPIC),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "namePrefix", Service.LOG_GROUP),
    "aws:cloudwatch/dashboard:Dashboard": ("dashboardName", None, Service.DASHBOARD),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", None, Service.ALARM),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": ("alarmName", None, Service.ALARM),
    "aws:iam/role:Role": ("name", "namePrefix", Service.IAM_ROLE),
    "aws:iam/policy:Policy": ("name", "namePrefix", Service.IAM_POLICY),
    "aws:ec2/securityGroup:SecurityGroup": ("name", "namePrefix", Service.SECURITY_GROUP),
    "aws:apigateway/restApi:RestApi": ("name", None, Service.API_GATEWAY),
    "aws:apigateway/usagePlan:UsagePlan": ("name", None, Service.API_GATEWAY),
    "aws:apigateway/apiKey:ApiKey": ("name", None, Service.API_GATEWAY),
    "aws:ecr/repository:Repository": ("name", None, Service.ECR_REPOSITORY),
    "aws:secretsmanager/secret:Secret": ("name", "namePrefix", Service.SECRET),
    "aws:kms/alias:Alias": ("name", "namePrefix", Service.KMS_ALIAS),
    "aws:cloudfront/cachePolicy:CachePolicy": ("name", None, Service.CLOUDFRONT_POLICY),
    "aws:wafv2/webAcl:WebAcl": ("name", "namePrefix", Service.WAF_WEB_ACL),
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy": ("name", None, Service.CLOUDFRONT_POLICY),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": ("name", None, Service.CLOUDFRONT_POLICY),
    "aws:cloudfront/originAccessControl:OriginAccessControl": ("name", None, None),
    "aws:cloudfront/function:Function": ("name", None, None),
    "aws:sqs/queue:Queue": ("name", "namePrefix", None),
    "aws:cloudwatch/eventRule:EventRule": ("name", "namePrefix", None),
    "aws:ssm/parameter:Parameter": ("name", None, None),
    "aws:cloudwatch/queryDefinition:QueryDefinition": ("name", None, None),
    # EventBridge Scheduler: 1-64 of [0-9A-Za-z_.-] (botocore scheduler CreateScheduleInput.Name).
    "aws:scheduler/schedule:Schedule": ("name", "namePrefix", None),
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": ("name", None, None),
}

# Names scoped inside a resource that already carries the suffix (no collision between environments), or
# not names at all: exempt from the suffix, listed so the coverage test knows they were considered.
SCOPED: frozenset[str] = frozenset({
    "aws:lambda/alias:Alias",  # alias `live`/`canary` of a suffixed function
    "aws:apigateway/stage:Stage",  # stage of a suffixed REST API (and `-` is not allowed in stage names)
    "aws:appautoscaling/policy:Policy",  # scoped to its scalable target
    "aws:iam/rolePolicy:RolePolicy",  # inline policy of a suffixed role
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
    "aws:rds/proxyTarget:ProxyTarget",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter",  # scoped to its log group
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter",
    "aws:dynamodb/tableItem:TableItem",
    "aws:apigateway/resource:Resource",
    "aws:s3/bucketObject:BucketObject",
    "aws:s3/bucketObjectv2:BucketObjectv2",
})

STAGE_NAME = re.compile(r"^[A-Za-z0-9_]{1,128}$")
# Prefix forms: room left for the provider's generated tail (26 characters for most, IAM role 38 max prefix).
# Services without a rule in shared/naming.py: their documented maximum length.
LOCAL_LIMITS = {
    "aws:cloudfront/originAccessControl:OriginAccessControl": 64, "aws:cloudfront/function:Function": 64,
    "aws:sqs/queue:Queue": 80, "aws:cloudwatch/eventRule:EventRule": 64, "aws:ssm/parameter:Parameter": 2048,
    "aws:cloudwatch/queryDefinition:QueryDefinition": 255, "aws:scheduler/schedule:Schedule": 64,
    # CloudFormation stack names are at most 128 characters; the repository prefixes `serverlessrepo-`.
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": 128 - len("serverlessrepo-"),
}
PREFIX_LIMITS = {"aws:iam/role:Role": 38, "aws:lb/loadBalancer:LoadBalancer": 6, "aws:lb/targetGroup:TargetGroup": 6}


def carries_suffix(name: str, suffix: str) -> bool:
    """The suffix appears as a whole token (not glued to other letters/digits): `catalog-api-qa`, `x.qa-1`."""
    return re.search(rf"(?<![A-Za-z0-9]){re.escape(suffix)}(?![A-Za-z0-9])", name) is not None


def check_named(res: Res, ctx: Context) -> Iterable[str]:
    if res.type == "aws:apigateway/stage:Stage":
        stage = res.inputs.get("stageName")
        if isinstance(stage, str) and not STAGE_NAME.match(stage):
            yield f"stage name {stage!r} must be 1-128 letters, digits or underscores"
        return
    spec = NAMED.get(res.type)
    if spec is None:
        return
    key, prefix_key, service = spec
    name = res.inputs.get(key)
    prefix = res.inputs.get(prefix_key) if prefix_key else None
    if name is UNKNOWN or prefix is UNKNOWN:
        return
    if not name and isinstance(prefix, str) and prefix:
        if not carries_suffix(prefix, ctx.suffix):
            yield f"{prefix_key} {prefix!r} does not contain the suffix {ctx.suffix!r}"
        limit = PREFIX_LIMITS.get(res.type)
        if limit and len(prefix) > limit:
            yield f"{prefix_key} {prefix!r} has {len(prefix)} characters; AWS allows {limit}"
        return
    if not isinstance(name, str) or not name:
        yield (f"no `{key}`: the provider would invent a name without the suffix {ctx.suffix!r}; "
               f"set it with ctx.name(...)")
        return
    if not carries_suffix(name, ctx.suffix):
        yield f"{key} {name!r} does not contain the suffix {ctx.suffix!r}"
    limit = LOCAL_LIMITS.get(res.type)
    if limit and len(name) > limit:
        yield f"{key} {name!r} has {len(name)} characters; AWS allows {limit}"
    if service is not None:
        checked = name[len("alias/"):] if res.type == "aws:kms/alias:Alias" else name
        try:
            check_name(checked, service)
        except NamingError as exc:
            yield str(exc)
