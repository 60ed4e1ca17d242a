"""Issue #17: what AWS would refuse or run wrong, checked on the offline plan of every layer."""

from __future__ import annotations

import re
from typing import Any

from shared.runtime.layers import LAYERS
from shared.tooling.plan.planner import Plan

# The character set every tagging service accepts (IAM and ELBv2 are the strictest): letters, digits, spaces
# and _ . : / = + - @; key 1-128, value 0-256 characters, `aws:` reserved.
# https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
TAG_SAFE = re.compile(r"[A-Za-z0-9 _.:/=+\-@]*")


def tag_problem(key: Any, value: Any) -> str | None:
    if not isinstance(key, str) or not isinstance(value, str):
        return f"non-string tag {key!r}={value!r}"
    if not 1 <= len(key) <= 128 or not TAG_SAFE.fullmatch(key) or key.lower().startswith("aws:"):
        return f"tag key {key!r}"
    if len(value) > 256 or not TAG_SAFE.fullmatch(value):
        return f"tag value {key}={value!r}"
    return None


def tags_of(inputs: Any) -> list[tuple[Any, Any]]:
    """Every tag set an input carries: a `tags` map, or a list of {key, value} (autoscaling style)."""
    found: list[tuple[Any, Any]] = []
    if isinstance(inputs, dict):
        for name, value in inputs.items():
            if name in ("tags", "tagsAll") and isinstance(value, dict):
                found.extend(value.items())
            elif name in ("tags", "tagsAll") and isinstance(value, list):
                found.extend((t.get("key"), t.get("value")) for t in value if isinstance(t, dict))
            else:
                found.extend(tags_of(value))
    elif isinstance(inputs, list):
        for value in inputs:
            found.extend(tags_of(value))
    return found


def test_layer_owners_are_tag_safe() -> None:
    assert {layer.name: layer.owner for layer in LAYERS}["app"] == "product API team"
    assert {layer.name: layer.owner for layer in LAYERS}["edge"] == "marketing CDN team"
    assert [layer.owner for layer in LAYERS if tag_problem("Owner", layer.owner)] == []
    assert tag_problem("Owner", "product (API) team") and tag_problem("aws:x", "y")


def test_every_tag_in_the_plan_is_accepted_by_every_service(chain: dict[str, Plan]) -> None:
    problems = []
    tagged = 0
    for layer, plan in chain.items():
        for resource in plan.custom_resources():
            pairs = tags_of(resource.get())
            tagged += bool(pairs)
            problems += [f"{layer} {resource.type} {resource.name}: {p}"
                         for p in (tag_problem(k, v) for k, v in pairs) if p]
    assert tagged > 50 and problems == []
