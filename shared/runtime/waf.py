"""AWS WAF (wafv2) web ACLs of the catalog: managed rule groups, per-IP rate limits, JSON/HTML 429s, logging.

Used by the edge layer (scope CLOUDFRONT, on the distribution) and the app layer (scope REGIONAL, on the API
Gateway stage). One ACL holds, in priority order:

1. AWS managed rule groups (AWSManagedRulesAmazonIpReputationList first: cheapest, drops known-bad sources).
2. Rate-based rules per client IP, action **count** plus a label: a rate-based rule has one action, but an
   over-limit shopper must get JSON on `/api/*` and the site's page elsewhere; counting + labelling keeps one
   counter per rule, and the two `throttle-*` rules below answer by path. (Rate-based rules: "Rate-based rule
   high-level settings" and "Rate-based rule examples" in the WAF Developer Guide,
   https://docs.aws.amazon.com/waf/latest/developerguide/waf-rule-statement-type-rate-based.html)
3. `throttle-api` (label and path `/api/`): 429 JSON + Retry-After; `throttle-site` (label): 429 HTML page.
4. Optional Bot Control (AWSManagedRulesBotControlRuleSet, common level): priced per request, off by default.

Bounds (botocore wafv2 model, RateLimit / EvaluationWindowSec): limit 10-2,000,000,000 requests per window,
window 60, 120, 300 or 600 s. Logs go to a CloudWatch log group whose name must start with `aws-waf-logs-`
(https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html); only UriPath, QueryString,
SingleHeader and Method can be redacted (LoggingConfiguration.RedactedFields), so the Authorization and Cookie
headers are redacted as single headers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from shared.runtime.errors import ConfigError

SCOPES = ("CLOUDFRONT", "REGIONAL")
RATE_LIMIT_MIN, RATE_LIMIT_MAX = 10, 2_000_000_000
EVALUATION_WINDOWS = (60, 120, 300, 600)
# Sanity ceiling: 1,000 requests/s from one address is ~5,000 shoppers (one request per 5 s) behind one NAT;
# a limit above it protects nothing (AWS's own maximum, 2e9 per window, is no useful bound).
MAX_RATE_PER_IP_PER_S = 1_000
LOG_GROUP_PREFIX = "aws-waf-logs-"
# wafv2 EntityDescription (botocore model): no `*`, quotes or parentheses.
DESCRIPTION = re.compile(r"^[\w+=:#@/\-,.][\w+=:#@/\-,.\s]+[\w+=:#@/\-,.]$")
# AWS managed rule groups (vendor AWS) that work without extra configuration; the Bot Control, ATP and ACFP groups
# need a managed_rule_group_config and are priced per request, so they are not accepted in this list.
# https://docs.aws.amazon.com/waf/latest/developerguide/aws-managed-rule-groups-list.html
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAdminProtectionRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesLinuxRuleSet",
    "AWSManagedRulesUnixRuleSet",
    "AWSManagedRulesWindowsRuleSet",
    "AWSManagedRulesPHPRuleSet",
    "AWSManagedRulesWordPressRuleSet",
)
DEFAULT_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
BOT_CONTROL = "AWSManagedRulesBotControlRuleSet"
# Headers kept out of WAF logs: bearer tokens and session/stickiness cookies.
REDACTED_HEADERS = ("authorization", "cookie")
LABEL_NAMESPACE = "catalog:rate"
API_PREFIX = "/api/"
THROTTLED_STATUS = 429
JSON_BODY_KEY, HTML_BODY_KEY = "throttled-json", "throttled-html"


def check_rate(namespace: str, key: str, limit: int, window_s: int, window_key: str) -> None:
    """Refuse a rate-based rule AWS would refuse, or one so high it never blocks anybody."""
    if window_s not in EVALUATION_WINDOWS:
        raise ConfigError(f"{namespace}:{window_key}: {window_s} s is not an AWS WAF evaluation window",
                          f"allowed: {', '.join(map(str, EVALUATION_WINDOWS))}")
    if not RATE_LIMIT_MIN <= limit <= RATE_LIMIT_MAX:
        raise ConfigError(f"{namespace}:{key}: {limit} requests per window is outside AWS WAF's rate-based limit",
                          f"allowed: {RATE_LIMIT_MIN}-{RATE_LIMIT_MAX:,} (RateBasedStatement.Limit)")
    ceiling = MAX_RATE_PER_IP_PER_S * window_s
    if limit > ceiling:
        raise ConfigError(f"{namespace}:{key}: {limit} per {window_s} s is over {MAX_RATE_PER_IP_PER_S} requests/s "
                          "from one address: the rule would never block anybody",
                          f"allowed: {RATE_LIMIT_MIN}-{ceiling}")


def check_managed_groups(namespace: str, key: str, groups: Sequence[str]) -> None:
    for group in groups:
        if group == BOT_CONTROL:
            raise ConfigError(f"{namespace}:{key}: {group} is set with botControl (it needs its own config)",
                              "set botControl=true instead")
        if group not in MANAGED_RULE_GROUPS:
            raise ConfigError(f"{namespace}:{key}: {group!r} is not an AWS managed rule group this stack knows",
                              f"allowed: {', '.join(MANAGED_RULE_GROUPS)}")
    if len(set(groups)) != len(groups):
        raise ConfigError(f"{namespace}:{key}: a rule group is listed twice", "unique names")


@dataclass(frozen=True)
class RateRule:
    """A per-IP rate-based rule; `scope_down` (a wafv2 statement dict) narrows what it counts."""

    name: str
    limit: int
    window_s: int
    scope_down: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return f"{LABEL_NAMESPACE}:{self.name}"


@dataclass(frozen=True)
class WebAclArgs:
    scope: str  # CLOUDFRONT or REGIONAL
    name: str  # web ACL name (also its metric name)
    description: str
    log_group_name: str  # starts with aws-waf-logs-
    log_retention_days: int
    managed_rule_groups: tuple[str, ...]
    rate_rules: tuple[RateRule, ...]
    bot_control: bool = False
    retry_after_s: int = 60
    html_page: str | None = None  # set: non-/api/ paths over the limit get this page (CLOUDFRONT)
    tags: dict[str, str] = field(default_factory=dict)


def _visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def _label_match(rule: RateRule) -> dict[str, Any]:
    return {"label_match_statement": {"scope": "LABEL", "key": rule.label}}


def _any_label(rules: Sequence[RateRule]) -> dict[str, Any]:
    matches = [_label_match(r) for r in rules]
    return matches[0] if len(matches) == 1 else {"or_statement": {"statements": matches}}


# A path reaches the API's router in many spellings: percent-encoded characters (`%72eservations`), repeated
# slashes, `.` and `..` segments, backslashes (URL parsers read them as slashes), other letter case. Path rules
# match the form WAF gets after decoding it once, turning backslashes into slashes and resolving those segments
# (NORMALIZE_PATH_WIN) and lower-casing it (lowest priority first), so a rule's pattern is written in the canonical
# lower-case form; the API refuses any path that is not canonical (400), so no spelling the router acts on escapes
# a rule. Each transformation costs 10 WCUs.
PATH_TRANSFORMATIONS: tuple[str, ...] = ("URL_DECODE", "NORMALIZE_PATH_WIN", "LOWERCASE")


def path_transformations() -> list[dict[str, Any]]:
    return [{"priority": i, "type": t} for i, t in enumerate(PATH_TRANSFORMATIONS)]


def starts_with_path(prefix: str) -> dict[str, Any]:
    """`prefix`: lower case (the path is matched lower-cased)."""
    return {"byte_match_statement": {
        "field_to_match": {"uri_path": {}}, "positional_constraint": "STARTS_WITH", "search_string": prefix,
        "text_transformations": path_transformations()}}


def method_is(method: str) -> dict[str, Any]:
    return {"byte_match_statement": {
        "field_to_match": {"method": {}}, "positional_constraint": "EXACTLY", "search_string": method,
        "text_transformations": [{"priority": 0, "type": "NONE"}]}}


def path_matches(regex: str) -> dict[str, Any]:
    """`regex`: matched against the decoded, normalized, lower-cased path (PATH_TRANSFORMATIONS)."""
    return {"regex_match_statement": {
        "field_to_match": {"uri_path": {}}, "regex_string": regex,
        "text_transformations": path_transformations()}}


def json_body(retry_after_s: int) -> str:
    # The API's error shape (`{"error": ..., "message": ...}`), so clients handle a WAF 429 like the API's own.
    return json.dumps({"error": "rate_limited", "message": "too many requests from this address; retry later",
                       "retryAfterSeconds": retry_after_s}, separators=(",", ":"))


def rules(args: WebAclArgs) -> list[dict[str, Any]]:
    """The ACL's rules in priority order (pure: the tests read it too)."""
    out: list[dict[str, Any]] = []

    def add(name: str, **rule: Any) -> None:
        out.append({"name": name, "priority": len(out), "visibility_config": _visibility(f"{args.name}-{name}"),
                    **rule})

    for group in args.managed_rule_groups:
        add(group, override_action={"none": {}},
            statement={"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}})
    for rate in args.rate_rules:
        statement: dict[str, Any] = {"aggregate_key_type": "IP", "limit": rate.limit,
                                     "evaluation_window_sec": rate.window_s}
        if rate.scope_down is not None:
            statement["scope_down_statement"] = rate.scope_down
        add(rate.name, action={"count": {}}, rule_labels=[{"name": rate.label}],
            statement={"rate_based_statement": statement})
    if args.rate_rules:
        headers = [{"name": "Retry-After", "value": str(args.retry_after_s)}]
        labelled = _any_label(args.rate_rules)

        def block(key: str) -> dict[str, Any]:
            return {"block": {"custom_response": {"response_code": THROTTLED_STATUS, "custom_response_body_key": key,
                                                  "response_headers": headers}}}

        if args.html_page is None:  # REGIONAL: the API Gateway serves only the API
            add("throttle-api", action=block(JSON_BODY_KEY), statement=labelled)
        else:
            add("throttle-api", action=block(JSON_BODY_KEY),
                statement={"and_statement": {"statements": [labelled, starts_with_path(API_PREFIX)]}})
            add("throttle-site", action=block(HTML_BODY_KEY), statement=labelled)
    if args.bot_control:
        add(BOT_CONTROL, override_action={"none": {}}, statement={"managed_rule_group_statement": {
            "vendor_name": "AWS", "name": BOT_CONTROL,
            "managed_rule_group_configs": [{"aws_managed_rules_bot_control_rule_set": {"inspection_level": "COMMON"}}],
        }})
    return out


def response_bodies(args: WebAclArgs) -> list[dict[str, Any]]:
    bodies = [{"key": JSON_BODY_KEY, "content_type": "APPLICATION_JSON", "content": json_body(args.retry_after_s)}]
    if args.html_page is not None:
        bodies.append({"key": HTML_BODY_KEY, "content_type": "TEXT_HTML", "content": args.html_page})
    return bodies


class CatalogWebAcl(pulumi.ComponentResource):
    """The web ACL, its log group and its logging configuration (created with `provider` when given)."""

    def __init__(self, resource_name: str, args: WebAclArgs, provider: pulumi.ProviderResource | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:waf:CatalogWebAcl", resource_name, None, opts)
        if args.scope not in SCOPES:
            raise ValueError(f"scope {args.scope!r}: one of {SCOPES}")
        if not (DESCRIPTION.match(args.description) and len(args.description) <= 256):
            raise ValueError(f"web ACL description {args.description!r} breaks AWS's pattern {DESCRIPTION.pattern}")
        if not args.log_group_name.startswith(LOG_GROUP_PREFIX):
            raise ValueError(f"WAF log group {args.log_group_name!r} must start with {LOG_GROUP_PREFIX!r}")
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.metric_name = args.name
        self.rule_metric_names = [r["visibility_config"]["metric_name"] for r in rules(args)]
        # CLOUDFRONT scope: the log group must be in us-east-1 too, hence the same provider.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{resource_name}-logs", name=args.log_group_name, retention_in_days=args.log_retention_days,
            tags=args.tags, opts=child)
        self.web_acl = aws.wafv2.WebAcl(
            f"{resource_name}-webacl", name=args.name, description=args.description, scope=args.scope,
            default_action={"allow": {}}, rules=rules(args), custom_response_bodies=response_bodies(args),
            visibility_config=_visibility(args.name), tags=args.tags, opts=child)
        self.logging = aws.wafv2.WebAclLoggingConfiguration(
            f"{resource_name}-logging", resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[{"single_header": {"name": h}} for h in REDACTED_HEADERS], opts=child)
        self.register_outputs({"arn": self.web_acl.arn, "name": self.web_acl.name})
