"""The guardrails' data model: one normalized resource shape for the real pack and the offline plan.

A rule never sees `pulumi_policy` or the planner: it sees `Res` (type token, logical name, camelCase engine inputs,
effective region, options when known) and a `Context` (suffix, layer, facts about upstream layers). Values that
a real preview cannot know yet arrive as `UNKNOWN`; rules skip what they cannot judge (the update runs them again
with known values).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class _Unknown:
    """A value the engine does not know during preview (e.g. the ARN of a resource not created yet)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def known(value: Any) -> bool:
    """True when the value (and everything inside it) is known."""
    if value is UNKNOWN:
        return False
    if isinstance(value, dict):
        return all(known(v) for v in value.values())
    if isinstance(value, list):
        return all(known(v) for v in value)
    return True


class Level(StrEnum):
    MANDATORY = "mandatory"
    ADVISORY = "advisory"


# Aliases the provider registers for the same resource: rules see one token.
_TOKEN_ALIASES = {"aws:s3/bucketV2:BucketV2": "aws:s3/bucket:Bucket"}


def normalize_type(token: str) -> str:
    """`aws:alb/...` is `aws:lb/...`; the S3 `...V2` resources are their v7 names."""
    if token in _TOKEN_ALIASES:
        return _TOKEN_ALIASES[token]
    if token.startswith("aws:alb/"):
        return "aws:lb/" + token[len("aws:alb/"):]
    match = re.match(r"^(aws:s3/bucket\w+)V2:(\w+)V2$", token)
    if match:
        return f"{match.group(1)}:{match.group(2)}"
    return token


@dataclass
class Res:
    """One resource as the rules see it."""

    type: str
    name: str
    inputs: dict[str, Any]
    urn: str = ""
    region: str | None = None  # effective region: `region` input, else the provider's, else the stack default
    protect: bool | None = None  # resource options; None when the source cannot tell (offline plan)
    retain_on_delete: bool | None = None
    deps: dict[str, tuple[str, ...]] = field(default_factory=dict)  # input -> URNs it depends on (real pack)
    idents: frozenset[str] = frozenset()  # strings other resources use to refer to this one (name, id, ARN)
    layer: str | None = None

    def __post_init__(self) -> None:
        self.type = normalize_type(self.type)

    def get(self, *path: str | int, default: Any = None) -> Any:
        """Nested input lookup: `r.get("healthCheck", "interval")`; lists of one block are seen through."""
        value: Any = self.inputs
        for key in path:
            if isinstance(value, list) and isinstance(key, str) and len(value) == 1:
                value = value[0]  # blocks some providers model as one-element lists
            if isinstance(value, dict):
                value = value.get(key, default) if isinstance(key, str) else default
            elif isinstance(value, list) and isinstance(key, int):
                value = value[key] if -len(value) <= key < len(value) else default
            else:
                return default
        return value

    def label(self) -> str:
        return f"{self.type} {self.name}"


@dataclass
class Context:
    """What a rule knows about the stack it judges."""

    suffix: str
    layer: str | None = None
    default_region: str | None = "us-east-1"
    private_subnet_ids: frozenset[str] | None = None  # the network layer's private subnets, when known
    upstream: Mapping[str, list[Res]] = field(default_factory=dict)  # other layers' resources (offline only)


Finding = tuple[Res | None, str]
ResourceCheck = Callable[[Res, Context], Iterable[str]]
StackCheck = Callable[[list[Res], Context], Iterable[Finding]]


@dataclass(frozen=True)
class Policy:
    """A guardrail: a resource check (one resource at a time) or a stack check (correlates resources)."""

    name: str
    level: Level
    description: str
    why: str
    resource_check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    types: frozenset[str] | None = None  # resource checks: the (normalized) types they judge; None = all


def run_resource_check(check: ResourceCheck, res: Res, ctx: Context) -> list[str]:
    """A rule's messages; a rule that crashes on an unexpected input shape reports that instead of hiding it."""
    try:
        return list(check(res, ctx))
    except Exception as exc:  # a rule bug must surface as a finding, never stop the whole analysis
        return [f"rule could not evaluate this resource ({type(exc).__name__}: {exc})"]


def run_stack_check(check: StackCheck, resources: list[Res], ctx: Context) -> list[Finding]:
    try:
        return list(check(resources, ctx))
    except Exception as exc:  # see run_resource_check
        return [(None, f"rule could not evaluate this stack ({type(exc).__name__}: {exc})")]


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str  # "mandatory" | "advisory"
    layer: str
    resource_type: str
    resource_name: str
    message: str

    def line(self) -> str:
        return f"[{self.level}] {self.layer} {self.resource_type} {self.resource_name}: {self.policy}: {self.message}"


def is_num(value: Any) -> bool:
    """A number as the engine sends it: protobuf numbers are floats (`3072.0`), never bools."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def as_list(value: Any) -> list[Any]:
    """A value that may be one item or a list, as a list (None -> [])."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def parse_json(value: Any) -> Any:
    """A JSON document input (IAM policies, dashboards): parsed, UNKNOWN if unknown, None if absent/invalid."""
    if value is None or value is UNKNOWN:
        return value
    if isinstance(value, (dict, list)):
        return value
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def refers(source: Res, key: str, target: Res) -> bool:
    """True when `source`'s input `key` names `target` (by name/id/ARN) or depends on it (real pack)."""
    value = source.inputs.get(key)
    for item in as_list(value):
        if isinstance(item, str) and item in target.idents:
            return True
    return bool(target.urn) and target.urn in source.deps.get(key, ())


def arn_tail(value: Any) -> str | None:
    """The last path segment of an ARN-ish string (`...:function:name:1` -> `1`)."""
    if not isinstance(value, str):
        return None
    return re.split(r"[:/]", value)[-1]
