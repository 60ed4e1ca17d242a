"""CloudFront, API Gateway throttling, CloudWatch logs/alarms, KMS, tags."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.policy.iam_rules import _matches, _statements
from shared.policy.model import UNKNOWN, Context, Finding, Res, as_list, is_num, parse_json, refers
from shared.runtime import mission
from shared.runtime.aws_rules import LOG_RETENTION_DAYS as RETENTION_DAYS
from shared.runtime.tags import is_taggable

RATE_LIMIT = mission.API_RATE_LIMIT_RPS
BURST_LIMIT_MAX = 5_000  # the account's default burst per region
TAG_KEYS = ("Project", "Layer", "Environment", "ManagedBy", "Owner")


def _behaviors(res: Res) -> list[dict[str, Any]]:
    return [b for b in [res.inputs.get("defaultCacheBehavior") or {}, *as_list(res.inputs.get("orderedCacheBehaviors"))]
            if isinstance(b, dict)]


def check_custom_errors(res: Res, ctx: Context) -> Iterable[str]:
    """CloudFront has custom error pages for 4xx and 5xx responses: distribution-wide pages, or an origin-response
    function on every behavior (the edge layer's design: it renders the site's pages per path, keeps API JSON)."""
    responses = res.inputs.get("customErrorResponses")
    if responses is UNKNOWN:
        return
    behaviors = _behaviors(res)
    if behaviors and all(any(isinstance(a, dict) and a.get("eventType") == "origin-response"
                             for a in as_list(b.get("lambdaFunctionAssociations"))) for b in behaviors):
        return
    codes = [r.get("errorCode") for r in as_list(responses)
             if isinstance(r, dict) and r.get("responsePagePath")]
    for family in (4, 5):
        if not any(is_num(c) and int(c) // 100 == family for c in codes):
            yield f"no custom error page for {family}xx codes (and no origin-response function on every behavior)"
    for r in as_list(responses):
        if isinstance(r, dict) and r.get("responsePagePath") and not str(r["responsePagePath"]).startswith("/"):
            yield f"error {r.get('errorCode')}: responsePagePath must start with /"


def check_s3_origin_access(res: Res, ctx: Context) -> Iterable[str]:
    """CloudFront reaches S3 origins through an origin access identity or control (the bucket stays private)."""
    for origin in as_list(res.inputs.get("origins")):
        if not isinstance(origin, dict):
            continue
        domain = str(origin.get("domainName", ""))
        if ".s3." in domain or domain.endswith(".s3.amazonaws.com"):
            s3_config = origin.get("s3OriginConfig")
            oai = s3_config.get("originAccessIdentity") if isinstance(s3_config, dict) else s3_config
            if not oai and not origin.get("originAccessControlId"):
                yield f"S3 origin {origin.get('originId')} has neither an origin access identity nor control"


def check_https_viewers(res: Res, ctx: Context) -> Iterable[str]:
    """Advisory: viewers are redirected to HTTPS."""
    behaviors = [res.inputs.get("defaultCacheBehavior") or {}, *as_list(res.inputs.get("orderedCacheBehaviors"))]
    for b in behaviors:
        if isinstance(b, dict) and b.get("viewerProtocolPolicy") == "allow-all":
            yield f"cache behavior {b.get('pathPattern', 'default')} allows plain HTTP viewers"


def check_api_throttle(res: Res, ctx: Context) -> Iterable[str]:
    """API Gateway throttles at 10,000 requests/s (usage plan and stage method settings), burst within 5,000."""
    if res.type == "aws:apigateway/usagePlan:UsagePlan":
        throttle = res.inputs.get("throttleSettings")
        if throttle is UNKNOWN:
            return
        rate = throttle.get("rateLimit") if isinstance(throttle, dict) else None
        burst = throttle.get("burstLimit") if isinstance(throttle, dict) else None
    else:
        settings = res.inputs.get("settings")
        if settings is UNKNOWN:
            return
        rate = settings.get("throttlingRateLimit") if isinstance(settings, dict) else None
        burst = settings.get("throttlingBurstLimit") if isinstance(settings, dict) else None
    if rate is not UNKNOWN and rate != RATE_LIMIT:
        yield f"rate limit is {rate if rate is not None else 'unset'}; the mission fixes {RATE_LIMIT:,} requests/s"
    if burst is not UNKNOWN and (not is_num(burst) or not 0 < burst <= BURST_LIMIT_MAX):
        yield f"burst limit is {burst if burst is not None else 'unset'}; it must be 1-{BURST_LIMIT_MAX:,}"


def check_api_throttle_present(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """A stack with a REST API also has a usage plan and stage method settings carrying the throttle."""
    apis = [r for r in resources if r.type == "aws:apigateway/restApi:RestApi"]
    for api in apis:
        plans = [r for r in resources if r.type == "aws:apigateway/usagePlan:UsagePlan"]
        settings = [r for r in resources if r.type == "aws:apigateway/methodSettings:MethodSettings"
                    and refers(r, "restApi", api)]
        if not plans:
            yield api, "no usage plan: the 10,000 requests/s throttle and API keys need one"
        if not settings:
            yield api, "no stage method settings (methodPath */*) carrying the 10,000 requests/s throttle"


def check_log_retention(res: Res, ctx: Context) -> Iterable[str]:
    """Log groups expire: retentionInDays set to one of CloudWatch's allowed values."""
    days = res.inputs.get("retentionInDays")
    if days is UNKNOWN:
        return
    if days in (None, 0):
        yield "retentionInDays is unset: logs would be kept forever"
    elif days not in RETENTION_DAYS:
        yield f"retentionInDays {days} is not one CloudWatch accepts ({', '.join(map(str, RETENTION_DAYS))})"


