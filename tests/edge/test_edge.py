"""Edge layer under mocks: the real program with the longest legal suffix, upstream from the data and app plans.

Default plan (`edge`): OAI, the API behind the app layer's VPC origin, identity from the app layer's exports.
`custom` plan: every optional edge setting at once (OAC, aliases + certificate, web ACL, micro-cache 5 s, Origin
Shield off, PriceClass_100). `public` plan: upstream app in originMode=public-https (HTTPS origin domain).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from projects.edge.bundle import auth_config_json, origin_response_package, package_hash, viewer_request_package
from projects.edge.site_files import site_objects
from shared.deploy.edge_teardown import edge_function_names
from shared.plan.computed import ACCOUNT_ID, computed_state
from shared.plan.mocks import MANAGED_CACHE_POLICIES
from shared.plan.planner import Plan, Resource, plan_layer
from shared.runtime.naming import Service, check_name, physical_name
from tests.conftest import BASE_CONFIG, ORIGIN_VERIFY, SECRET_KEYS, SUFFIX

FUNCTION = "aws:lambda/function:Function"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OAI = "aws:cloudfront/originAccessIdentity:OriginAccessIdentity"
OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"
CACHE_POLICY = "aws:cloudfront/cachePolicy:CachePolicy"
ORIGIN_REQUEST_POLICY = "aws:cloudfront/originRequestPolicy:OriginRequestPolicy"
CERT = f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
WEB_ACL = f"arn:aws:wafv2:us-east-1:{ACCOUNT_ID}:global/webacl/catalog-edge/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
QUALIFIED = re.compile(r"^arn:aws:lambda:us-east-1:\d{12}:function:[A-Za-z0-9_-]{1,64}:\d+$")


CUSTOM = {
    "catalog-edge:originAccess": "oac",
    "catalog-edge:microCacheTtlSeconds": "5",
    "catalog-edge:priceClass": "PriceClass_100",
    "catalog-edge:aliases": "shop.example.com,www.example.com",
    "catalog-edge:certificateArn": CERT,
    "catalog-edge:webAclArn": WEB_ACL,
    "catalog-edge:originShield": "false",
}
APP_CERT = f"arn:aws:acm:us-east-1:{ACCOUNT_ID}:certificate/1a1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
PUBLIC_APP = {"catalog-app:originMode": "public-https", "catalog-app:certificateArn": APP_CERT,
              "catalog-app:originDomain": "api-origin.example.com", "catalog-app:authRoleClaim": "https://catalog/role",
              "catalog-app:authClockSkewSeconds": "60"}


@pytest.fixture(scope="module")
def edge(chain: dict[str, Plan]) -> Plan:
    return chain["edge"]


@pytest.fixture(scope="module")
def custom(plan_with: Callable[..., Plan]) -> Plan:
    return plan_with("edge", CUSTOM)


@pytest.fixture(scope="module")
def public_app(plan_with: Callable[..., Plan]) -> Plan:
    return plan_with("app", PUBLIC_APP)


@pytest.fixture(scope="module")
def public(chain: dict[str, Plan], public_app: Plan) -> Plan:
    """The edge over an app layer in public-https mode (internet-facing ALB, HTTPS only)."""
    return plan_layer("edge", SUFFIX, BASE_CONFIG, {**chain, "app": public_app}, secret_keys=SECRET_KEYS,
                      env={"CATALOG_DB_PASSWORD": ""})


def baked_config(app: Plan) -> str:
    """config.json as the edge must bake it from the app layer's identity exports."""
    e = app.export_value
    return auth_config_json(e("authIssuer"), e("authAudience"), e("authPublicKeyPem"), e("authJwksUrl"),
                            e("authRoleClaim"), float(e("authClockSkewSeconds")))


def computed_id(r: Resource) -> str:
    return computed_state(r.type, r.name, r.inputs)[0]


def computed(r: Resource, key: str) -> Any:
    return computed_state(r.type, r.name, r.inputs)[1][key]


def statements(policy: Resource) -> list[dict[str, Any]]:
    return json.loads(policy.get("policy"))["Statement"]


