"""Outputs of the app layer (owner: product team)."""

from shared.contracts import OutputSpec

OUTPUTS = (
    OutputSpec("functionName", "API Lambda function name", readers=("observability",)),
    OutputSpec("functionArn", "API Lambda function ARN (unqualified)"),
    OutputSpec("aliasName", "alias that serves traffic (live)", readers=("observability",)),
    OutputSpec("aliasArn", "alias ARN"),
    OutputSpec("logGroupName", "API function log group", readers=("observability",)),
    OutputSpec("metricsService", "value of the `service` dimension of the API's custom metrics",
               readers=("observability",)),
    OutputSpec("provisionedConcurrencyMin", "provisioned concurrency auto scaling minimum",
               readers=("observability",)),
    OutputSpec("provisionedConcurrencyMax", "provisioned concurrency auto scaling maximum",
               readers=("observability",)),
    OutputSpec("albArn", "ALB ARN"),
    OutputSpec("albArnSuffix", "ALB ARN suffix (CloudWatch LoadBalancer dimension)", readers=("observability",)),
    OutputSpec("albDnsName", "ALB DNS name (CloudFront origin)", readers=("edge",)),
    OutputSpec("targetGroupArnSuffixes", "{live, canary}: target group ARN suffixes (TargetGroup dimension)",
               readers=("observability",)),
    OutputSpec("apiId", "API Gateway REST API id"),
    OutputSpec("apiName", "API Gateway REST API name (ApiName dimension)", readers=("observability",)),
    OutputSpec("apiStageName", "API Gateway stage", readers=("observability",)),
    OutputSpec("apiInvokeUrl", "API Gateway stage invoke URL"),
    OutputSpec("usagePlanId", "API Gateway usage plan id"),
    OutputSpec("apiKeyId", "API key id"),
    OutputSpec("apiKeyValue", "API key value", secret=True),
    OutputSpec("originVerifyHeaderName", "header CloudFront adds so the ALB serves only CloudFront",
               readers=("edge",)),
    OutputSpec("originVerifyHeaderValue", "secret value of that header", readers=("edge",), secret=True),
    OutputSpec("ecrRepositoryUrl", "ECR repository of the API image"),
)
