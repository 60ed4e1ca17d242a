"""Which IAM actions a layer's program needs, from what it declares: the one table from Pulumi tokens to actions.

Two kinds of token reach the provider (the offline planner's mocks record both):

- a data source (`aws:secretsmanager/getRandomPassword:getRandomPassword`): called on every preview and `up`, so
  the plan role and the deploy role both need its actions (`DATA_SOURCES`);
- a resource type (`aws:ec2/vpc:Vpc`): the deploy role needs the action that creates it. By default that is the
  service's `Create<Type>` operation, found in botocore's service model (the operation names are the IAM action
  names, the model's signing name is the IAM prefix); `CREATES` lists the types created another way.

Unknown tokens raise, naming the table to extend: a new data source or resource type cannot slip through untested.
Actions only, not resources or conditions: the tag and name scoping is tested on the documents themselves.
"""

from __future__ import annotations

from functools import cache
from typing import Any

# Pulumi aws module -> botocore service (its signing name is the IAM prefix, except where IAM_PREFIXES says).
SERVICES = {
    "ec2": "ec2", "vpc": "ec2", "iam": "iam", "rds": "rds", "dynamodb": "dynamodb", "s3": "s3",
    "secretsmanager": "secretsmanager", "appautoscaling": "application-autoscaling", "apigateway": "apigateway",
    "lambda": "lambda", "lb": "elbv2", "ecr": "ecr", "cloudfront": "cloudfront", "kms": "kms", "sns": "sns",
    "cloudwatch": "cloudwatch", "wafv2": "wafv2", "scheduler": "scheduler", "fis": "fis",
}
IAM_PREFIXES = {"monitoring": "cloudwatch"}  # CloudWatch signs as `monitoring`; IAM calls it `cloudwatch`
LOGS_TYPES = ("logGroup", "logMetricFilter", "queryDefinition")  # aws:cloudwatch/<these> are CloudWatch Logs

# Data sources -> IAM actions. () = answered without an AWS call needing a permission (computed by the provider,
# or sts:GetCallerIdentity, which IAM never denies).
DATA_SOURCES: dict[str, tuple[str, ...]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": (),
    "aws:index/getRegion:getRegion": (),
    "aws:index/getPartition:getPartition": (),
    "aws:iam/getPolicyDocument:getPolicyDocument": (),
    "aws:elb/getServiceAccount:getServiceAccount": (),
    "aws:cloudfront/getLogDeliveryCanonicalUserId:getLogDeliveryCanonicalUserId": (),
    "aws:index/getAvailabilityZones:getAvailabilityZones": ("ec2:DescribeAvailabilityZones",),
    "aws:ec2/getManagedPrefixList:getManagedPrefixList": ("ec2:DescribeManagedPrefixLists",),
    "aws:iam/getPolicy:getPolicy": ("iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicies"),
    "aws:cloudfront/getCachePolicy:getCachePolicy": ("cloudfront:ListCachePolicies", "cloudfront:GetCachePolicy"),
    "aws:cloudfront/getOriginRequestPolicy:getOriginRequestPolicy": ("cloudfront:ListOriginRequestPolicies",
                                                                     "cloudfront:GetOriginRequestPolicy"),
    "aws:cloudfront/getResponseHeadersPolicy:getResponseHeadersPolicy": ("cloudfront:ListResponseHeadersPolicies",
                                                                         "cloudfront:GetResponseHeadersPolicy"),
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": ("ecr:GetAuthorizationToken",),
    "aws:secretsmanager/getRandomPassword:getRandomPassword": ("secretsmanager:GetRandomPassword",),
    "aws:s3/getCanonicalUserId:getCanonicalUserId": ("s3:ListAllMyBuckets",),
}