def behaviors(dist: Resource) -> tuple[dict[str, Any], dict[str, Any]]:
    """The default behavior and /api/*'s (the waiting room's two come first: tests/edge/test_edge_waiting_room.py)."""
    ordered = dist.get("orderedCacheBehaviors")
    assert [b["pathPattern"] for b in ordered] == ["/api/products/*/queue/state", "/api/products/*/queue", "/api/*"]
    return dist.get("defaultCacheBehavior"), ordered[-1]


def origins(dist: Resource) -> dict[str, dict[str, Any]]:
    return {o["originId"]: o for o in dist.get("origins")}


# --- Lambda@Edge -------------------------------------------------------------------------------------------

def test_functions_use_an_explicit_us_east_1_provider(edge: Plan) -> None:
    providers = {r.name: r for r in edge.resources if r.type == "pulumi:providers:aws"}
    assert providers["us-east-1"].get("region") == "us-east-1"
    for r in [*edge.of_type(FUNCTION), edge.one("aws:iam/role:Role"), edge.one("aws:iam/rolePolicy:RolePolicy")]:
        assert r.provider.split("::")[-2] == "us-east-1", r.name
        assert "pulumi:providers:aws" in r.provider


def test_functions_respect_the_lambda_at_edge_rules(edge: Plan) -> None:
    fns = {r.name: r for r in edge.of_type(FUNCTION)}
    assert set(fns) == {"viewerRequest", "originResponse"}
    for fn in fns.values():
        assert fn.get("architectures") == ["x86_64"]
        assert fn.get("publish") is True
        assert fn.get("packageType") == "Zip"
        assert fn.get("runtime") in ("nodejs22.x", "nodejs24.x")  # nodejs20.x: deprecated since Apr 2026
        assert fn.get("memorySize") <= 128 and fn.get("timeout") <= 5  # viewer-trigger limits
        for forbidden in ("vpcConfig", "environment", "layers", "deadLetterConfig", "reservedConcurrentExecutions",
                          "imageUri", "snapStart", "fileSystemConfig"):
            assert fn.get(forbidden) in (None, [], {}), (fn.name, forbidden)
    assert fns["viewerRequest"].get("handler") == "viewer-request.handler"
    assert fns["originResponse"].get("handler") == "origin-response.handler"


def test_function_names_come_from_the_suffix_alone(edge: Plan) -> None:
    names = edge_function_names(SUFFIX)
    for role, name in names.items():
        assert edge.by_name(role).get("name") == name
        check_name(name, Service.LAMBDA)
        assert edge.export_value(f"{role}FunctionName") == name
    assert names == {"viewerRequest": f"catalog-edge-auth-{SUFFIX}", "originResponse": f"catalog-edge-headers-{SUFFIX}"}


def test_shipped_code_is_the_measured_package(edge: Plan, public: Plan, chain: dict[str, Plan],
                                               public_app: Plan) -> None:
    expected = package_hash(viewer_request_package(baked_config(chain["app"])))
    assert edge.by_name("viewerRequest").get("sourceCodeHash") == expected
    assert edge.by_name("originResponse").get("sourceCodeHash") == package_hash(origin_response_package())

    # The identity comes from the app layer alone: another role claim there changes only the auth package.
    def code(plan: Plan, role: str) -> str:
        return plan.by_name(role).get("sourceCodeHash")

    assert code(public, "viewerRequest") == package_hash(viewer_request_package(baked_config(public_app)))
    assert code(public, "viewerRequest") != code(edge, "viewerRequest")
    assert code(public, "originResponse") == code(edge, "originResponse")


def test_config_json_carries_the_app_layers_identity(chain: dict[str, Plan]) -> None:
    config = json.loads(baked_config(chain["app"]))
    app = chain["app"]
    assert config["issuer"] == app.export_value("authIssuer") == BASE_CONFIG["catalog-app:authIssuer"]
    assert config["publicKeyPem"].strip() == BASE_CONFIG["catalog-app:authPublicKeyPem"].strip()
    assert "jwksUrl" not in config and config["clockSkewSeconds"] == 30 and config["roleClaim"] == "role"


