"""App layer settings (config namespace `catalog-app`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from projects.app.fault_injection import CODE_SHA256, LAYER_VERSION_ARN, S3_LOCATION
from projects.app.image_archive import oci_archive_problem
from shared.runtime import REGION, mission
from shared.runtime import waiting_room as room
from shared.runtime.aws_rules import LOG_RETENTION_DAYS
from shared.runtime.errors import ConfigError
from shared.runtime.identity import (
    DEFAULT_CLOCK_SKEW_SECONDS,
    DEFAULT_ROLE_CLAIM,
    MAX_CLOCK_SKEW_SECONDS,
    MAX_ROLE_CLAIM,
    js_trim_ok,
    jwks_url_problem,
    jwt_alg_for_public_key,
    normalize_pem,
    string_or_uri_problem,
    utf16_length,
)
from shared.runtime.sale_windows import parse_app_windows
from shared.runtime.settings import require, setting
from shared.runtime.waf import check_rate

NAMESPACE = "catalog-app"
# API Gateway ends an integration after 29 s: the function must give up first.
API_GATEWAY_INTEGRATION_LIMIT_S = 29
# Account defaults of API Gateway per region (docs/aws-rules.md): stage and usage plan limits sit within them.
ACCOUNT_RATE_LIMIT = mission.API_RATE_LIMIT_RPS
ACCOUNT_BURST_LIMIT = 5_000
# API Gateway serves API-key clients (servers, not shoppers behind CloudFront): 3,000 per 60 s is 50 requests/s
# from one address, far above a shopper (12/min) and well under the stage's 10,000/s throttle.
API_WAF_RATE_LIMIT = 3_000
LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR")
# How CloudFront reaches the ALB. vpc-origin: an internal ALB in the private subnets behind a CloudFront VPC
# origin (traffic stays on AWS's network, no public listener, no shared secret). public-https: the mission's
# internet-facing ALB in the public subnets, HTTPS only, with the origin-verify header.
ORIGIN_MODES = ("vpc-origin", "public-https")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$)(?:{_LABEL}\.)+[a-z][a-z0-9-]{{0,61}}[a-z0-9]$")

IMAGE_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64})|:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))$"
)
CERTIFICATE_ARN = re.compile(
    rf"^arn:aws:acm:{REGION}:\d{{12}}:certificate/[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$"
)
# ALB http-header conditions take header names of at most 40 characters; CloudFront refuses custom origin
# headers in these families, so the header could not be sent.
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,40}$")
RESERVED_HEADER_PREFIXES = ("x-amz-", "x-amzn-", "x-edge-", "x-forwarded-", "cloudfront-")
RESERVED_HEADERS = ("host", "authorization", "content-length", "connection", "via", "x-real-ip")


@dataclass(frozen=True)
class Settings:
    image_archive: str | None = setting(
        "imageArchive", None,
        "an OCI image archive (linux/arm64) built without cloud credentials (the pipeline's image job): pushed to "
        "the repository as is and run by digest; nothing is built where the deploy role's credentials are",
    )
    image_uri: str | None = setting(
        "imageUri", None,
        f"prebuilt arm64 image `<account>.dkr.ecr.{REGION}.amazonaws.com/<repo>@sha256:<digest>` (or `:<tag>`); "
        "nothing is built when set",
    )
    memory_mb: int = setting("memoryMb", mission.API_MEMORY_MB, "API function memory (MB): the mission fixes 3 GB")
    architecture: str = setting("architecture", mission.API_ARCHITECTURE,
                                 f"API function architecture: {mission.API_ARCHITECTURE} (Graviton2) only")
    timeout_seconds: int = setting(
        "timeoutSeconds", 25, f"API function timeout (s), below API Gateway's {API_GATEWAY_INTEGRATION_LIMIT_S} s"
    )
    log_level: str = setting("logLevel", "INFO", "API log level", choices=LOG_LEVELS)
    log_retention_days: int = setting("logRetentionDays", mission.RETENTION_DAYS,
                                       "retention of the function and access log groups")
    provisioned_concurrency_min: int = setting(
        "provisionedConcurrencyMin", mission.PROVISIONED_CONCURRENCY_MIN,
        "provisioned concurrency auto scaling minimum on alias `live`"
    )
    provisioned_concurrency_max: int = setting(
        "provisionedConcurrencyMax", mission.PROVISIONED_CONCURRENCY_MAX,
        f"provisioned concurrency auto scaling maximum (the mission: at most {mission.PROVISIONED_CONCURRENCY_MAX})"
    )
    provisioned_concurrency_target: float = setting(
        "provisionedConcurrencyTarget", mission.SCALE_OUT_UTILIZATION,
        "target provisioned concurrency utilization (0.1-0.9)"
    )
    canary_weight: int = setting("canaryWeight", 0, "percent of ALB requests sent to alias `canary` (0-100)")
    canary_version: str | None = setting(
        "canaryVersion", None, "published version number alias `canary` points at; default: the live version"
    )
    stickiness_seconds: int = setting(
        "stickinessSeconds", 3600, "how long the ALB keeps a client on one target group (1-604800 s)"
    )
    certificate_arn: str | None = setting(
        "certificateArn", None,
        f"ACM certificate in {REGION} for the ALB's HTTPS listener (TLS 1.3 policy); required with public-https",
    )
    origin_mode: str = setting(
        "originMode", "vpc-origin",
        "vpc-origin: internal ALB behind a CloudFront VPC origin; public-https: internet-facing ALB, HTTPS only",
        choices=ORIGIN_MODES,
    )
    origin_domain: str | None = setting(
        "originDomain", None, "public-https: DNS name of the ALB that certificateArn covers (CloudFront's origin)"
    )
    auth_issuer: str | None = setting("authIssuer", None, "JWT `iss` the API and the edge accept (required)")
    auth_audience: str | None = setting("authAudience", None, "JWT `aud` the API and the edge accept (required)")
    auth_public_key_pem: str | None = setting(
        "authPublicKeyPem", None,
        "PEM SPKI key verifying tokens: RSA >= 2048 bits (RS256) or EC P-256 (ES256); `\\n` accepted. "
        "Exactly one of this and authJwksUrl",
    )
    auth_jwks_url: str | None = setting("authJwksUrl", None, "https:// JWKS URL of the issuer (instead of a key)")
    auth_role_claim: str = setting("authRoleClaim", DEFAULT_ROLE_CLAIM,
                                   f"claim holding the caller's role (1-{MAX_ROLE_CLAIM} characters)")
    auth_clock_skew_seconds: int = setting(
        "authClockSkewSeconds", DEFAULT_CLOCK_SKEW_SECONDS,
        f"clock skew tolerated on exp/nbf/iat (0-{MAX_CLOCK_SKEW_SECONDS} s)"
    )
    api_throttle_rate_limit: int = setting(
        "apiThrottleRateLimit", ACCOUNT_RATE_LIMIT, "API Gateway stage and usage plan steady rate (requests/s)"
    )
    api_throttle_burst_limit: int = setting(
        "apiThrottleBurstLimit", ACCOUNT_BURST_LIMIT, "API Gateway stage and usage plan burst (requests)"
    )
    origin_verify_header: str = setting(
        "originVerifyHeader", "x-origin-verify", "header CloudFront adds and the ALB requires"
    )
    # A secret: arrives as `pulumi.Output[str]` (or None when unset), never as plain text.
    origin_verify_secret: Any = setting(
        "originVerifySecret", None, "value of that header (secret; `invoke secrets --suffix S` generates it)",
        secret=True,
    )
    manage_api_gateway_account: bool = setting(
        "manageApiGatewayAccount", False,
        "also manage the account's API Gateway CloudWatch role (a regional singleton: one stack per account)",
    )
    sale_windows: str = setting(
        "saleWindows", "[]", "declared flash sales (JSON list written by `invoke sale plan`): provisioned concurrency "
        "scheduled on alias `live` for each window")
    cache_ttl_seconds: int = setting("cacheTtlSeconds", 5, "API: DynamoDB cache entry lifetime (s, 0-86400)")
    local_cache_ttl_ms: int = setting("localCacheTtlMs", 1000, "API: in-process cache lifetime (ms, 0-60000)")
    session_ttl_seconds: int = setting("sessionTtlSeconds", 1800, "API: session lifetime (s, 1-2592000)")
    reservation_ttl_seconds: int = setting(
        "reservationTtlSeconds", 600, "API: unpaid reservation hold time (s, 1-86400)"
    )
    # --- the waiting room (README "Waiting room"); `invoke sale plan --waiting-room` writes these ---
    waiting_room_skus: str = setting(
        room.SKUS_KEY, "", "comma-separated SKUs sold through the waiting room; empty: no room (the controller's "
        "schedule is disabled)")
    waiting_room_admit_per_second: int = setting(
        room.ADMIT_KEY, room.DEFAULT_ADMIT_PER_SECOND,
        f"shoppers admitted per second per SKU ({room.ADMIT_RANGE[0]}-{room.ADMIT_RANGE[1]})")
    waiting_room_max_active: int = setting(
        room.MAX_ACTIVE_KEY, room.DEFAULT_MAX_ACTIVE,
        f"shoppers holding a valid pass at once per SKU ({room.MAX_ACTIVE_RANGE[0]}-{room.MAX_ACTIVE_RANGE[1]})")
    waiting_room_pass_seconds: int = setting(
        room.PASS_KEY, room.DEFAULT_PASS_SECONDS,
        f"lifetime of an admission pass (s, {room.PASS_RANGE[0]}-{room.PASS_RANGE[1]})")
    waiting_room_starts_at: str | None = setting(
        room.STARTS_AT_KEY, None, "ISO 8601 UTC instant admission starts; before it shoppers join a pre-queue")
    waiting_room_ends_at: str | None = setting(
        room.ENDS_AT_KEY, None, "ISO 8601 UTC instant the room ends (the sale window's end): after it the SKUs sell "
        "without a pass and the controller's schedule stops one pass lifetime later; unset: no end")

    @property
    def waiting_room_sku_list(self) -> tuple[str, ...]:
        return room.parse_skus(self.waiting_room_skus)

    def waiting_room_window(self, now: datetime | None = None) -> room.ControllerWindow:
        """The controller schedule's state and dates; a room past its end deploys as no room."""
        return room.controller_window(self.waiting_room_sku_list, self.waiting_room_starts_at,
                                      self.waiting_room_ends_at, self.waiting_room_pass_seconds, now)

    def waiting_room_env(self, table_name: Any, window: room.ControllerWindow) -> dict[str, Any]:
        """WAITING_ROOM_* of the API and the controller (waiting-room-config.mjs); the API adds its key's ARN."""
        live = window.enabled
        env = {"WAITING_ROOM_SKUS": ",".join(self.waiting_room_sku_list) if live else "",
               "WAITING_ROOM_TABLE": table_name,
               "WAITING_ROOM_ADMIT_PER_SECOND": str(self.waiting_room_admit_per_second),
               "WAITING_ROOM_MAX_ACTIVE": str(self.waiting_room_max_active),
               "WAITING_ROOM_PASS_SECONDS": str(self.waiting_room_pass_seconds)}
        for name, value in (("WAITING_ROOM_STARTS_AT", self.waiting_room_starts_at),
                            ("WAITING_ROOM_ENDS_AT", self.waiting_room_ends_at)):
            if live and value:
                env[name] = value.strip()
        return env

    @property
    def internet_facing(self) -> bool:
        return self.origin_mode == "public-https"

    def identity_env(self) -> dict[str, str]:
        """The API function's AUTH_* variables (containers/catalog-api/src/config.mjs loadAuthConfig)."""
        env = {"AUTH_ISSUER": str(self.auth_issuer), "AUTH_AUDIENCE": str(self.auth_audience),
               "AUTH_ROLE_CLAIM": self.auth_role_claim,
               "AUTH_CLOCK_SKEW_SECONDS": str(self.auth_clock_skew_seconds)}
        if self.auth_public_key_pem is not None:
            env["AUTH_PUBLIC_KEY_PEM"] = normalize_pem(self.auth_public_key_pem)
        else:
            env["AUTH_JWKS_URL"] = str(self.auth_jwks_url)
        return env

    def _validate_fault_injection(self) -> None:
        ns = NAMESPACE
        given = [k for k, v in (("faultConfigLocation", self.fault_config_location),
                                ("faultExtensionLayerArn", self.fault_extension_layer_arn),
                                ("faultExtensionSha256", self.fault_extension_sha256)) if v]
        if not self.fault_injection:
            require(not given, ns, given[0] if given else "faultInjection", "is set but faultInjection is off",
                    "set faultInjection=true too, or drop it")
            return
        require(S3_LOCATION.fullmatch(self.fault_config_location) is not None, ns, "faultConfigLocation",
                f"{self.fault_config_location!r} is not an S3 location" if self.fault_config_location
                else "is required by faultInjection",
                "arn:aws:s3:::catalog-fis-config-<suffix>-<account>/FisConfigs (the only location the boundaries "
                "allow), e.g. arn:aws:s3:::catalog-fis-config-qa-123456789012/FisConfigs")
        require(LAYER_VERSION_ARN.fullmatch(self.fault_extension_layer_arn) is not None, ns,
                "faultExtensionLayerArn", f"{self.fault_extension_layer_arn!r} is not a us-east-1 layer version ARN"
                if self.fault_extension_layer_arn else "is required by faultInjection",
                "aws ssm get-parameter --name /aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x")
        require("x86" not in self.fault_extension_layer_arn.lower(), ns, "faultExtensionLayerArn",
                "names the x86_64 extension; the API runs on arm64", "use the AWS-FIS-extension-arm64 parameter's ARN")
        require(CODE_SHA256.fullmatch(self.fault_extension_sha256) is not None, ns, "faultExtensionSha256",
                f"{self.fault_extension_sha256!r} is not a base64 SHA-256" if self.fault_extension_sha256
                else "is required by faultInjection",
                "aws lambda get-layer-version-by-arn --arn <faultExtensionLayerArn> --query Content.CodeSha256")

    def _validate_identity(self) -> None:
        ns = NAMESPACE
        # No "auth off" mode: the API refuses to start without them, so the deploy stops first, naming the key.
        for key, value, allowed in (
            ("authIssuer", self.auth_issuer, "the `iss` claim of your identity provider's tokens, e.g. "
             "https://auth.example.com/"),
            ("authAudience", self.auth_audience, "the `aud` claim your identity provider puts in tokens for this "
             "API, e.g. catalog-api"),
        ):
            require(value is not None, ns, key, "is not set (or empty): the API verifies bearer tokens and does not "
                    "start without it", allowed)
            problem = string_or_uri_problem(str(value))
            require(problem is None, ns, key, f"{value!r} {problem}",
                    "a non-empty string or URI such as https://auth.example.com/")
        pem, jwks = self.auth_public_key_pem, self.auth_jwks_url
        require(pem is not None or jwks is not None, ns, "authPublicKeyPem",
                "is not set (nor authJwksUrl): nothing could verify bearer tokens",
                "a PEM SPKI public key, or authJwksUrl (exactly one)")
        require(pem is None or jwks is None, ns, "authJwksUrl", "is set together with authPublicKeyPem",
                "exactly one key source")
        if pem is not None:
            try:
                jwt_alg_for_public_key(normalize_pem(pem))
            except ValueError as exc:
                raise ConfigError(f"{ns}:authPublicKeyPem: malformed public key: {exc}",
                                  "allowed: PEM SPKI, RSA >= 2048 bits or EC P-256 "
                                  "(openssl pkey -pubout prints one)") from None
        if jwks is not None:
            problem = jwks_url_problem(jwks)
            require(problem is None, ns, "authJwksUrl", f"{jwks!r} {problem}",
                    "https://<issuer>/.well-known/jwks.json")
        role = self.auth_role_claim
        require(js_trim_ok(role) and utf16_length(role) <= MAX_ROLE_CLAIM, ns, "authRoleClaim",
                f"{role!r} is empty, too long or has surrounding whitespace",
                f"1-{MAX_ROLE_CLAIM} characters, e.g. {DEFAULT_ROLE_CLAIM}")
        require(0 <= self.auth_clock_skew_seconds <= MAX_CLOCK_SKEW_SECONDS, ns, "authClockSkewSeconds",
                f"{self.auth_clock_skew_seconds} is out of range", f"0-{MAX_CLOCK_SKEW_SECONDS}")
    # --- front door (WAF) on the API Gateway stage (README "Front door (WAF)") ---
    api_waf_rate_limit: int = setting(
        "apiWafRateLimit", API_WAF_RATE_LIMIT,
        "requests per client IP per evaluation window on the API Gateway stage's web ACL (10-2e9)")
    api_waf_evaluation_window_seconds: int = setting(
        "apiWafEvaluationWindowSeconds", 60, "that rule's look-back window (60, 120, 300, 600 s)")

    fault_injection: bool = setting(
        "faultInjection", False, "build the API image with AWS's FIS Lambda extension and enable it (the sale "
        "rehearsal's lambda-* faults); off by default, for test environments")
    fault_config_location: str = setting(
        "faultConfigLocation", "", "with faultInjection: the S3 location FIS writes fault configurations to "
        "(exactly arn:aws:s3:::catalog-fis-config-<suffix>-<account>/FisConfigs, a bucket you bring: the only "
        "location the boundaries allow); exported for the observability layer's Lambda experiments")
    fault_extension_layer_arn: str = setting(
        "faultExtensionLayerArn", "", "with faultInjection: the FIS extension's arm64 layer version ARN (SSM "
        "/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x), copied into the image")
    fault_extension_sha256: str = setting(
        "faultExtensionSha256", "", "with faultInjection: that layer version's CodeSha256 (base64): the build "
        "refuses any other content")

    def validate(self) -> None:
        ns = NAMESPACE
        self._validate_identity()
        self._validate_fault_injection()
        parse_app_windows(self.sale_windows, ns)
        if self.image_archive is not None:
            require(self.image_uri is None, ns, "imageArchive", "imageArchive and imageUri are both set",
                    "one image source: the archive to push, or the image already in ECR")
            require(Path(self.image_archive).is_absolute(), ns, "imageArchive",
                    f"{self.image_archive!r} is a relative path (Pulumi runs the program in projects/app)",
                    "an absolute path, e.g. \"$PWD/api-image.tar\"")
            problem = oci_archive_problem(Path(self.image_archive))
            require(problem is None, ns, "imageArchive", f"{self.image_archive!r} {problem}",
                    "the tar `docker buildx build --platform linux/arm64 --output type=oci,dest=FILE` writes")
        if self.image_uri is not None:
            match = IMAGE_URI.match(self.image_uri)
            require(match is not None, ns, "imageUri", f"{self.image_uri!r} is not an ECR image reference",
                    f"<12-digit account>.dkr.ecr.{REGION}.amazonaws.com/<repo>@sha256:<64 hex> or ...:<tag>")
            assert match is not None
            require(match["region"] == REGION, ns, "imageUri",
                    f"the image is in {match['region']}; Lambda pulls only from ECR in its own region",
                    f"an ECR repository in {REGION}")
        require(self.memory_mb == mission.API_MEMORY_MB, ns, "memoryMb",
                f"{self.memory_mb} MB is refused: the mission fixes 3 GB for the API function",
                str(mission.API_MEMORY_MB))
        require(self.architecture == mission.API_ARCHITECTURE, ns, "architecture",
                f"{self.architecture!r} is refused: the mission requires Graviton2 and the image is built for "
                f"linux/{mission.API_ARCHITECTURE}", mission.API_ARCHITECTURE)
        require(1 <= self.timeout_seconds < API_GATEWAY_INTEGRATION_LIMIT_S, ns, "timeoutSeconds",
                f"{self.timeout_seconds} s must stay below API Gateway's {API_GATEWAY_INTEGRATION_LIMIT_S} s "
                "integration limit", f"1-{API_GATEWAY_INTEGRATION_LIMIT_S - 1}")
        require(self.log_retention_days in LOG_RETENTION_DAYS, ns, "logRetentionDays",
                f"{self.log_retention_days} is not a CloudWatch Logs retention period",
                ", ".join(map(str, LOG_RETENTION_DAYS)))
        lo, hi = self.provisioned_concurrency_min, self.provisioned_concurrency_max
        require(lo >= 1, ns, "provisionedConcurrencyMin",
                f"{lo} leaves alias live without warm environments (the mission: "
                f"{mission.PROVISIONED_CONCURRENCY_MIN} to {mission.PROVISIONED_CONCURRENCY_MAX})", f"1-{hi}")
        require(hi <= mission.PROVISIONED_CONCURRENCY_MAX, ns, "provisionedConcurrencyMax",
                f"{hi} exceeds the mission's maximum of {mission.PROVISIONED_CONCURRENCY_MAX} concurrent executions",
                f"{lo}-{mission.PROVISIONED_CONCURRENCY_MAX}")
        require(lo <= hi, ns, "provisionedConcurrencyMin",
                f"minimum {lo} is above maximum {hi}", f"a minimum from 1 to {hi}")
        require(0.1 <= self.provisioned_concurrency_target <= 0.9, ns, "provisionedConcurrencyTarget",
                f"{self.provisioned_concurrency_target} is outside the useful utilization range", "0.1-0.9")
        require(0 <= self.canary_weight <= 100, ns, "canaryWeight",
                f"{self.canary_weight} is not a percentage", "0-100")
        if self.canary_version is not None:
            require(re.fullmatch(r"[1-9][0-9]*", self.canary_version) is not None, ns, "canaryVersion",
                    f"{self.canary_version!r} is not a published version number ($LATEST cannot take traffic "
                    "through an alias with provisioned concurrency semantics)", "e.g. 7")
        require(1 <= self.stickiness_seconds <= 604_800, ns, "stickinessSeconds",
                f"{self.stickiness_seconds} is outside the ALB's target group stickiness range", "1-604800")
        if self.certificate_arn is not None:
            require(CERTIFICATE_ARN.match(self.certificate_arn) is not None, ns, "certificateArn",
                    f"{self.certificate_arn!r} is not an ACM certificate ARN in {REGION} (the ALB's region)",
                    f"arn:aws:acm:{REGION}:<account>:certificate/<uuid>")
        require(1 <= self.api_throttle_rate_limit <= ACCOUNT_RATE_LIMIT, ns, "apiThrottleRateLimit",
                f"{self.api_throttle_rate_limit} exceeds the account's API Gateway default of "
                f"{ACCOUNT_RATE_LIMIT} requests/s", f"1-{ACCOUNT_RATE_LIMIT}")
        require(1 <= self.api_throttle_burst_limit <= ACCOUNT_BURST_LIMIT, ns, "apiThrottleBurstLimit",
                f"{self.api_throttle_burst_limit} exceeds the account's API Gateway default burst of "
                f"{ACCOUNT_BURST_LIMIT}", f"1-{ACCOUNT_BURST_LIMIT}")
        header = self.origin_verify_header
        lower = header.lower()
        require(HEADER_NAME.match(header) is not None and lower not in RESERVED_HEADERS
                and not lower.startswith(RESERVED_HEADER_PREFIXES), ns, "originVerifyHeader",
                f"{header!r} cannot be a CloudFront custom origin header matched by an ALB rule",
                "1-40 letters, digits, hyphens, not Host/Authorization nor X-Amz-*, X-Edge-*, X-Forwarded-*")
        require(0 <= self.cache_ttl_seconds <= 86_400, ns, "cacheTtlSeconds",
                f"{self.cache_ttl_seconds} is outside what the API accepts", "0-86400")
        require(0 <= self.local_cache_ttl_ms <= 60_000, ns, "localCacheTtlMs",
                f"{self.local_cache_ttl_ms} is outside what the API accepts", "0-60000")
        require(1 <= self.session_ttl_seconds <= 30 * 86_400, ns, "sessionTtlSeconds",
                f"{self.session_ttl_seconds} is outside what the API accepts", "1-2592000")
        require(1 <= self.reservation_ttl_seconds <= 86_400, ns, "reservationTtlSeconds",
                f"{self.reservation_ttl_seconds} is outside what the API accepts", "1-86400")
        if self.origin_mode == "public-https":
            # Internet-facing: CloudFront -> ALB crosses the internet, so HTTPS is the only listener.
            require(self.certificate_arn is not None, ns, "certificateArn",
                    "is required with originMode=public-https (an internet-facing ALB serves HTTPS only)",
                    f"an ACM certificate in {REGION} covering originDomain, or originMode=vpc-origin")
            require(self.origin_domain is not None, ns, "originDomain",
                    "is required with originMode=public-https (CloudFront must reach the name the certificate "
                    "covers)", "e.g. api-origin.example.com")
        if self.certificate_arn is not None:
            require(self.origin_domain is not None, ns, "originDomain",
                    "is required with certificateArn (CloudFront validates the ALB's certificate against it)",
                    "the DNS name the certificate covers")
        if self.origin_domain is not None:
            require(HOSTNAME.match(self.origin_domain) is not None, ns, "originDomain",
                    f"{self.origin_domain!r} is not a lowercase DNS name", "e.g. api-origin.example.com")
        check_rate(ns, "apiWafRateLimit", self.api_waf_rate_limit, self.api_waf_evaluation_window_seconds,
                   "apiWafEvaluationWindowSeconds")
        room.check_settings(ns, self.waiting_room_skus, self.waiting_room_admit_per_second,
                            self.waiting_room_max_active, self.waiting_room_pass_seconds, self.waiting_room_starts_at,
                            self.waiting_room_ends_at)
