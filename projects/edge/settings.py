"""Edge layer settings (config namespace `catalog-edge`).

The JWT issuer, audience and key are not edge settings: the app layer holds them (`catalog-app:auth*`, one source
of truth for the API and the edge) and exports them; this layer reads them through its AppView and bakes them
into the viewer-request `config.json` (Lambda@Edge has no environment variables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.runtime import REGION, mission
from shared.runtime.aws_rules import LOG_RETENTION_DAYS
from shared.runtime.settings import require, setting
from shared.runtime.waf import DEFAULT_MANAGED_RULE_GROUPS, check_managed_groups, check_rate

NAMESPACE = "catalog-edge"
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
ORIGIN_ACCESS = ("oai", "oac")
MICRO_CACHE_TTL = (1, 5)
# WAF rate limits, sized from shared/ops/capacity.py (50,000 shoppers, one request every 5 s, 20% of them
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

@dataclass(frozen=True)
class Settings:
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
    log_retention_days: int = setting(
        "logRetentionDays", mission.RETENTION_DAYS, "retention of the WAF log group (days)")
    origin_access: str = setting(
        "originAccess", "oai", "how CloudFront reads the static bucket: oai (the mission) or oac", choices=ORIGIN_ACCESS
    )

    def validate(self) -> None:
        ns = NAMESPACE
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
