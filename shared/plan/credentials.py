"""What an offline plan would put in Pulumi state as a credential: every resource input that holds a password or a
secret value (a `*password` key, a secret version's `secretString`/`secretBinary`), and whether it is a Pulumi
secret (encrypted in state) or plain text. With default settings the list is empty: database passwords are created
inside AWS (RDS-managed master, owner/app passwords written by the migrate task)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shared.plan.planner import Plan

VALUE_KEYS = ("secretstring", "secretbinary")
# Why a credential is there, for the report: the opt-ins the platform documents.
KNOWN = {
    ("aws:rds/cluster:Cluster", "masterPassword"):
        "the master password from catalog-data:dbPassword / CATALOG_DB_PASSWORD (manageMasterPassword=false): "
        "kept in this stack's config and state, encrypted as a Pulumi secret, never rotated; meant for test "
        "environments",
}


@dataclass(frozen=True)
class StateCredential:
    resource_type: str
    resource_name: str
    path: str
    secret: bool

    def describe(self) -> str:
        how = "a Pulumi secret (encrypted in state)" if self.secret else "PLAIN TEXT"
        why = KNOWN.get((self.resource_type, self.path.split(".")[-1]), "not a documented opt-in")
        return f"{self.resource_type} {self.resource_name} {self.path}: {how}; {why}"


def _walk(value: Any, path: str, secret: bool) -> Iterator[tuple[str, Any, bool]]:
    if isinstance(value, dict):
        if set(value) == {"$secret"}:
            yield from _walk(value["$secret"], path, True)
            return
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            lowered = str(key).lower()
            if lowered.endswith("password") or lowered in VALUE_KEYS:
                inner, is_secret = item, secret
                while isinstance(inner, dict) and set(inner) == {"$secret"}:
                    inner, is_secret = inner["$secret"], True
                if isinstance(inner, str) and inner:
                    yield here, inner, is_secret
                    continue
            yield from _walk(item, here, secret)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]", secret)


def credentials_in_state(plan: Plan) -> list[StateCredential]:
    """Every credential the plan's resources would store, in declaration order."""
    return [StateCredential(r.type, r.name, path, secret)
            for r in plan.custom_resources() for path, _, secret in _walk(r.inputs, "", False)]


def credentials_line(plan: Plan) -> str:
    found = credentials_in_state(plan)
    if not found:
        return "  credentials in state: none"
    return "\n".join(["  credentials in state:"] + [f"    {c.describe()}" for c in found])
