"""Outputs of the app layer (owner: product team). Data only: no resources."""

from shared.runtime.contracts import LayerOutputs, OutputSpec

OUTPUTS = LayerOutputs("app", (
    OutputSpec("functionName", str, 'API Lambda function name'),
    OutputSpec("functionArn", str, 'API Lambda function ARN (unqualified)'),
    OutputSpec("aliasName", str, 'alias that serves traffic (live)'),
    OutputSpec("aliasArn", str, 'alias ARN'),
    OutputSpec("logGroupName", str, 'API function log group'),
    OutputSpec("metricsService", str, "value of the `service` dimension of the API's custom metrics"),
    OutputSpec("provisionedConcurrencyMin", int, 'provisioned concurrency auto scaling minimum'),
    OutputSpec("provisionedConcurrencyMax", int, 'provisioned concurrency auto scaling maximum'),
    OutputSpec("albArn", str, 'ALB ARN'),
    OutputSpec("albArnSuffix", str, 'ALB ARN suffix (CloudWatch LoadBalancer dimension)'),
    OutputSpec("albDnsName", str, 'ALB DNS name (CloudFront origin)'),
    OutputSpec("targetGroupArnSuffixes", dict[str, str],
               '{live, canary}: target group ARN suffixes (TargetGroup dimension)'),
    OutputSpec("apiId", str, 'API Gateway REST API id'),
    OutputSpec("apiName", str, 'API Gateway REST API name (ApiName dimension)'),
    OutputSpec("apiStageName", str, 'API Gateway stage'),
    OutputSpec("apiInvokeUrl", str, 'API Gateway stage invoke URL'),
    OutputSpec("usagePlanId", str, 'API Gateway usage plan id'),
    OutputSpec("apiKeyId", str, 'API key id'),
    OutputSpec("apiKeyValue", str, 'API key value', secret=True),
    OutputSpec("originVerifyHeaderName", str, 'header CloudFront adds so the ALB serves only CloudFront'),
    OutputSpec("originVerifyHeaderValue", str, 'secret value of that header', secret=True),
    OutputSpec("ecrRepositoryUrl", str, 'ECR repository of the API image'),
    OutputSpec("apiWebAclArn", str, 'WAFv2 web ACL (REGIONAL) on the API Gateway stage'),
    OutputSpec("apiWebAclName", str, "that ACL's name"),
    OutputSpec("apiWebAclMetricName", str, 'its CloudWatch metric name (AWS/WAFV2 WebACL dimension)'),
    OutputSpec("apiWebAclRuleMetricNames", list[str], "its rules' metric names (AWS/WAFV2 Rule dimension)"),
    OutputSpec("apiWafLogGroupName", str, 'its log group (aws-waf-logs-...)'),
))
