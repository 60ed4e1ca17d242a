"""The distribution's AWS WAF web ACL (scope CLOUDFRONT), built from the edge settings (shared/runtime/waf.py).

Rules: the managed groups of `wafManagedRuleGroups`, a per-IP rate limit on all traffic (`wafRateLimit`), a
stricter one on reservation writes (`wafReservationRateLimit`: POST to a path matching
`^/api/products/[^/]+/reservations$`), both over `wafEvaluationWindowSeconds`, and Bot Control when
`wafBotControl`. Over a limit: `429` with `Retry-After` (the window), JSON on `/api/*`, the site's page elsewhere.
CLOUDFRONT-scope ACLs and their log groups exist only in us-east-1: everything here is created through the
edge layer's us-east-1 provider (https://docs.aws.amazon.com/waf/latest/developerguide/how-aws-waf-works-resources.html).
"""

from __future__ import annotations

from projects.edge.settings import Settings
from projects.edge.site_files import site_objects
from shared.runtime.waf import RateRule, WebAclArgs, method_is, path_matches

RESERVATIONS_PATH = r"^/api/products/[^/]+/reservations$"


def throttled_page() -> str:
    """The site's look for a 429 (its hashed stylesheet; WAF answers before the origin-response function)."""
    css = next(o.key for o in site_objects() if o.source == "assets/site.css")
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n"
            "  <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "  <title>Too many requests</title>\n  <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n"
            f"  <link rel=\"stylesheet\" href=\"/{css}\">\n</head>\n<body>\n"
            "  <header><h1>Too many requests</h1></header>\n  <main>\n"
            "    <p>The sale is busy and we received too many requests from your address. Please wait a minute.</p>\n"
            "    <p><a href=\"/\">Back to the catalog</a></p>\n  </main>\n</body>\n</html>\n")


def rate_rules(settings: Settings) -> tuple[RateRule, ...]:
    window = settings.waf_evaluation_window_seconds
    reservations = {"and_statement": {"statements": [method_is("POST"), path_matches(RESERVATIONS_PATH)]}}
    return (
        RateRule("rate-ip", settings.waf_rate_limit, window),
        RateRule("rate-reservations", settings.waf_reservation_rate_limit, window, reservations),
    )


def edge_web_acl_args(settings: Settings, name: str, log_group_name: str, suffix: str) -> WebAclArgs:
    return WebAclArgs(
        scope="CLOUDFRONT",
        name=name,
        description=f"catalog edge {suffix}: managed rules, per-IP rate limits, 429 JSON under /api/",
        log_group_name=log_group_name,
        log_retention_days=settings.log_retention_days,
        managed_rule_groups=settings.waf_managed_rule_groups,
        rate_rules=rate_rules(settings),
        bot_control=settings.waf_bot_control,
        retry_after_s=settings.waf_evaluation_window_seconds,
        html_page=throttled_page(),
        tags={"Name": name},
    )