def test_role_is_trusted_by_lambda_and_edgelambda_and_writes_only_its_log_groups(edge: Plan) -> None:
    role = edge.one("aws:iam/role:Role")
    trust = json.loads(role.get("assumeRolePolicy"))["Statement"]
    assert len(trust) == 1 and trust[0]["Action"] == "sts:AssumeRole"
    assert sorted(trust[0]["Principal"]["Service"]) == ["edgelambda.amazonaws.com", "lambda.amazonaws.com"]
    assert role.get("managedPolicyArns") in (None, [])
    (stmt,) = statements(edge.one("aws:iam/rolePolicy:RolePolicy"))
    assert stmt["Effect"] == "Allow"
    assert sorted(stmt["Action"]) == ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    names = "|".join(edge_function_names(SUFFIX).values())
    own = re.compile(rf"^arn:aws:logs:\*:{ACCOUNT_ID}:log-group:/aws/lambda/(us-east-1\.)?({names})(:\*)?$")
    assert all(own.match(arn) for arn in stmt["Resource"]), stmt["Resource"]
    assert any("/aws/lambda/us-east-1." in arn for arn in stmt["Resource"])  # replicas' log groups, any region


def test_distribution_invokes_published_versions_by_qualified_arn(edge: Plan) -> None:
    default, api = behaviors(edge.one(DISTRIBUTION))
    vr, orr = edge.export_value("viewerRequestQualifiedArn"), edge.export_value("originResponseQualifiedArn")
    for arn in (vr, orr):
        assert QUALIFIED.match(arn) and not arn.endswith(("$LATEST", ":live")), arn
    assert [(a["eventType"], a["lambdaArn"], a["includeBody"]) for a in default["lambdaFunctionAssociations"]] == [
        ("origin-response", orr, False)]
    assert sorted((a["eventType"], a["lambdaArn"]) for a in api["lambdaFunctionAssociations"]) == [
        ("origin-response", orr), ("viewer-request", vr)]
    assert vr == f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{edge_function_names(SUFFIX)['viewerRequest']}:1"


# --- static bucket -------------------------------------------------------------------------------------------

def test_static_bucket_is_named_versioned_encrypted_private_and_destroyable(edge: Plan) -> None:
    bucket = edge.one("aws:s3/bucket:Bucket")
    name = physical_name("static", SUFFIX, Service.S3_BUCKET, account_id=ACCOUNT_ID)
    assert bucket.get("bucket") == name == edge.export_value("staticBucketName")
    assert bucket.get("forceDestroy") is True
    assert edge.one("aws:s3/bucketVersioning:BucketVersioning").get("versioningConfiguration", "status") == "Enabled"
    sse = edge.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.get("rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm") == "AES256"
    pab = edge.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(pab.get(k) is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                              "restrictPublicBuckets"))
    own = edge.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert own.get("rule", "objectOwnership") == "BucketOwnerEnforced"


def test_lifecycle_expires_only_noncurrent_versions(edge: Plan) -> None:
    (rule,) = edge.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").get("rules")
    assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 30
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1
    # Current objects are the live site: no `days`/`date` expiry on them.
    assert set(rule.get("expiration", {})) <= {"expiredObjectDeleteMarker"}
    assert "transitions" not in rule


