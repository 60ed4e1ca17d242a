"""A small IAM policy evaluator for the tests: explicit Deny wins, then any Allow, else implicit deny.

Enough of AWS's evaluation logic for the documents this project generates: Action/NotAction, Resource/NotResource
with `*`/`?` wildcards, and the condition operators they use (String*, Arn*, Bool, Null, ForAllValues:/ForAnyValue:
and the `IfExists` suffix). A key missing from the request makes a plain operator false (Null aside) - AWS's rule.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _like(value: str, pattern: str, *, case: bool = True) -> bool:
    if not case:
        value, pattern = value.lower(), pattern.lower()
    return fnmatch.fnmatchcase(value, pattern)


@dataclass
class Request:
    action: str
    resource: str = "*"
    context: dict[str, Any] = field(default_factory=dict)


def _operator(op: str, actual: Any, expected: list[Any]) -> bool:
    if op == "Null":
        return (actual is None) == (str(expected[0]).lower() == "true")
    base, if_exists = (op[:-8], True) if op.endswith("IfExists") else (op, False)
    set_op, _, base = base.rpartition(":")
    if actual is None:  # AWS: ForAnyValue false, ForAllValues true, negated operators true, the others false
        if set_op == "ForAnyValue":
            return False
        return if_exists or set_op == "ForAllValues" or base.startswith(("StringNot", "ArnNot"))
    values = [str(v) for v in _list(actual)]
    negated = "Not" in base

    def one(value: str) -> bool:
        if base in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
            hit = any(value == str(e) for e in expected)
        elif base in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike"):
            hit = any(_like(value, str(e)) for e in expected)
        elif base == "Bool":
            return any(value.lower() == str(e).lower() for e in expected)
        else:
            raise NotImplementedError(op)
        return not hit if negated else hit

    if set_op == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def _matches(statement: dict[str, Any], request: Request) -> bool:
    if "Action" in statement:
        if not any(_like(request.action, a, case=False) for a in _list(statement["Action"])):
            return False
    elif any(_like(request.action, a, case=False) for a in _list(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(_like(request.resource, r) for r in _list(statement["Resource"])):
            return False
    elif any(_like(request.resource, r) for r in _list(statement["NotResource"])):
        return False
    for op, keys in (statement.get("Condition") or {}).items():
        for key, expected in keys.items():
            if not _operator(op, request.context.get(key), _list(expected)):
                return False
    return True


def decide(documents: list[dict[str, Any]], request: Request) -> str:
    """"Deny" (explicit), "Allow", or "ImplicitDeny"."""
    statements = [s for doc in documents for s in _list(doc["Statement"])]
    if any(s["Effect"] == "Deny" and _matches(s, request) for s in statements):
        return "Deny"
    if any(s["Effect"] == "Allow" and _matches(s, request) for s in statements):
        return "Allow"
    return "ImplicitDeny"


def _names(statement: dict[str, Any], action: str) -> bool:
    return "Action" in statement and any(_like(action, a, case=False) for a in _list(statement["Action"]))


def allows_action(documents: list[dict[str, Any]], action: str) -> bool:
    """Action level only: some Allow names the action, and no unconditional Deny on every resource blocks it."""
    statements = [s for doc in documents for s in _list(doc["Statement"])]
    blocked = any(s["Effect"] == "Deny" and _names(s, action) and not s.get("Condition")
                  and s.get("Resource") in ("*", ["*"]) for s in statements)
    return not blocked and any(s["Effect"] == "Allow" and _names(s, action) for s in statements)


def decide_bounded(boundary: dict[str, Any], identity: list[dict[str, Any]], request: Request) -> str:
    """A role with a permissions boundary: allowed only where both its own policies and the boundary allow."""
    answers = (decide([boundary], request), decide(identity, request))
    if "Deny" in answers:
        return "Deny"
    return "Allow" if answers == ("Allow", "Allow") else "ImplicitDeny"
