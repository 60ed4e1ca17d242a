"""Outputs of the edge layer (owner: marketing/CDN team). Data only: no resources."""

from shared.runtime import shapes
from shared.runtime.contracts import LayerOutputs, OutputSpec

OUTPUTS = LayerOutputs("edge", (
    OutputSpec("distributionId", str, 'CloudFront distribution id'),
    OutputSpec("distributionArn", str, 'CloudFront distribution ARN', shape=shapes.CLOUDFRONT_DISTRIBUTION),
    OutputSpec("distributionDomainName", str, 'CloudFront domain name (the site and API entry point)'),
    OutputSpec("staticBucketName", str, 'bucket of the static site'),
    OutputSpec("viewerRequestFunctionName", str, 'Lambda@Edge viewer-request (auth) function name'),
    OutputSpec("viewerRequestQualifiedArn", str, 'its published version ARN (what CloudFront invokes)',
               shape=shapes.LAMBDA_FUNCTION.of("edge-auth")),
    OutputSpec("originResponseFunctionName", str, 'Lambda@Edge origin-response (security headers) function name'),
    OutputSpec("originResponseQualifiedArn", str, 'its published version ARN',
               shape=shapes.LAMBDA_FUNCTION.of("edge-headers")),
    OutputSpec("webAclArn", str, 'WAFv2 web ACL (CLOUDFRONT scope) on the distribution',
               shape=shapes.CLOUDFRONT_WEB_ACL),
    OutputSpec("webAclName", str, "that ACL's name (from the ARN when brought with webAclArn)"),
    OutputSpec("webAclMetricName", str, "its metric name (AWS/WAFV2 WebACL dimension; a brought ACL's: its name)"),
    OutputSpec("webAclRuleMetricNames", list[str], "its rules' metric names (AWS/WAFV2 Rule dimension)"),
    OutputSpec("wafLogGroupName", str, 'its log group (us-east-1, aws-waf-logs-...; empty when brought)'),
))