def _key_for(topic: Res, resources: list[Res]) -> Res | None:
    """The key a topic names directly (id/ARN) or through one of its aliases."""
    aliases = [a for a in resources if a.type == "aws:kms/alias:Alias" and refers(topic, "kmsMasterKeyId", a)]
    for key in (r for r in resources if r.type == "aws:kms/key:Key"):
        if refers(topic, "kmsMasterKeyId", key) or any(refers(a, "targetKeyId", key) for a in aliases):
            return key
    return None


def _key_policy(key: Res, resources: list[Res]) -> object:
    attached = [p for p in resources if p.type == "aws:kms/keyPolicy:KeyPolicy" and refers(p, "keyId", key)]
    return parse_json(attached[0].inputs.get("policy")) if attached else parse_json(key.inputs.get("policy"))


def check_alarm_topic_key(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """Alarms can publish to the encrypted topic: a customer managed key CloudWatch may use."""
    for topic in (r for r in resources if r.type == "aws:sns/topic:Topic"):
        key_id = topic.inputs.get("kmsMasterKeyId")
        if key_id == "alias/aws/sns":
            yield topic, ("encrypted with alias/aws/sns: CloudWatch cannot use that key, alarms deploy and deliver "
                          "nothing; use a customer managed key granting cloudwatch.amazonaws.com")
            continue
        key = _key_for(topic, resources) if key_id not in (None, UNKNOWN) else None
        if key is None:
            continue
        doc = _key_policy(key, resources)
        if doc is UNKNOWN:
            continue
        needed = {"kms:Decrypt", "kms:GenerateDataKey"}
        granted = set()
        for st in _statements(doc):
            if st.get("Effect") == "Allow" and "cloudwatch.amazonaws.com" in str(st.get("Principal")):
                granted |= {n for n in needed for a in as_list(st.get("Action")) if _matches(str(a), n)}
        if granted != needed:
            yield key, (f"key policy does not grant cloudwatch.amazonaws.com {', '.join(sorted(needed - granted))}"
                        f" (kms:GenerateDataKey*): alarms to topic {topic.inputs.get('name')} would be lost")


def check_alarm_actions(res: Res, ctx: Context) -> Iterable[str]:
    """Advisory: every alarm notifies someone."""
    if not as_list(res.inputs.get("alarmActions")) and res.inputs.get("alarmActions") is not UNKNOWN:
        yield "no alarmActions: the alarm notifies nobody"


def check_key_rotation(res: Res, ctx: Context) -> Iterable[str]:
    """Advisory: customer managed symmetric keys rotate yearly."""
    spec = res.inputs.get("customerMasterKeySpec") or res.inputs.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec == "SYMMETRIC_DEFAULT" and res.inputs.get("enableKeyRotation") is not True:
        yield "enableKeyRotation is not true"
    window = res.inputs.get("deletionWindowInDays")
    if is_num(window) and window > 7:
        yield f"deletionWindowInDays {window}: 7 keeps teardown short"


def check_scan_on_push(res: Res, ctx: Context) -> Iterable[str]:
    """Advisory: ECR scans images on push."""
    if res.get("imageScanningConfiguration", "scanOnPush") is not True:
        yield "imageScanningConfiguration.scanOnPush is not true"


def check_tags(res: Res, ctx: Context) -> Iterable[str]:
    """Advisory: taggable AWS resources carry Project, Layer, Environment (= suffix), ManagedBy, Owner."""
    if not res.type.startswith("aws:") or not is_taggable(res.type):
        return
    tags = res.inputs.get("tags")
    if tags is UNKNOWN:
        return
    tags = tags if isinstance(tags, dict) else {}
    missing = [k for k in TAG_KEYS if k not in tags]
    if missing:
        yield f"missing tags {', '.join(missing)}"
    elif tags.get("Environment") not in (ctx.suffix, UNKNOWN):
        yield f"tag Environment is {tags.get('Environment')!r}, not the suffix {ctx.suffix!r}"


# --- AWS WAF -----------------------------------------------------------------------------------------
WAF_RATE_MIN, WAF_RATE_MAX = 10, 2_000_000_000  # botocore wafv2 RateLimit
WAF_WINDOWS = (60, 120, 300, 600)  # RateBasedStatement.EvaluationWindowSec
WAF_LOG_PREFIX = "aws-waf-logs-"


def check_distribution_web_acl(res: Res, ctx: Context) -> Iterable[str]:
    """An enabled (public) distribution is protected by a WAFv2 web ACL."""
    if res.inputs.get("enabled") is False:
        return
    acl = res.inputs.get("webAclId")
    if acl is UNKNOWN:
        return
    if not acl:
        yield "public distribution without a web ACL (webAclId)"
    elif not str(acl).startswith("arn:aws:wafv2:") or ":global/webacl/" not in str(acl):
        yield f"webAclId {acl!r} is not a WAFv2 web ACL of CLOUDFRONT scope (arn:aws:wafv2:...:global/webacl/...)"


def check_waf_log_destination(res: Res, ctx: Context) -> Iterable[str]:
    """WAF logs go to a destination (log group, bucket, stream) whose name starts with `aws-waf-logs-`."""
    destinations = res.inputs.get("logDestinationConfigs")
    if destinations is UNKNOWN:
        return
    if not as_list(destinations):
        yield "no log destination"
    for arn in as_list(destinations):
        if arn is UNKNOWN:
            continue
        text = str(arn)
        name = text.split(":log-group:", 1)[1].split(":", 1)[0] if ":log-group:" in text else \
            text.rsplit("/", 1)[-1] if "/" in text else text.rsplit(":", 1)[-1]
        if not name.startswith(WAF_LOG_PREFIX):
            yield f"log destination {name!r} does not start with {WAF_LOG_PREFIX!r} (AWS WAF refuses it)"


def check_waf_rate_limits(res: Res, ctx: Context) -> Iterable[str]:
    """Rate-based rules stay within AWS's bounds: limit 10-2,000,000,000, window 60/120/300/600 s."""
    rules = res.inputs.get("rules")
    if rules is UNKNOWN:
        return
    for rule in as_list(rules):
        if not isinstance(rule, dict):
            continue
        statement = rule.get("statement")
        rate = statement.get("rateBasedStatement") if isinstance(statement, dict) else None
        if not isinstance(rate, dict):
            continue
        limit, window = rate.get("limit"), rate.get("evaluationWindowSec", 300)
        if limit is not UNKNOWN and (not is_num(limit) or not WAF_RATE_MIN <= limit <= WAF_RATE_MAX):
            yield f"rule {rule.get('name')}: limit {limit} outside {WAF_RATE_MIN}-{WAF_RATE_MAX:,}"
        if window is not UNKNOWN and window not in WAF_WINDOWS:
            yield f"rule {rule.get('name')}: evaluation window {window} s is not one of {WAF_WINDOWS}"
