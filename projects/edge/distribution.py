"""The CloudFront distribution: static site (S3) by default, `/api/*` to the ALB with flash-sale micro-caching.

- Default behavior: S3 through the origin access identity (or control), managed CachingOptimized, compression,
  HTTP redirected to HTTPS, security headers added by the origin-response function.
- `/api/*`: every method; GET/HEAD cached for `microCacheTtlSeconds` (1-5 s) keyed on the whole query string
  and the Authorization header, so during a sale each edge (one Origin Shield, when on) asks the origin about a
  product once per TTL instead of once per viewer; anonymous reads (no Authorization) share one entry, reads
  with different tokens get separate entries (the API verifies tokens itself, so a cached answer is never
  served to another token). Answers the API marks `no-store` (inventory, sessions) are never cached: the
  policy's minimum TTL is 0. Writes pass the viewer-request JWT check first. The origin request policy sends
  the session cookie and the ALB's target-group stickiness cookies (AWSALBTG, AWSALBTGCORS: the weighted
  live/canary forward pins a shopper to the side it first got), never other cookies.
- The waiting room (the API's `/api/products/{sku}/queue...` routes): `/api/products/*/queue/state`, the room's
  shared state (the same for every shopper), is cached for 1 s with its own policy keyed on the path alone (no
  query string, no header, no cookie: nothing can split or bust it), so a crowd polling it costs the origin one
  request per SKU per second per edge. `/api/products/*/queue` (join, the shopper's own standing and pass) is never
  cached: managed CachingDisabled, whatever the API's headers say, with the managed AllViewerExceptHostHeader
  origin request policy (with caching disabled it is how Authorization reaches the origin). Both keep /api/*'s
  viewer-request (JWT on writes, internal headers stripped) and origin-response functions. The edge checks no
  queue ticket or admission pass: the API checks the pass on every path (README "Waiting room at the edge").
- Error bodies: the origin-response function (on every behavior) renders the site's pages for site paths and
  leaves `/api/*` JSON untouched. Custom error responses are per distribution, not per behavior (a page would
  replace API JSON too), so they only set how long CloudFront caches an error (`ErrorCachingMinTTL`).
- AWS WAF: the web ACL (waf.py, or a bring-your-own `webAclArn`) is attached through `web_acl_id`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from projects.edge.settings import Settings
from projects.edge.site_files import INDEX
from shared.runtime import REGION
from shared.runtime.errors import ContractError

STATIC_ORIGIN, API_ORIGIN = "static-site", "api-alb"
API_PATH = "/api/*"
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
CACHED_METHODS = ["GET", "HEAD"]
MANAGED_CACHING_OPTIMIZED = "Managed-CachingOptimized"
MANAGED_CACHING_DISABLED = "Managed-CachingDisabled"
# Forwards every viewer header but Host (so the ALB sees its own name); with caching disabled this includes
# Authorization, which no origin request policy may name itself.
MANAGED_ALL_VIEWER_EXCEPT_HOST = "Managed-AllViewerExceptHostHeader"
# The waiting room's routes (containers/catalog-api/src/routes/waiting-room.mjs). CloudFront's `*` matches any
# characters, `/` included; the more specific pattern is listed first (behaviors are matched in order).
QUEUE_STATE_PATH = "/api/products/*/queue/state"
QUEUE_PATH = "/api/products/*/queue"
QUEUE_STATE_TTL_S = 1  # the API answers `Cache-Control: public, max-age=1`; never held longer than that here
# The API's session cookie (containers/catalog-api/src/sessions.mjs SESSION_COOKIE).
SESSION_COOKIE = "catalog_session"
# The ALB's cookies for target group stickiness inside a weighted forward (AWSALBTGCORS is the SameSite=None copy
# CORS requests carry); without them every request would be weighted afresh between live and canary.
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/sticky-sessions.html (target group stickiness)
STICKINESS_COOKIES = ["AWSALBTG", "AWSALBTGCORS"]
API_COOKIES = [SESSION_COOKIE, *STICKINESS_COOKIES]
# What the API reads from the request headers besides Authorization: the JSON content type, and the waiting
# room's admission pass on a queued SKU's reservation (the API's document declares it; a test holds this list to
# every header parameter of the routes /api/* serves). Authorization reaches the API through the cache policy
# (CloudFront refuses it in an origin request policy:
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-origin-requests.html); the
# API verifies the token itself, so no identity header is derived at the edge any more.
API_HEADERS = ["content-type", "x-admission-pass"]
CACHE_KEY_HEADERS = ["Authorization"]
# Short: a 404 for a product about to go on sale, or a 5xx during a spike, must not outlive the fix.
ERROR_CACHING_TTL = {403: 10, 404: 10, 500: 5, 502: 5, 503: 5, 504: 5}
ORIGIN_READ_TIMEOUT_S = 30  # above the API function's timeout (25 s) so the API's own error wins
MIN_TLS = "TLSv1.2_2021"


@dataclass(frozen=True)
class EdgeDistributionArgs:
    suffix: str
    settings: Settings
    cache_policy_name: str
    origin_request_policy_name: str
    queue_state_cache_policy_name: str
    bucket_regional_domain_name: pulumi.Input[str]
    oai_path: pulumi.Input[str] | None  # set with originAccess=oai
    oac_id: pulumi.Input[str] | None  # set with originAccess=oac
    alb_dns_name: pulumi.Input[str]
    origin_mode: pulumi.Input[str]  # app:originMode
    origin_domain: pulumi.Input[str]  # app:originDomain ("" without an ALB certificate)
    origin_protocol: pulumi.Input[str]  # app:originProtocol, http or https
    vpc_origin_id: pulumi.Input[str]  # app:vpcOriginId ("" with public-https)
    origin_verify_header_name: pulumi.Input[str]
    origin_verify_header_value: pulumi.Input[str]  # secret
    logs_bucket_domain_name: pulumi.Input[str]
    web_acl_arn: pulumi.Input[str] | None  # CLOUDFRONT-scope WAFv2 web ACL (waf.py or webAclArn)
    viewer_request_arn: pulumi.Input[str]  # qualified (numbered version)
    origin_response_arn: pulumi.Input[str]


def error_responses() -> list[aws.cloudfront.DistributionCustomErrorResponseArgs]:
    """Caching only: no page path, no response code (ErrorCachingMinTTL may be set alone: CustomErrorResponse
    API reference). The bodies come from the origin, rewritten per path by the origin-response function."""
    return [aws.cloudfront.DistributionCustomErrorResponseArgs(error_code=code, error_caching_min_ttl=ttl)
            for code, ttl in sorted(ERROR_CACHING_TTL.items())]


def viewer_certificate(settings: Settings) -> aws.cloudfront.DistributionViewerCertificateArgs:
    if settings.certificate_arn is None:
        return aws.cloudfront.DistributionViewerCertificateArgs(cloudfront_default_certificate=True)
    return aws.cloudfront.DistributionViewerCertificateArgs(
        acm_certificate_arn=settings.certificate_arn, ssl_support_method="sni-only", minimum_protocol_version=MIN_TLS)


class EdgeDistribution(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: EdgeDistributionArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:edge:EdgeDistribution", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.settings
        ttl = s.micro_cache_ttl_seconds
        self.api_cache_policy = aws.cloudfront.CachePolicy(
            "api-microcache", name=args.cache_policy_name,
            comment=f"catalog API GET/HEAD micro-cache {ttl} s, keyed on the query string and Authorization",
            min_ttl=0, default_ttl=ttl, max_ttl=ttl,
            parameters_in_cache_key_and_forwarded_to_origin=aws.cloudfront
            .CachePolicyParametersInCacheKeyAndForwardedToOriginArgs(
                cookies_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs(
                    cookie_behavior="none"),
                # Authorization in the key is how it reaches the origin at all; anonymous reads share one entry.
                headers_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(
                    header_behavior="whitelist",
                    headers=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigHeadersArgs(
                        items=list(CACHE_KEY_HEADERS))),
                query_strings_config=aws.cloudfront
                .CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs(query_string_behavior="all"),
                enable_accept_encoding_gzip=True, enable_accept_encoding_brotli=True),
            opts=child)
        self.api_origin_request_policy = aws.cloudfront.OriginRequestPolicy(
            "api-origin", name=args.origin_request_policy_name,
            comment="catalog API: query string, session and ALB stickiness cookies, content type",
            query_strings_config=aws.cloudfront.OriginRequestPolicyQueryStringsConfigArgs(query_string_behavior="all"),
            cookies_config=aws.cloudfront.OriginRequestPolicyCookiesConfigArgs(
                cookie_behavior="whitelist",
                cookies=aws.cloudfront.OriginRequestPolicyCookiesConfigCookiesArgs(items=list(API_COOKIES))),
            headers_config=aws.cloudfront.OriginRequestPolicyHeadersConfigArgs(
                header_behavior="whitelist",
                headers=aws.cloudfront.OriginRequestPolicyHeadersConfigHeadersArgs(items=API_HEADERS)),
            opts=child)
        self.queue_state_cache_policy = aws.cloudfront.CachePolicy(
            "queue-state", name=args.queue_state_cache_policy_name,
            comment=f"waiting room shared state: {QUEUE_STATE_TTL_S} s, keyed on the path (the SKU) alone",
            min_ttl=0, default_ttl=QUEUE_STATE_TTL_S, max_ttl=QUEUE_STATE_TTL_S,
            parameters_in_cache_key_and_forwarded_to_origin=aws.cloudfront
            .CachePolicyParametersInCacheKeyAndForwardedToOriginArgs(
                cookies_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs(
                    cookie_behavior="none"),
                headers_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(
                    header_behavior="none"),
                query_strings_config=aws.cloudfront
                .CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs(
                    query_string_behavior="none"),
                enable_accept_encoding_gzip=True, enable_accept_encoding_brotli=True),
            opts=child)
        caching_optimized = aws.cloudfront.get_cache_policy(name=MANAGED_CACHING_OPTIMIZED)
        caching_disabled = aws.cloudfront.get_cache_policy(name=MANAGED_CACHING_DISABLED)
        all_viewer = aws.cloudfront.get_origin_request_policy(name=MANAGED_ALL_VIEWER_EXCEPT_HOST)

        def origin_response() -> aws.cloudfront.DistributionDefaultCacheBehaviorLambdaFunctionAssociationArgs:
            return aws.cloudfront.DistributionDefaultCacheBehaviorLambdaFunctionAssociationArgs(
                event_type="origin-response", lambda_arn=args.origin_response_arn, include_body=False)

        def api_behavior(path: str, methods: list[str], cache_policy_id: pulumi.Input[str],
                         origin_request_policy_id: pulumi.Input[str] | None,
                         ) -> aws.cloudfront.DistributionOrderedCacheBehaviorArgs:
            """An API behavior: the ALB origin, HTTPS, and /api/*'s two functions (one viewer-request per
            behavior: the JWT check on writes and the internal-header strip)."""
            return aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
                path_pattern=path,
                target_origin_id=API_ORIGIN,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=methods,
                cached_methods=list(CACHED_METHODS),
                compress=True,
                cache_policy_id=cache_policy_id,
                origin_request_policy_id=origin_request_policy_id,
                lambda_function_associations=[
                    aws.cloudfront.DistributionOrderedCacheBehaviorLambdaFunctionAssociationArgs(
                        event_type="viewer-request", lambda_arn=args.viewer_request_arn, include_body=False),
                    aws.cloudfront.DistributionOrderedCacheBehaviorLambdaFunctionAssociationArgs(
                        event_type="origin-response", lambda_arn=args.origin_response_arn, include_body=False),
                ],
            )

        self.distribution = aws.cloudfront.Distribution(
            "cdn",
            comment=f"catalog edge {args.suffix}",
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=s.price_class,
            aliases=list(s.aliases) or None,
            web_acl_id=args.web_acl_arn,
            default_root_object=INDEX,
            origins=[self._static_origin(args), self._api_origin(args)],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id=STATIC_ORIGIN,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=list(CACHED_METHODS),
                cached_methods=list(CACHED_METHODS),
                compress=True,
                cache_policy_id=caching_optimized.id,
                lambda_function_associations=[origin_response()],
            ),
            ordered_cache_behaviors=[
                api_behavior(QUEUE_STATE_PATH, list(CACHED_METHODS), self.queue_state_cache_policy.id, None),
                api_behavior(QUEUE_PATH, list(ALL_METHODS), caching_disabled.id, all_viewer.id),
                api_behavior(API_PATH, list(ALL_METHODS), self.api_cache_policy.id,
                             self.api_origin_request_policy.id),
            ],
            custom_error_responses=error_responses(),
            logging_config=aws.cloudfront.DistributionLoggingConfigArgs(
                bucket=args.logs_bucket_domain_name, prefix="cloudfront/", include_cookies=False),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(restriction_type="none")),
            viewer_certificate=viewer_certificate(s),
            tags={"Name": f"catalog-edge-{args.suffix}"},
            opts=child,
        )
        self.register_outputs({"id": self.distribution.id, "domainName": self.distribution.domain_name})

    @staticmethod
    def _static_origin(args: EdgeDistributionArgs) -> aws.cloudfront.DistributionOriginArgs:
        if args.oai_path is not None:
            return aws.cloudfront.DistributionOriginArgs(
                origin_id=STATIC_ORIGIN, domain_name=args.bucket_regional_domain_name,
                s3_origin_config=aws.cloudfront.DistributionOriginS3OriginConfigArgs(
                    origin_access_identity=args.oai_path))
        # OAC: no s3_origin_config (the provider sends the empty one CloudFront expects with OAC).
        return aws.cloudfront.DistributionOriginArgs(
            origin_id=STATIC_ORIGIN, domain_name=args.bucket_regional_domain_name,
            origin_access_control_id=args.oac_id)

    @staticmethod
    def _api_origin(args: EdgeDistributionArgs) -> pulumi.Output[aws.cloudfront.DistributionOriginArgs]:
        s = args.settings
        shield = aws.cloudfront.DistributionOriginOriginShieldArgs(
            enabled=True, origin_shield_region=REGION) if s.origin_shield else None

        def build(values: list[str]) -> aws.cloudfront.DistributionOriginArgs:
            mode, domain, protocol, vpc_origin_id, dns_name, header_name = values
            if mode == "vpc-origin":
                # The internal ALB behind the app layer's VPC origin: private path, no shared header needed
                # (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html).
                if not vpc_origin_id:
                    raise ContractError("app:vpcOriginId is empty while app:originMode is vpc-origin",
                                        "redeploy the app layer")
                return aws.cloudfront.DistributionOriginArgs(
                    origin_id=API_ORIGIN,
                    domain_name=domain if protocol == "https" else dns_name,
                    vpc_origin_config=aws.cloudfront.DistributionOriginVpcOriginConfigArgs(
                        vpc_origin_id=vpc_origin_id, origin_read_timeout=ORIGIN_READ_TIMEOUT_S,
                        origin_keepalive_timeout=5),
                    origin_shield=shield)
            # Internet-facing ALB: HTTPS only, to the name its certificate covers, with the secret header
            # (viewers' copies are overwritten) that the ALB requires. The secret stays out of this apply, so a
            # VPC-origin plan keeps its origins readable.
            if mode != "public-https" or protocol != "https" or not domain:
                raise ContractError(f"app:originMode {mode!r} with protocol {protocol!r} and domain {domain!r}",
                                    "an internet-facing ALB is reached over HTTPS with the origin-verify header")
            return aws.cloudfront.DistributionOriginArgs(
                origin_id=API_ORIGIN,
                domain_name=domain,
                custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                    http_port=80, https_port=443, origin_protocol_policy="https-only",
                    origin_ssl_protocols=["TLSv1.2"], origin_read_timeout=ORIGIN_READ_TIMEOUT_S,
                    origin_keepalive_timeout=5),
                custom_headers=[aws.cloudfront.DistributionOriginCustomHeaderArgs(
                    name=header_name, value=args.origin_verify_header_value)],
                origin_shield=shield)

        return pulumi.Output.all(args.origin_mode, args.origin_domain, args.origin_protocol, args.vpc_origin_id,
                                 args.alb_dns_name, args.origin_verify_header_name).apply(build)
