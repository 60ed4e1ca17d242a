"""One function makes every physical name: `<app>-<kind>-<suffix>`.

Each AWS service has its own length limit and character set (docs/aws-rules.md). When the full name would
be too long, `<kind>` is shortened in a stable way: it is cut and given a 4-hex-digit hash of the full kind, so
two long kinds never collide and the same inputs always give the same name. The suffix always survives whole.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import Enum

from shared.runtime import APP
from shared.runtime.errors import NamingError, SuffixError

SUFFIX_MIN = 2
SUFFIX_MAX = 16
SUFFIX_PATTERN = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$")
SUFFIX_EXAMPLE = "qa"
LONGEST_SUFFIX_EXAMPLE = "perf-eu-canary-9"  # 16 characters: what tests use to prove every limit holds
HASH_LEN = 4


def validate_suffix(suffix: object) -> str:
    """Return the suffix when legal; otherwise raise naming the broken rule and a valid example."""
    example = f"a valid example: `{SUFFIX_EXAMPLE}` or `feature-42`"
    if not isinstance(suffix, str) or suffix == "":
        raise SuffixError("the suffix is empty", f"pass --suffix, {example}")
    if len(suffix) < SUFFIX_MIN or len(suffix) > SUFFIX_MAX:
        raise SuffixError(
            f"suffix {suffix!r} has {len(suffix)} characters; it must have {SUFFIX_MIN}-{SUFFIX_MAX}", example
        )
    if suffix != suffix.lower():
        raise SuffixError(f"suffix {suffix!r} has uppercase letters; use lowercase only", example)
    if not suffix[0].isalpha():
        raise SuffixError(f"suffix {suffix!r} must start with a letter", example)
    if suffix.endswith("-"):
        raise SuffixError(f"suffix {suffix!r} must not end with a hyphen", example)
    if "--" in suffix:
        raise SuffixError(f"suffix {suffix!r} has a double hyphen; use single hyphens", example)
    if not SUFFIX_PATTERN.match(suffix):
        raise SuffixError(
            f"suffix {suffix!r} may only hold lowercase letters, digits and single hyphens", example
        )
    return suffix


def overlapping_suffix(suffix: str, others: list[str]) -> str | None:
    """Another environment whose names the patterns of `suffix` would match, or the reverse: names end in
    `-<suffix>` and suffixes may hold hyphens, so `catalog-*-eu` also matches `catalog-products-prod-eu`."""
    for other in sorted(others):
        if other != suffix and (other.endswith(f"-{suffix}") or suffix.endswith(f"-{other}")):
            return other
    return None


def refuse_overlapping_suffix(suffix: str, others: list[str]) -> None:
    other = overlapping_suffix(suffix, others)
    if other is not None:
        short, long = sorted((suffix, other), key=len)
        raise SuffixError(f"suffix {suffix!r} overlaps environment {other!r} in this state backend: the policies' "
                          f"name patterns {APP}-*-{short} would also match {long}'s resources",
                          f"pick a suffix that neither ends with -{other} nor is a hyphenated tail of it, "
                          f"e.g. {short.replace('-', '')}1")


@dataclass(frozen=True)
class ServiceRule:
    """A service's documented name rule."""

    max_len: int
    pattern: re.Pattern[str]
    description: str
    min_len: int = 1
    forbidden_prefixes: tuple[str, ...] = ()
    required_prefix: str = ""  # put before `<app>-` by physical_name (AWS WAF log destinations)


_HYPHENATED = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
_LOWER_HYPHENATED = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_RDS = re.compile(r"^[A-Za-z](?!.*--)[A-Za-z0-9-]*[A-Za-z0-9]$")
_RDS_TEXT = "starts with a letter; letters, digits, hyphens; no `--`, no hyphen at the end"


