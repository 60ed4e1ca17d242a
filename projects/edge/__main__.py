"""Edge layer (owner: marketing/CDN team): CloudFront in front of the static site (S3, origin access identity)
and the API (ALB), Lambda@Edge for write authentication and security headers, custom error pages and
micro-caching of catalog reads for flash sales, and the front door's AWS WAF web ACL."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from projects.edge.bundle import auth_config_json, origin_response_package, viewer_request_package
from projects.edge.distribution import EdgeDistribution, EdgeDistributionArgs
from projects.edge.edge_functions import EdgeFunctions, EdgeFunctionsArgs
from projects.edge.outputs import OUTPUTS
from projects.edge.settings import Settings
from projects.edge.site_files import site_objects
from projects.edge.static_site import StaticSite, StaticSiteArgs
from projects.edge.upstream import AppView, DataView
from projects.edge.waf import edge_web_acl_args
from shared.runtime.edge_names import edge_function_names
from shared.runtime.errors import ContractError
from shared.runtime.naming import Service
from shared.runtime.program import start_layer
from shared.runtime.waf import CatalogWebAcl

ctx = start_layer("edge", Settings, OUTPUTS)
settings = ctx.settings

account_id = aws.get_caller_identity().account_id
data = ctx.read(DataView)
app = ctx.read(AppView)


def logging_bucket(values: list[str]) -> str:
    # CloudFront standard logs take the bucket's global endpoint `<bucket>.s3.amazonaws.com`.
    name, domain = values
    if domain != f"{name}.s3.amazonaws.com":
        raise ContractError(f"data:logsBucketDomainName {domain!r} is not the global endpoint of {name!r}",
                            "export the bucket's bucket_domain_name (<bucket>.s3.amazonaws.com)")
    return domain


site = StaticSite("static-site", StaticSiteArgs(
    bucket_name=ctx.name("static", Service.S3_BUCKET, account_id=account_id),
    origin_access=settings.origin_access,
    oac_name=ctx.name("static-oac", Service.CLOUDFRONT_POLICY),  # at most 35 characters (limit 64)
    suffix=ctx.suffix,
    objects=site_objects(),
))

# The app layer's identity exports (one source of truth with the API's AUTH_* variables) become config.json.
viewer_request = pulumi.Output.all(
    app.auth_issuer, app.auth_audience, app.auth_public_key_pem, app.auth_jwks_url, app.auth_role_claim,
    app.auth_clock_skew_seconds,
).apply(lambda v: viewer_request_package(auth_config_json(*v)))

names = edge_function_names(ctx.suffix)
functions = EdgeFunctions("edge-functions", EdgeFunctionsArgs(
    names=names,
    role_name=ctx.name("edge-lambda", Service.IAM_ROLE),
    policy_name=ctx.name("edge-logs", Service.IAM_POLICY),
    account_id=account_id,
    packages={"viewerRequest": viewer_request, "originResponse": origin_response_package()},
))

# The front door's web ACL, unless the stack brings its own (webAclArn): CLOUDFRONT scope, us-east-1 provider.
waf: CatalogWebAcl | None = None
if settings.web_acl_arn is None:
    waf = CatalogWebAcl("edge-waf", edge_web_acl_args(
        settings, name=ctx.name("edge", Service.WAF_WEB_ACL),
        log_group_name=ctx.name("edge", Service.WAF_LOG_GROUP), suffix=ctx.suffix), provider=functions.provider)
web_acl_arn = waf.web_acl.arn if waf is not None else settings.web_acl_arn
# A brought ACL is watched under its name (arn:...:global/webacl/<name>/<id>), assumed to be its metric name too.
byo_acl_name = settings.web_acl_arn.split("/")[-2] if settings.web_acl_arn else ""

cdn = EdgeDistribution("cdn", EdgeDistributionArgs(
    suffix=ctx.suffix,
    settings=settings,
    cache_policy_name=ctx.name("api-microcache", Service.CLOUDFRONT_POLICY),
    origin_request_policy_name=ctx.name("api-origin", Service.CLOUDFRONT_POLICY),
    queue_state_cache_policy_name=ctx.name("queue-state", Service.CLOUDFRONT_POLICY),
    bucket_regional_domain_name=site.bucket.bucket_regional_domain_name,
    oai_path=site.oai.cloudfront_access_identity_path if site.oai is not None else None,
    oac_id=site.oac.id if site.oac is not None else None,
    alb_dns_name=app.alb_dns_name,
    origin_mode=app.origin_mode,
    origin_domain=app.origin_domain,
    origin_protocol=app.origin_protocol,
    vpc_origin_id=app.vpc_origin_id,
    origin_verify_header_name=app.origin_verify_header_name,
    origin_verify_header_value=app.origin_verify_header_value,
    logs_bucket_domain_name=pulumi.Output.all(data.logs_bucket_name, data.logs_bucket_domain_name).apply(
        logging_bucket),
    web_acl_arn=web_acl_arn,
    viewer_request_arn=functions.qualified_arn("viewerRequest"),
    origin_response_arn=functions.qualified_arn("originResponse"),
))
site.grant_read(cdn.distribution.arn)

ctx.export({
    "distributionId": cdn.distribution.id,
    "distributionArn": cdn.distribution.arn,
    "distributionDomainName": cdn.distribution.domain_name,
    "staticBucketName": site.bucket.bucket,
    "viewerRequestFunctionName": functions.name("viewerRequest"),
    "viewerRequestQualifiedArn": functions.qualified_arn("viewerRequest"),
    "originResponseFunctionName": functions.name("originResponse"),
    "originResponseQualifiedArn": functions.qualified_arn("originResponse"),
    "webAclArn": web_acl_arn,
    "webAclName": waf.web_acl.name if waf is not None else byo_acl_name,
    "webAclMetricName": waf.metric_name if waf is not None else byo_acl_name,
    # Empty when the ACL is brought (webAclArn): its rules and logs are its owner's.
    "webAclRuleMetricNames": waf.rule_metric_names if waf is not None else [],
    "wafLogGroupName": waf.log_group.name if waf is not None else "",
})
