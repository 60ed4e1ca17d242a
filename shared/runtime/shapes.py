"""The shape an output must have before another layer may build on it: declared once per output in the producer's
contract (`OutputSpec(..., shape=...)`) and checked by every consumer's view when it is read.

Outputs that end up in an IAM policy (a secret's ARN in the migrate role, a table's ARN in the API role, the proxy
resource id and user name inside an `rds-db:connect` ARN) are where a wrong value does harm: a producer that exports
`"*"`, an ARN with a wildcard or a policy variable, or an ARN of another account or Region would widen the
consumer's role. A type check ("it is a string") does not see that; these shapes do. An ARN of the right kind
but of another environment (a qa stack exporting prod's table) widens it too: where the ARN carries the resource's
name, the name must be this environment's (`catalog-<kind>-<suffix>`, shared/runtime/naming.py), the same pattern
the layers' permissions boundaries allow. Where the producer's contract names the kind (`SHAPE.of("cache")`), the
name must be exactly the one `physical_name` makes for it: suffixes may hold hyphens, so the pattern alone would
let environment `eu` accept `prod-eu`'s `catalog-products-prod-eu`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Protocol

from shared.runtime import APP, REGION
from shared.runtime.naming import Service, physical_name

PARTITION = "aws"
# IAM expands "*" and "?" in Resource and "${...}" policy variables: none may reach a policy from an upstream value.
_WIDENING = re.compile(r"[*?$\s]")
_ACCOUNT = re.compile(r"^\d{12}$")


class Shape(Protocol):
    optional: bool

    def describe(self) -> str: ...

    def problem(self, value: Any, account: str, suffix: str) -> str | None: ...


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


@dataclass(frozen=True)
class ArnShape:
    """`arn:aws:<service>:<region>:<account>:<resource_type>(:|/)<name>` in this platform's Region and account.

    regional=False: a global service (S3 buckets, CloudFront) with an empty Region field; account_scoped=False:
    an ARN without an account (S3 buckets). optional: "" is allowed (an output that is empty when a feature is off).
    named: the resource part as a regular expression in which NAME stands for this environment's physical name
    (None: the ARN carries an id AWS chose, not our name: an RDS proxy, a distribution, the RDS-managed secret).
    kind (set with `of`): the producer's `<kind>`; then NAME is exactly `physical_name(kind, suffix, naming)`.
    """

    service: str
    resource_type: str | None = None
    separator: str = "/"  # how the resource type joins the name in this service's ARNs (only for messages)
    regional: bool = True
    account_scoped: bool = True
    optional: bool = False
    named: str | None = None
    naming: Service = Service.GENERIC  # the service's name rule, as the producer names the resource
    kind: str | None = None

    def of(self, kind: str) -> ArnShape:
        """This shape, for the producer's resource of `kind` only (its exact name in each environment)."""
        return replace(self, kind=kind)

    def exact_name(self, account: str, suffix: str) -> str | None:
        """The one name a resource of `kind` has in the environment (None without a kind)."""
        if self.kind is None or self.named is None:
            return None
        return physical_name(self.kind, suffix, self.naming, account_id=account if "ACCOUNT" in self.named else None)

    def describe(self) -> str:
        region = REGION if self.regional else ""
        account = "<this account>" if self.account_scoped else ""
        resource = f"{self.resource_type}{self.separator}..." if self.resource_type else "<name>"
        return f"arn:{PARTITION}:{self.service}:{region}:{account}:{resource}"

    def problem(self, value: Any, account: str, suffix: str) -> str | None:
        if self.optional and value == "":
            return None
        if not isinstance(value, str) or not value:
            return "is not an ARN"
        if _WIDENING.search(value):
            return "has a wildcard, a policy variable or a space in it"
        parts = value.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[1] != PARTITION:
            return "is not an ARN"
        _, _, service, region, owner, resource = parts
        if service != self.service:
            return f"is an ARN of service {service or '(none)'}, not {self.service}"
        if region != (REGION if self.regional else ""):
            return f"is in Region {region or '(none)'}, not {REGION if self.regional else '(none)'}"
        if self.account_scoped and not (_ACCOUNT.match(owner) and owner == account):
            return f"is in account {owner or '(none)'}, not this account {account}"
        if not self.account_scoped and owner:
            return f"names account {owner}, which a {self.service} ARN of this kind never does"
        if self.resource_type:
            head = self.resource_type
            if not (resource.startswith((f"{head}:", f"{head}/")) and len(resource) > len(head) + 1):
                return f"is not a {self.service} {head} ARN"
        elif not resource:
            return "names no resource"
        if self.named is None:
            return None
        exact = self.exact_name(account, suffix)
        if exact is not None:
            pattern = self.named.replace("NAME-ACCOUNT" if "ACCOUNT" in self.named else "NAME", re.escape(exact))
            if re.fullmatch(pattern, resource) is None:
                return f"does not name {exact}, the {self.kind} of environment {suffix}"
            return None
        pattern = self.named.replace("ACCOUNT", re.escape(account)).replace("NAME", environment_name(suffix))
        if re.fullmatch(pattern, resource) is None:
            return f"names no resource of environment {suffix} ({APP}-<kind>-{suffix})"
        return None


