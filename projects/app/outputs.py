"""Outputs of the app layer (owner: product team). Data only: no resources."""

from shared.runtime import shapes
from shared.runtime.contracts import LayerOutputs, OutputSpec

OUTPUTS = LayerOutputs("app", (
    OutputSpec("functionName", str, 'API Lambda function name'),
    OutputSpec("functionArn", str, 'API Lambda function ARN (unqualified)',
               shape=shapes.LAMBDA_FUNCTION.of("api")),
    OutputSpec("aliasName", str, 'alias that serves traffic (live)'),
    OutputSpec("aliasArn", str, 'alias ARN', shape=shapes.LAMBDA_FUNCTION.of("api")),
    OutputSpec("logGroupName", str, 'API function log group'),
    OutputSpec("metricsService", str, "value of the `service` dimension of the API's custom metrics"),
    OutputSpec("provisionedConcurrencyMin", int, 'provisioned concurrency auto scaling minimum'),
    OutputSpec("provisionedConcurrencyMax", int, 'provisioned concurrency auto scaling maximum'),
    OutputSpec("albArn", str, 'ALB ARN', shape=shapes.LOAD_BALANCER.of("api")),
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
    OutputSpec("originVerifyHeaderValue", str, 'secret value of that header ("" with a VPC origin: not used)',
               secret=True),
    OutputSpec("originMode", str, 'how CloudFront reaches the ALB: vpc-origin (internal ALB) or public-https'),
    OutputSpec("originDomain", str, 'DNS name the ALB certificate covers ("" without a certificate)'),
    OutputSpec("originProtocol", str, 'protocol CloudFront uses to the ALB: https with a certificate, else http '
               '(vpc-origin only)'),
    OutputSpec("vpcOriginId", str, 'CloudFront VPC origin of the internal ALB ("" with public-https)'),
    OutputSpec("ecrRepositoryUrl", str, 'ECR repository of the API image'),
    OutputSpec("authIssuer", str, 'JWT `iss` the API accepts (the edge bakes the same into config.json)'),
    OutputSpec("authAudience", str, 'JWT `aud` the API accepts'),
    OutputSpec("authPublicKeyPem", str, 'PEM SPKI key verifying tokens ("" when authJwksUrl is used)'),
    OutputSpec("authJwksUrl", str, 'https JWKS URL verifying tokens ("" when authPublicKeyPem is used)'),
    OutputSpec("authRoleClaim", str, "claim holding the caller's role"),
    OutputSpec("authClockSkewSeconds", int, 'clock skew tolerated on exp/nbf/iat (s)'),
    OutputSpec("apiWebAclArn", str, 'WAFv2 web ACL (REGIONAL) on the API Gateway stage',
               shape=shapes.REGIONAL_WEB_ACL.of("api")),
    OutputSpec("apiWebAclName", str, "that ACL's name"),
    OutputSpec("apiWebAclMetricName", str, 'its CloudWatch metric name (AWS/WAFV2 WebACL dimension)'),
    OutputSpec("apiWebAclRuleMetricNames", list[str], "its rules' metric names (AWS/WAFV2 Rule dimension)"),
    OutputSpec("apiWafLogGroupName", str, 'its log group (aws-waf-logs-...)'),
    OutputSpec("faultConfigLocation", str, 'where the FIS Lambda extension in the API reads fault configurations '
               '(arn:aws:s3:::bucket/prefix; "" without faultInjection): the observability layer\'s Lambda '
               'experiments write there'),
    OutputSpec("waitingRoomSkus", list[str], 'SKUs sold through the waiting room (empty: no room, or its end has '
               'passed; schedule disabled)'),
    OutputSpec("waitingRoomStartsAt", str, 'ISO 8601 UTC instant admission starts ("": at once); before it, a '
               'pre-queue'),
    OutputSpec("waitingRoomEndsAt", str, 'ISO 8601 UTC instant the room ends ("": no end); after it the SKUs sell '
               'without a pass'),
    OutputSpec("waitingRoomFunctionName", str, 'the waiting room controller function'),
    OutputSpec("waitingRoomScheduleName", str, "the controller's EventBridge Scheduler schedule (default group)"),
))