class Service(Enum):
    """Services whose names we make, each with its rule (docs/aws-rules.md, "Names")."""

    ALB = ServiceRule(32, _HYPHENATED, "1-32 letters, digits, hyphens; no hyphen at either end",
                      forbidden_prefixes=("internal-",))
    TARGET_GROUP = ServiceRule(32, _HYPHENATED, "1-32 letters, digits, hyphens; no hyphen at either end")
    LAMBDA = ServiceRule(64, re.compile(r"^[A-Za-z0-9_-]+$"), "1-64 letters, digits, hyphens, underscores")
    IAM_ROLE = ServiceRule(64, re.compile(r"^[\w+=,.@-]+$"), "1-64 characters of [\\w+=,.@-]")
    IAM_POLICY = ServiceRule(128, re.compile(r"^[\w+=,.@-]+$"), "1-128 characters of [\\w+=,.@-]")
    RDS_CLUSTER = ServiceRule(63, _RDS, _RDS_TEXT)
    RDS_INSTANCE = ServiceRule(63, _RDS, _RDS_TEXT)
    RDS_PROXY = ServiceRule(60, _RDS, _RDS_TEXT)
    RDS_PARAMETER_GROUP = ServiceRule(255, _RDS, "starts with a letter; letters, digits, hyphens; no `--`")
    RDS_SUBNET_GROUP = ServiceRule(255, re.compile(r"^[a-z0-9][a-z0-9 ._-]*$"),
                                   "lowercase letters, digits, . _ - space")
    S3_BUCKET = ServiceRule(63, _LOWER_HYPHENATED, "3-63 lowercase letters, digits, hyphens (no dots)", min_len=3)
    DYNAMODB_TABLE = ServiceRule(255, re.compile(r"^[A-Za-z0-9_.-]+$"), "3-255 of [A-Za-z0-9_.-]", min_len=3)
    SNS_TOPIC = ServiceRule(256, re.compile(r"^[A-Za-z0-9_-]+$"), "1-256 letters, digits, hyphens, underscores")
    LOG_GROUP = ServiceRule(512, re.compile(r"^[A-Za-z0-9_./#-]+$"), "1-512 of [A-Za-z0-9_./#-]")
    # AWS WAF logs only to a log group named `aws-waf-logs-...`
    # (https://docs.aws.amazon.com/waf/latest/developerguide/logging-cw-logs.html).
    WAF_LOG_GROUP = ServiceRule(512, re.compile(r"^aws-waf-logs-[A-Za-z0-9_./#-]+$"),
                                "`aws-waf-logs-` then 1-499 of [A-Za-z0-9_./#-]", required_prefix="aws-waf-logs-")
    # wafv2 EntityName (web ACL name) and MetricName: 1-128 of [A-Za-z0-9_-] (VisibilityConfig.MetricName).
    WAF_WEB_ACL = ServiceRule(128, re.compile(r"^[A-Za-z0-9_-]+$"), "1-128 letters, digits, hyphens, underscores")
    DASHBOARD = ServiceRule(255, re.compile(r"^[A-Za-z0-9_-]+$"), "1-255 letters, digits, hyphens, underscores")
    ALARM = ServiceRule(255, re.compile(r"^[ -~]+$"), "1-255 printable ASCII characters")
    SECURITY_GROUP = ServiceRule(255, re.compile(r"^[A-Za-z0-9 ._:/()#,@\[\]+=&;{}!$*-]+$"),
                                 "1-255 characters, not starting with `sg-`", forbidden_prefixes=("sg-",))
    API_GATEWAY = ServiceRule(1024, re.compile(r"^[ -~]+$"), "printable ASCII (REST API, usage plan, API key)")
    ECR_REPOSITORY = ServiceRule(256, re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$"), "2-256 lowercase, . _ - inside",
                                 min_len=2)
    SECRET = ServiceRule(512, re.compile(r"^[A-Za-z0-9/_+=.@-]+$"), "1-512 of [A-Za-z0-9/_+=.@-]")
    KMS_ALIAS = ServiceRule(250, re.compile(r"^[A-Za-z0-9/_-]+$"), "1-250 of [A-Za-z0-9/_-] after `alias/`")
    CLOUDFRONT_POLICY = ServiceRule(128, re.compile(r"^[A-Za-z0-9_-]+$"), "1-128 letters, digits, hyphens, underscores")
    GENERIC = ServiceRule(255, re.compile(r"^[A-Za-z0-9_.-]+$"), "1-255 of [A-Za-z0-9_.-]")

    @property
    def rule(self) -> ServiceRule:
        return self.value


def _shorten(kind: str, budget: int) -> str:
    """Cut `kind` to `budget` characters, keeping a hash of the full kind so shortened names stay unique."""
    digest = hashlib.sha256(kind.encode()).hexdigest()[:HASH_LEN]
    keep = budget - HASH_LEN - 1
    if keep < 1:
        return digest[:budget]
    head = kind[:keep].rstrip("-_.")
    return f"{head}-{digest}" if head else digest


def physical_name(
    kind: str,
    suffix: str,
    service: Service = Service.GENERIC,
    *,
    app: str = APP,
    account_id: str | None = None,
) -> str:
    """Return `<app>-<kind>-<suffix>` (plus `-<account_id>` for S3), valid for `service`.

    `kind` names what the resource is (`api`, `sessions`, `tg-live`). If the whole name exceeds the service's
    limit, `kind` alone is shortened (see module doc); app, suffix and account id are never cut.
    """
    validate_suffix(suffix)
    if not kind or not re.match(r"^[a-z0-9][a-z0-9-]*$", kind) or "--" in kind or kind.endswith("-"):
        raise NamingError(f"kind {kind!r} must be lowercase letters, digits and single hyphens",
                          "e.g. `api`, `tg-live`")
    rule = service.rule
    tail = f"-{suffix}" + (f"-{account_id}" if account_id else "")
    head = f"{rule.required_prefix}{app}-"
    budget = rule.max_len - len(head) - len(tail)
    if budget < 1:
        raise NamingError(f"no room for kind {kind!r} in a {service.name} name of at most {rule.max_len} characters")
    if len(kind) > budget:
        kind = _shorten(kind, budget)
    name = f"{head}{kind}{tail}"
    check_name(name, service)
    return name


def check_name(name: str, service: Service) -> str:
    """Raise when `name` breaks the service's rule; used on every name we make and by the policy checks."""
    rule = service.rule
    if not (rule.min_len <= len(name) <= rule.max_len):
        raise NamingError(
            f"{service.name} name {name!r} has {len(name)} characters; allowed {rule.min_len}-{rule.max_len}"
        )
    if not rule.pattern.match(name):
        raise NamingError(f"{service.name} name {name!r} is not allowed: {rule.description}")
    if not name.startswith(rule.required_prefix):
        raise NamingError(f"{service.name} name {name!r} must start with {rule.required_prefix!r}")
    for prefix in rule.forbidden_prefixes:
        if name.startswith(prefix):
            raise NamingError(f"{service.name} name {name!r} must not start with {prefix!r}")
    return name