def environment_name(suffix: str) -> str:
    """A physical name of this environment as a regular expression: `catalog-<kind>-<suffix>` (in the patterns,
    ACCOUNT stands for the account id S3 names carry after the suffix)."""
    return rf"{APP}-[a-z0-9][a-z0-9-]*-{re.escape(suffix)}"


@dataclass(frozen=True)
class NameShape:
    """A name or id that a consumer puts inside an ARN of its own (the proxy resource id, a database user, an
    index name): it must match `pattern` exactly, so it cannot carry a wildcard or a path."""

    pattern: str
    example: str
    optional: bool = False

    def describe(self) -> str:
        return f"a value like {self.example}"

    def problem(self, value: Any, account: str, suffix: str) -> str | None:
        if self.optional and value == "":
            return None
        if not isinstance(value, str) or re.fullmatch(self.pattern, value) is None:
            return f"does not match {self.pattern}"
        return None


def value_problem(shape: Shape, value: Any, account: str, suffix: str, *, show: bool = True) -> str | None:
    """Why `value` (or, for a list output, one of its items) does not have `shape`; None when it does. show=False:
    the value is a secret and is not repeated."""
    shown = _shown if show else (lambda _: "[secret]")
    if isinstance(value, list):
        for item in value:
            why = shape.problem(item, account, suffix)
            if why:
                return f"has the item {shown(item)}, which {why}"
        return None
    why = shape.problem(value, account, suffix)
    return f"is {shown(value)}, which {why}" if why else None


# The shapes the contracts use, named once. The named patterns follow how each service puts a name in its ARNs.
# A secret's ARN ends in 6 random characters after its name.
SECRET = ArnShape("secretsmanager", "secret", ":", named=r"secret:NAME-[A-Za-z0-9]{6}", naming=Service.SECRET)
OPTIONAL_SECRET = ArnShape("secretsmanager", "secret", ":", optional=True)  # the RDS-managed secret: RDS names it
DYNAMODB_TABLE = ArnShape("dynamodb", "table", named="table/NAME", naming=Service.DYNAMODB_TABLE)
DYNAMODB_INDEX_NAME = NameShape(r"[A-Za-z0-9_.-]{3,255}", "byUser")
RDS_CLUSTER = ArnShape("rds", "cluster", ":", named="cluster:NAME", naming=Service.RDS_CLUSTER)
RDS_PROXY = ArnShape("rds", "db-proxy", ":")  # db-proxy:prx-<id>
RDS_PROXY_RESOURCE_ID = NameShape(r"prx-[a-z0-9]{1,63}", "prx-0123456789abcdef0")
POSTGRES_ROLE = NameShape(r"[a-z_][a-z0-9_]{0,62}", "catalog_app")
S3_BUCKET = ArnShape("s3", regional=False, account_scoped=False, named="NAME-ACCOUNT", naming=Service.S3_BUCKET)
LAMBDA_FUNCTION = ArnShape("lambda", "function", ":", named=r"function:NAME(:[A-Za-z0-9$_-]{1,128})?",
                           naming=Service.LAMBDA)
LOAD_BALANCER = ArnShape("elasticloadbalancing", "loadbalancer", named=r"loadbalancer/app/NAME/[0-9a-f]{1,32}",
                         naming=Service.ALB)
REGIONAL_WEB_ACL = ArnShape("wafv2", "regional/webacl", named=r"regional/webacl/NAME/[0-9a-f-]{1,64}",
                            naming=Service.WAF_WEB_ACL)
# CLOUDFRONT scope: Region us-east-1, "global" resource
CLOUDFRONT_WEB_ACL = ArnShape("wafv2", "global/webacl", named=r"global/webacl/NAME/[0-9a-f-]{1,64}",
                              naming=Service.WAF_WEB_ACL)
CLOUDFRONT_DISTRIBUTION = ArnShape("cloudfront", "distribution", regional=False)  # distribution/<id>
SNS_TOPIC = ArnShape("sns", named="NAME", naming=Service.SNS_TOPIC)