# Resource types whose create is not botocore's Create<Type> (or that are not AWS resources at all).
CREATES: dict[str, tuple[str, ...]] = {
    # the app's image push (pulumi-command runs docker login/push against the layer's repository)
    "command:local:Command": ("ecr:GetAuthorizationToken", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                              "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchCheckLayerAvailability"),
    "aws:ec2/eip:Eip": ("ec2:AllocateAddress",),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": ("ec2:CreateTags", "ec2:RevokeSecurityGroupIngress",
                                                          "ec2:RevokeSecurityGroupEgress"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("ec2:AssociateRouteTable",),
    "aws:ec2/flowLog:FlowLog": ("ec2:CreateFlowLogs",),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("ec2:CreateVpcEndpoint",),
    "aws:ec2/internetGateway:InternetGateway": ("ec2:CreateInternetGateway", "ec2:AttachInternetGateway"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("ec2:AuthorizeSecurityGroupIngress",),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ("ec2:AuthorizeSecurityGroupEgress",),
    "aws:cloudwatch/logGroup:LogGroup": ("logs:CreateLogGroup",),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": ("logs:PutMetricFilter",),
    "aws:cloudwatch/queryDefinition:QueryDefinition": ("logs:PutQueryDefinition",),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("cloudwatch:PutMetricAlarm",),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": ("cloudwatch:PutCompositeAlarm",),
    "aws:cloudwatch/dashboard:Dashboard": ("cloudwatch:PutDashboard",),
    "aws:iam/rolePolicy:RolePolicy": ("iam:PutRolePolicy",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("iam:AttachRolePolicy",),
    "aws:appautoscaling/policy:Policy": ("application-autoscaling:PutScalingPolicy",),
    "aws:appautoscaling/target:Target": ("application-autoscaling:RegisterScalableTarget",),
    "aws:appautoscaling/scheduledAction:ScheduledAction": ("application-autoscaling:PutScheduledAction",),
    "aws:rds/cluster:Cluster": ("rds:CreateDBCluster",),
    "aws:rds/clusterInstance:ClusterInstance": ("rds:CreateDBInstance",),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": ("rds:CreateDBClusterParameterGroup",),
    "aws:rds/subnetGroup:SubnetGroup": ("rds:CreateDBSubnetGroup",),
    "aws:rds/proxy:Proxy": ("rds:CreateDBProxy",),
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": ("rds:ModifyDBProxyTargetGroup",),
    "aws:rds/proxyEndpoint:ProxyEndpoint": ("rds:CreateDBProxyEndpoint",),
    "aws:rds/proxyTarget:ProxyTarget": ("rds:RegisterDBProxyTargets",),
    "aws:s3/bucketAcl:BucketAcl": ("s3:PutBucketAcl",),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration",),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": ("s3:PutBucketOwnershipControls",),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:PutBucketPolicy",),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": ("s3:PutBucketPublicAccessBlock",),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration",),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:PutBucketVersioning",),
    "aws:s3/bucketObjectv2:BucketObjectv2": ("s3:PutObject",),
    "aws:secretsmanager/secretRotation:SecretRotation": ("secretsmanager:RotateSecret",),
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretsmanager:PutSecretValue",),
    "aws:cloudfront/originAccessIdentity:OriginAccessIdentity": ("cloudfront:CreateCloudFrontOriginAccessIdentity",),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("ecr:PutLifecyclePolicy",),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("ecr:SetRepositoryPolicy",),
    "aws:lambda/invocation:Invocation": ("lambda:InvokeFunction",),
    "aws:lambda/permission:Permission": ("lambda:AddPermission",),
    "aws:lb/listenerRule:ListenerRule": ("elasticloadbalancing:CreateRule",),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": ("elasticloadbalancing:RegisterTargets",),
    "aws:wafv2/webAclAssociation:WebAclAssociation": ("wafv2:AssociateWebACL", "apigateway:SetWebACL"),
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": ("wafv2:PutLoggingConfiguration",
                                                                        "logs:CreateLogDelivery"),
    "aws:sns/topicPolicy:TopicPolicy": ("sns:SetTopicAttributes",),
    "aws:apigateway/account:Account": ("apigateway:PATCH",),
    "aws:apigateway/methodSettings:MethodSettings": ("apigateway:PATCH",),
    "aws:apigateway/integration:Integration": ("apigateway:PUT",),
    "aws:apigateway/method:Method": ("apigateway:PUT",),
}
# API Gateway's IAM actions are HTTP verbs on resource paths: every other apigateway type is created by POST.
APIGATEWAY_CREATE = ("apigateway:POST",)


@cache
def _model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def iam_prefix(service: str) -> str:
    """The IAM prefix of a botocore service (its signing name, with IAM's own spelling where it differs)."""
    signing = _model(service).signing_name
    return IAM_PREFIXES.get(signing, signing)


def _parts(type_token: str) -> tuple[str, str, str]:
    package, _, rest = type_token.partition(":")
    module_kind, _, cls = rest.partition(":")
    return package, module_kind.partition("/")[0], cls


def data_source_actions(token: str) -> tuple[str, ...]:
    if token not in DATA_SOURCES:
        raise KeyError(f"no IAM actions known for data source {token}: add it to DATA_SOURCES in "
                       "projects/bootstrap/program_actions.py")
    return DATA_SOURCES[token]


def create_actions(type_token: str) -> tuple[str, ...]:
    """The actions that create a resource of the type: CREATES, else botocore's Create<Type> operation."""
    if type_token in CREATES:
        return CREATES[type_token]
    package, module, cls = _parts(type_token)
    if package == "aws" and module == "apigateway":
        return APIGATEWAY_CREATE
    if package == "aws" and module in SERVICES:
        service = "logs" if module == "cloudwatch" and type_token.split("/")[1].split(":")[0] in LOGS_TYPES \
            else SERVICES[module]
        wanted = f"create{cls}".lower()
        for operation in _model(service).operation_names:
            if operation.lower() == wanted:
                return (f"{iam_prefix(service)}:{operation}",)
    raise KeyError(f"no create action known for resource type {type_token}: add it to CREATES in "
                   "projects/bootstrap/program_actions.py")


def required_actions(type_tokens: set[str], invoke_tokens: set[str]) -> dict[str, dict[str, set[str]]]:
    """{"plan": {action: tokens}, "deploy": {action: tokens}} for what a program declares and calls."""
    need: dict[str, dict[str, set[str]]] = {"plan": {}, "deploy": {}}
    for token in invoke_tokens:
        for action in data_source_actions(token):
            for role in ("plan", "deploy"):
                need[role].setdefault(action, set()).add(token)
    for token in type_tokens:
        for action in create_actions(token):
            need["deploy"].setdefault(action, set()).add(token)
    return need
