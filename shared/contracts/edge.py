"""Outputs of the edge layer (owner: marketing/CDN team)."""

from shared.contracts import OutputSpec

OUTPUTS = (
    OutputSpec("distributionId", "CloudFront distribution id", readers=("observability",)),
    OutputSpec("distributionArn", "CloudFront distribution ARN"),
    OutputSpec("distributionDomainName", "CloudFront domain name (the site and API entry point)"),
    OutputSpec("staticBucketName", "bucket of the static site"),
    OutputSpec("viewerRequestFunctionName", "Lambda@Edge viewer-request (auth) function name",
               readers=("observability",)),
    OutputSpec("viewerRequestQualifiedArn", "its published version ARN (what CloudFront invokes)"),
    OutputSpec("originResponseFunctionName", "Lambda@Edge origin-response (security headers) function name",
               readers=("observability",)),
    OutputSpec("originResponseQualifiedArn", "its published version ARN"),
)
