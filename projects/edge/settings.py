"""Edge layer settings (config namespace `catalog-edge`).

The JWT settings become `config.json` inside the viewer-request zip (Lambda@Edge has no environment variables).
They are checked here with the rules of `projects/edge/functions/src/config.mjs`, so a value the function would
refuse at run time (and then fail closed with `auth_not_configured`) is refused before anything is deployed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.runtime import REGION
from shared.runtime.aws_rules import LOG_RETENTION_DAYS
from shared.runtime.errors import ConfigError
from shared.runtime.settings import require, setting
from shared.runtime.waf import DEFAULT_MANAGED_RULE_GROUPS, check_managed_groups, check_rate

NAMESPACE = "catalog-edge"
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
ORIGIN_ACCESS = ("oai", "oac")
MICRO_CACHE_TTL = (1, 5)
MAX_CLOCK_SKEW_SECONDS = 300  # config.mjs MAX_CLOCK_SKEW_SECONDS
MAX_ROLE_CLAIM = 128  # config.mjs: roleClaim.length (UTF-16 code units) <= 128
MAX_ISSUER = 1024
MIN_RSA_BITS = 2048
# WAF rate limits, sized from shared/tooling/capacity.py (50,000 shoppers, one request every 5 s, 20% of them
# reservations): a shopper sends ~12 requests/min, ~2.4 reservations/min. Per IP and 60 s window:
# 600 = 50 shoppers behind one NAT (office, campus, mobile carrier) at full sale pace; reservations 60 = 25 such
# shoppers, or one client reserving every second (a bot). README "Front door (WAF)" explains.
WAF_RATE_LIMIT = 600
WAF_RESERVATION_RATE_LIMIT = 60
WAF_WINDOW_S = 60

# CloudFront viewer certificates come from ACM in us-east-1 only; a distribution's web ACL is a global
# (CLOUDFRONT scope) WAFv2 ACL, whose ARN is also in us-east-1.
CERTIFICATE_ARN = re.compile(
    rf"^arn:aws:acm:{REGION}:\d{{12}}:certificate/[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$"
)
WEB_ACL_ARN = re.compile(
    rf"^arn:aws:wafv2:{REGION}:\d{{12}}:global/webacl/[A-Za-z0-9_-]{{1,128}}/"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
# A DNS name: lowercase labels of 1-63 letters/digits/hyphens; aliases may start with one `*.` wildcard label.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$)(?:{_LABEL}\.)+[a-z][a-z0-9-]{{0,61}}[a-z0-9]$")
ALIAS = re.compile(rf"^(?:\*\.)?(?=.{{1,253}}$)(?:{_LABEL}\.)+[a-z][a-z0-9-]{{0,61}}[a-z0-9]$")

# What JavaScript's String.prototype.trim() removes (WhiteSpace and LineTerminator code points); Python's
# str.strip() differs (it strips \x1c-\x1f, keeps \ufeff), so config.mjs's "no surrounding whitespace" rule
# is mirrored exactly.
JS_WHITESPACE = frozenset(
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)

# DER encodings of the SPKI algorithm OIDs config.mjs accepts: rsaEncryption (not RSASSA-PSS, which Node reports
# as `rsa-pss` and refuses, while `cryptography` loads it as a plain RSA key) and id-ecPublicKey.
OID_RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")
OID_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")
PEM_BLOCK = re.compile(
    r"^-----BEGIN PUBLIC KEY-----\r?\n(?P<body>[A-Za-z0-9+/=\r\n]+?)\r?\n?-----END PUBLIC KEY-----$"
)


def js_trim_ok(value: str) -> bool:
    """config.mjs nonEmptyString: non-empty after trim() and equal to its trim()."""
    return bool(value) and value[0] not in JS_WHITESPACE and value[-1] not in JS_WHITESPACE


def utf16_length(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def normalize_pem(value: str) -> str:
    """Accept a PEM pasted on one line with literal `\\n` separators (convenient for `--config`)."""
    text = value.strip()
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    return text + "\n"


def _der_tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at `offset`."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[offset], data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def spki_algorithm_oid(der: bytes) -> bytes:
    """The algorithm OID (raw DER value) of a SubjectPublicKeyInfo."""
    tag, start, end = _der_tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError("not a DER SEQUENCE")
    tag, alg_start, _ = _der_tlv(der, start)
    if tag != 0x30:
        raise ValueError("no AlgorithmIdentifier")
    tag, oid_start, oid_end = _der_tlv(der, alg_start)
    if tag != 0x06:
        raise ValueError("no algorithm OID")
    return der[oid_start:oid_end]


def jwt_alg_for_public_key(pem: str) -> str:
    """RS256 or ES256 for a key config.mjs accepts; ValueError saying why otherwise."""
    import base64
    import binascii

    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
    except ImportError:  # a runtime dependency of the repository (pyproject.toml)
        raise ValueError("the `cryptography` package is needed to check it: pip install -e '.[dev]'") from None

    match = PEM_BLOCK.match(pem.strip())
    if not match:
        raise ValueError("expected exactly one PEM SPKI block: -----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----")
    try:
        der = base64.b64decode("".join(match["body"].split()), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"the PEM body is not base64 ({exc})") from None
    oid = spki_algorithm_oid(der)
    if oid not in (OID_RSA_ENCRYPTION, OID_EC_PUBLIC_KEY):
        raise ValueError("the key is neither RSA (rsaEncryption) nor EC; RSA-PSS, Ed25519 and others are refused")
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"the key does not parse ({exc})") from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} are required")
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError(f"EC key on {key.curve.name}; only P-256 (ES256) is accepted")
        return "ES256"
    raise ValueError(f"unsupported key type {type(key).__name__}")


def _string_or_uri_problem(value: str) -> str | None:
    """Why `value` is not a usable JWT iss/aud (RFC 7519 StringOrURI), or None."""
    if not js_trim_ok(value):
        return "must be non-empty without surrounding whitespace"
    if len(value) > MAX_ISSUER:
        return f"has {len(value)} characters; at most {MAX_ISSUER}"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "contains control characters"
    if ":" in value:  # RFC 7519 2: a value containing ':' must be a URI
        parts = urlsplit(value)
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", parts.scheme or ""):
            return "contains ':' but is not a URI (scheme:...)"
        if parts.scheme in ("http", "https") and not parts.netloc:
            return "is an http(s) URL without a host"
        if any(c.isspace() for c in value):
            return "is a URI with whitespace"
    return None


@dataclass(frozen=True)
class Settings:
    jwt_issuer: str | None = setting(
        "jwtIssuer", None, "JWT `iss` that writes must carry (unset: writes through CloudFront are refused)"
    )
    jwt_audience: str | None = setting("jwtAudience", None, "JWT `aud` that writes must carry")
    jwt_public_key_pem: str | None = setting(
        "jwtPublicKeyPem", None,
        "PEM SPKI public key (`BEGIN PUBLIC KEY`): RSA >= 2048 bits (RS256) or EC P-256 (ES256); `\\n` accepted",
    )
    jwt_role_claim: str = setting("jwtRoleClaim", "role", "claim holding the caller's role (1-128 characters)")
    clock_skew_seconds: int = setting("clockSkewSeconds", 30, "clock skew tolerated on exp/nbf/iat (0-300 s)")
    micro_cache_ttl_seconds: int = setting(
        "microCacheTtlSeconds", 2, "how long CloudFront caches API GET/HEAD answers (1-5 s), keyed on the query string"
    )
    origin_shield: bool = setting(
        "originShield", True, f"Origin Shield ({REGION}) in front of the ALB: one origin fetch per object per TTL"
    )
    price_class: str = setting(
        "priceClass", "PriceClass_All", "CloudFront edge locations used (all: lowest latency worldwide)",
        choices=PRICE_CLASSES,
    )
    aliases: tuple[str, ...] = setting("aliases", (), "alternate domain names (need certificateArn)")
    certificate_arn: str | None = setting(
        "certificateArn", None, f"ACM certificate in {REGION} covering the aliases (SNI, TLSv1.2_2021)"
    )
    web_acl_arn: str | None = setting(
        "webAclArn", None,
        "bring your own WAFv2 web ACL (CLOUDFRONT scope, global) ARN; unset: the layer creates and logs its own",
    )
    waf_rate_limit: int = setting(
        "wafRateLimit", WAF_RATE_LIMIT, "requests per client IP per evaluation window, all paths (10-2e9)")
    waf_reservation_rate_limit: int = setting(
        "wafReservationRateLimit", WAF_RESERVATION_RATE_LIMIT,
        "POST /api/products/*/reservations per client IP per evaluation window (10-2e9, <= wafRateLimit)")
    waf_evaluation_window_seconds: int = setting(
        "wafEvaluationWindowSeconds", WAF_WINDOW_S, "rate-based rules' look-back window (60, 120, 300, 600 s)")
    waf_managed_rule_groups: tuple[str, ...] = setting(
        "wafManagedRuleGroups", DEFAULT_MANAGED_RULE_GROUPS, "AWS managed rule groups in the web ACL")
    waf_bot_control: bool = setting(
        "wafBotControl", False, "add AWS WAF Bot Control (common): priced per request, see the README")
    log_retention_days: int = setting("logRetentionDays", 30, "retention of the WAF log group (days)")
    origin_access: str = setting(
        "originAccess", "oai", "how CloudFront reads the static bucket: oai (the mission) or oac", choices=ORIGIN_ACCESS
    )
    api_origin_domain: str | None = setting(
        "apiOriginDomain", None,
        "DNS name of the ALB covered by its HTTPS certificate; set: CloudFront reaches the ALB https-only there",
    )

    @property
    def auth_configured(self) -> bool:
        return self.jwt_public_key_pem is not None

    def validate(self) -> None:
        ns = NAMESPACE
        jwt = {"jwtIssuer": self.jwt_issuer, "jwtAudience": self.jwt_audience,
               "jwtPublicKeyPem": self.jwt_public_key_pem}
        given = [k for k, v in jwt.items() if v is not None]
        if given:
            missing = [k for k, v in jwt.items() if v is None]
            require(not missing, ns, missing[0] if missing else "", f"{', '.join(given)} set without it",
                    "set jwtIssuer, jwtAudience and jwtPublicKeyPem together, or none of them")
            for key in ("jwtIssuer", "jwtAudience"):
                problem = _string_or_uri_problem(str(jwt[key]))
                require(problem is None, ns, key, f"{jwt[key]!r} {problem}",
                        "a non-empty string or URI such as https://auth.example.com/")
            try:
                jwt_alg_for_public_key(normalize_pem(str(self.jwt_public_key_pem)))
            except ValueError as exc:
                raise ConfigError(f"{ns}:jwtPublicKeyPem: malformed public key: {exc}",
                                  "allowed: PEM SPKI, RSA >= 2048 bits or EC P-256 "
                                  "(openssl pkey -pubout prints one)") from None
        role = self.jwt_role_claim
        require(js_trim_ok(role) and utf16_length(role) <= MAX_ROLE_CLAIM, ns, "jwtRoleClaim",
                f"{role!r} is empty, too long or has surrounding whitespace", "1-128 characters, e.g. role")
        require(0 <= self.clock_skew_seconds <= MAX_CLOCK_SKEW_SECONDS, ns, "clockSkewSeconds",
                f"{self.clock_skew_seconds} is out of range", f"0-{MAX_CLOCK_SKEW_SECONDS}")
        lo, hi = MICRO_CACHE_TTL
        require(lo <= self.micro_cache_ttl_seconds <= hi, ns, "microCacheTtlSeconds",
                f"{self.micro_cache_ttl_seconds} s is outside the micro-cache range "
                "(0 would send every flash-sale read to the origin; longer serves stale stock)", f"{lo}-{hi}")
        if self.certificate_arn is not None:
            require(CERTIFICATE_ARN.match(self.certificate_arn) is not None, ns, "certificateArn",
                    f"{self.certificate_arn!r} is not an ACM certificate ARN in {REGION} (CloudFront uses only those)",
                    f"arn:aws:acm:{REGION}:<12-digit account>:certificate/<uuid>")
            require(bool(self.aliases), ns, "certificateArn", "a certificate without aliases is never served",
                    "set aliases to the domain names it covers")
        for alias in self.aliases:
            require(ALIAS.match(alias) is not None, ns, "aliases", f"{alias!r} is not a lowercase DNS name",
                    "e.g. shop.example.com or *.example.com")
        require(len(set(self.aliases)) == len(self.aliases), ns, "aliases", "an alias is listed twice", "unique names")
        require(not self.aliases or self.certificate_arn is not None, ns, "aliases",
                "CloudFront refuses alternate domain names without a certificate covering them",
                f"also set certificateArn (ACM, {REGION})")
        if self.web_acl_arn is not None:
            require(WEB_ACL_ARN.match(self.web_acl_arn) is not None, ns, "webAclArn",
                    f"{self.web_acl_arn!r} is not a global (CLOUDFRONT scope) WAFv2 web ACL ARN",
                    f"arn:aws:wafv2:{REGION}:<account>:global/webacl/<name>/<uuid>")
        check_rate(ns, "wafRateLimit", self.waf_rate_limit, self.waf_evaluation_window_seconds,
                   "wafEvaluationWindowSeconds")
        check_rate(ns, "wafReservationRateLimit", self.waf_reservation_rate_limit,
                   self.waf_evaluation_window_seconds, "wafEvaluationWindowSeconds")
        require(self.waf_reservation_rate_limit <= self.waf_rate_limit, ns, "wafReservationRateLimit",
                f"{self.waf_reservation_rate_limit} is above wafRateLimit {self.waf_rate_limit} (never reached)",
                f"10-{self.waf_rate_limit}")
        check_managed_groups(ns, "wafManagedRuleGroups", self.waf_managed_rule_groups)
        require(self.log_retention_days in LOG_RETENTION_DAYS, ns, "logRetentionDays",
                f"{self.log_retention_days} is not a CloudWatch Logs retention period",
                ", ".join(map(str, LOG_RETENTION_DAYS)))
        if self.api_origin_domain is not None:
            require(HOSTNAME.match(self.api_origin_domain) is not None, ns, "apiOriginDomain",
                    f"{self.api_origin_domain!r} is not a lowercase DNS name", "e.g. api-origin.example.com")