def test_oai_is_the_only_principal_granted_read(edge: Plan) -> None:
    oai = edge.one(OAI)
    stmts = statements(edge.one(BUCKET_POLICY))
    allows = [s for s in stmts if s["Effect"] == "Allow"]
    assert allows == [{"Sid": "CloudFrontOriginAccessIdentityRead", "Effect": "Allow",
                       "Principal": {"AWS": computed(oai, "iamArn")}, "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{edge.export_value('staticBucketName')}/*"}]
    (deny,) = [s for s in stmts if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and deny["Principal"] == "*"
    s3 = origins(edge.one(DISTRIBUTION))["static-site"]
    assert s3["s3OriginConfig"]["originAccessIdentity"] == computed(oai, "cloudfrontAccessIdentityPath")
    assert s3["domainName"].endswith(".s3.us-east-1.amazonaws.com")
    assert "originAccessControlId" not in s3
    assert not edge.of_type(OAC)


def test_oac_variant_grants_the_cloudfront_service_for_this_distribution_only(custom: Plan) -> None:
    oac = custom.one(OAC)
    assert (oac.get("originAccessControlOriginType"), oac.get("signingBehavior"), oac.get("signingProtocol")) == (
        "s3", "always", "sigv4")
    assert len(oac.get("name")) <= 64
    assert not custom.of_type(OAI)
    allows = [s for s in statements(custom.one(BUCKET_POLICY)) if s["Effect"] == "Allow"]
    assert len(allows) == 1
    assert allows[0]["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allows[0]["Action"] == "s3:GetObject"
    assert allows[0]["Condition"] == {"StringEquals": {"AWS:SourceArn": custom.export_value("distributionArn")}}
    s3 = origins(custom.one(DISTRIBUTION))["static-site"]
    assert s3["originAccessControlId"] == computed_id(oac) and "s3OriginConfig" not in s3


def test_site_objects_are_uploaded_with_types_and_cache_control(edge: Plan) -> None:
    planned = {r.get("key"): r for r in edge.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    expected = site_objects()
    assert set(planned) == {o.key for o in expected}
    for obj in expected:
        r = planned[obj.key]
        assert (r.get("contentType"), r.get("cacheControl"), r.get("sourceHash")) == (
            obj.content_type, obj.cache_control, obj.sha256)
        assert r.get("content") == obj.body.decode()
        assert r.get("bucket") == edge.export_value("staticBucketName")


# --- distribution --------------------------------------------------------------------------------------------

def test_distribution_basics(edge: Plan) -> None:
    dist = edge.one(DISTRIBUTION)
    assert dist.get("enabled") is True and dist.get("isIpv6Enabled") is True
    assert dist.get("httpVersion") == "http2and3"
    assert dist.get("defaultRootObject") == "index.html"
    assert dist.get("priceClass") == "PriceClass_All"
    assert dist.get("viewerCertificate") == {"cloudfrontDefaultCertificate": True}
    assert dist.get("aliases") in (None, [])
    acl = edge.one("aws:wafv2/webAcl:WebAcl")  # on by default
    assert dist.get("webAclId") == computed(acl, "arn") == edge.export_value("webAclArn")
    assert dist.get("restrictions", "geoRestriction", "restrictionType") == "none"
    assert edge.export_value("distributionId") == computed_id(dist)


def test_default_behavior_serves_the_bucket_with_managed_caching(edge: Plan) -> None:
    default, _ = behaviors(edge.one(DISTRIBUTION))
    assert default["targetOriginId"] == "static-site"
    assert default["viewerProtocolPolicy"] == "redirect-to-https"
    assert default["allowedMethods"] == ["GET", "HEAD"] and default["cachedMethods"] == ["GET", "HEAD"]
    assert default["compress"] is True
    assert default["cachePolicyId"] == MANAGED_CACHE_POLICIES["Managed-CachingOptimized"]
    assert "forwardedValues" not in default  # legacy settings cannot be combined with a cache policy


def test_api_behavior_micro_caches_reads_and_forwards_what_the_api_needs(edge: Plan) -> None:
    _, api = behaviors(edge.one(DISTRIBUTION))
    assert api["targetOriginId"] == "api-alb" and api["viewerProtocolPolicy"] == "redirect-to-https"
    assert sorted(api["allowedMethods"]) == ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
    assert api["cachedMethods"] == ["GET", "HEAD"]
    cache = edge.one(CACHE_POLICY, "api-microcache")
    assert api["cachePolicyId"] == computed_id(cache)
    assert (cache.get("minTtl"), cache.get("defaultTtl"), cache.get("maxTtl")) == (0, 2, 2)
    key = cache.get("parametersInCacheKeyAndForwardedToOrigin")
    assert key["queryStringsConfig"] == {"queryStringBehavior": "all"}
    # Authorization reaches the API only through the cache policy (an origin request policy cannot forward it),
    # so the micro-cache keys on it: anonymous reads share an entry, each token gets its own.
    assert key["headersConfig"] == {"headerBehavior": "whitelist", "headers": {"items": ["Authorization"]}}
    assert key["cookiesConfig"] == {"cookieBehavior": "none"}
    assert key["enableAcceptEncodingGzip"] is True and key["enableAcceptEncodingBrotli"] is True
    orp = edge.one(ORIGIN_REQUEST_POLICY)
    assert api["originRequestPolicyId"] == computed_id(orp)
    assert orp.get("queryStringsConfig") == {"queryStringBehavior": "all"}
    assert orp.get("cookiesConfig") == {"cookieBehavior": "whitelist",
                                        "cookies": {"items": ["catalog_session", "AWSALBTG", "AWSALBTGCORS"]}}
    # The API verifies tokens itself: no identity headers derived at the edge are forwarded any more.
    assert orp.get("headersConfig") == {"headerBehavior": "whitelist",
                                        "headers": {"items": ["content-type", "x-admission-pass"]}}
    for name in (cache.get("name"), orp.get("name")):
        check_name(name, Service.CLOUDFRONT_POLICY)


def test_forwarded_cookies_are_the_api_session_and_the_alb_stickiness_cookies(edge: Plan,
                                                                            chain: dict[str, Plan]) -> None:
    from pathlib import Path

    api_src = Path(__file__).resolve().parents[2] / "containers" / "catalog-api" / "src"
    session_cookie = re.search(r"SESSION_COOKIE = '([A-Za-z0-9_]+)'", (api_src / "sessions.mjs").read_text())[1]
    cookies = edge.one(ORIGIN_REQUEST_POLICY).get("cookiesConfig", "cookies", "items")
    assert cookies[0] == session_cookie
    # The weighted live/canary forward pins by target-group stickiness (cookie AWSALBTG, AWSALBTGCORS for CORS):
    # with the app's stickiness on, both cookies must reach the ALB or every request is weighted afresh.
    forwards = [a["forward"] for r in chain["app"].of_type("aws:lb/listenerRule:ListenerRule")
                for a in r.get("actions") or [] if a.get("forward")]
    assert forwards and all(f["stickiness"]["enabled"] is True for f in forwards)
    assert {"AWSALBTG", "AWSALBTGCORS"} <= set(cookies)


def test_error_bodies_come_from_the_origin_response_function_and_errors_cache_briefly(edge: Plan) -> None:
    dist = edge.one(DISTRIBUTION)
    responses = {r["errorCode"]: r for r in dist.get("customErrorResponses")}
    # Caching only: a page path (and response code) would be distribution-wide and replace API JSON too.
    assert responses == {code: {"errorCode": code, "errorCachingMinTtl": ttl}
                         for code, ttl in {403: 10, 404: 10, 500: 5, 502: 5, 503: 5, 504: 5}.items()}
    arns = {r.name: computed(r, "qualifiedArn") for r in edge.of_type(FUNCTION)}
    default, api = behaviors(dist)
    triggers = {b.get("pathPattern", "default"): {a["eventType"]: a["lambdaArn"]
                                                  for a in b["lambdaFunctionAssociations"]} for b in (default, api)}
    # origin-response on every behavior (site pages for site paths, JSON kept on /api/*); auth only on /api/*.
    assert triggers == {"default": {"origin-response": arns["originResponse"]},
                        "/api/*": {"viewer-request": arns["viewerRequest"], "origin-response": arns["originResponse"]}}


def test_default_api_origin_is_the_vpc_origin_without_any_shared_secret(edge: Plan, chain: dict[str, Plan]) -> None:
    dist = edge.one(DISTRIBUTION)
    alb = origins(dist)["api-alb"]
    app = chain["app"]
    assert alb["domainName"] == app.export_value("albDnsName")
    # A VPC origin: CloudFront -> internal ALB stays on AWS's network; no custom (internet) origin config.
    assert alb["vpcOriginConfig"]["vpcOriginId"] == app.export_value("vpcOriginId") != ""
    assert alb["vpcOriginConfig"]["originReadTimeout"] <= 60
    assert "customOriginConfig" not in alb and "customHeaders" not in alb
    assert ORIGIN_VERIFY not in json.dumps(dist.inputs)
    assert alb["originShield"] == {"enabled": True, "originShieldRegion": "us-east-1"}


def test_public_https_origin_is_https_only_with_the_secret_origin_header(public: Plan, public_app: Plan) -> None:
    dist = public.one(DISTRIBUTION)
    assert "$secret" in dist.inputs["origins"]  # the origin-verify value stays secret in state
    alb = origins(dist)["api-alb"]
    assert alb["domainName"] == "api-origin.example.com"
    cfg = alb["customOriginConfig"]
    assert (cfg["originProtocolPolicy"], cfg["httpsPort"], cfg["originSslProtocols"]) == (
        "https-only", 443, ["TLSv1.2"])
    assert alb["customHeaders"] == [{"name": public_app.export_value("originVerifyHeaderName"),
                                     "value": ORIGIN_VERIFY}]
    assert "vpcOriginConfig" not in alb


def test_standard_logs_go_to_the_logs_bucket(edge: Plan, chain: dict[str, Plan]) -> None:
    logging = edge.one(DISTRIBUTION).get("loggingConfig")
    assert logging == {"bucket": chain["data"].export_value("logsBucketDomainName"), "prefix": "cloudfront/",
                       "includeCookies": False}
    assert logging["bucket"].endswith(".s3.amazonaws.com")


def test_optional_settings_all_apply(custom: Plan) -> None:
    dist = custom.one(DISTRIBUTION)
    assert dist.get("aliases") == ["shop.example.com", "www.example.com"]
    assert dist.get("viewerCertificate") == {"acmCertificateArn": CERT, "sslSupportMethod": "sni-only",
                                             "minimumProtocolVersion": "TLSv1.2_2021"}
    assert dist.get("webAclId") == WEB_ACL  # brought: the layer creates no ACL of its own
    assert custom.of_type("aws:wafv2/webAcl:WebAcl") == [] and custom.export_value("webAclName") == "catalog-edge"
    assert dist.get("priceClass") == "PriceClass_100"
    assert "originShield" not in origins(dist)["api-alb"]
    cache = custom.one(CACHE_POLICY, "api-microcache")
    assert (cache.get("minTtl"), cache.get("defaultTtl"), cache.get("maxTtl")) == (0, 5, 5)


# --- teardown ------------------------------------------------------------------------------------------------

def test_only_the_edge_functions_are_retained_on_delete(chain: dict[str, Plan], tmp_path: Any) -> None:
    """Resource options are invisible to mocks: run the real program with a transformation recording them."""
    import subprocess
    import sys

    from shared.plan.planner import stack_ref
    from shared.runtime.layers import REPO_ROOT, get_layer

    wrapper = tmp_path / "__main__.py"
    wrapper.write_text(
        "import runpy, pulumi\n"
        "seen = []\n"
        "def spy(args):\n"
        "    seen.append([args.type_, args.name, bool(args.opts and args.opts.retain_on_delete)])\n"
        "pulumi.runtime.register_stack_transformation(spy)\n"
        f"runpy.run_path({str(get_layer('edge').program)!r}, run_name='__main__')\n"
        "pulumi.export('seenOptions', seen)\n")
    request = {"layer": "edge", "suffix": SUFFIX, "program": str(wrapper), "config": {"aws:region": "us-east-1"},
               "upstream": {stack_ref(name, SUFFIX): {"outputs": chain[name].exports,
                                                      "secrets": sorted(chain[name].secret_exports)}
                            for name in ("data", "app")}}
    (tmp_path / "req.json").write_text(json.dumps(request))
    subprocess.run([sys.executable, "-m", "shared.plan.runner", str(tmp_path / "req.json"),
                    str(tmp_path / "res.json")], cwd=get_layer("edge").directory, check=True,
                   capture_output=True, env={**__import__("os").environ, "PYTHONPATH": str(REPO_ROOT)})
    result = json.loads((tmp_path / "res.json").read_text())
    assert result["error"] is None, result["error"]
    seen = result["exports"]["seenOptions"]
    retained = sorted((t, n) for t, n, keep in seen if keep)
    assert retained == [(FUNCTION, "originResponse"), (FUNCTION, "viewerRequest")]
    assert any(t == DISTRIBUTION and not keep for t, _, keep in seen)  # everything else is deleted normally
