"""DynamoDB tables from dynamodb-tables.json (beside this file), the key schema the API's local setup also uses."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from shared.runtime.errors import ContractError
from shared.runtime.naming import Service

SCHEMA_PATH = Path(__file__).with_name("dynamodb-tables.json")
TABLES = ("sessions", "cache", "waitingRoom")
# Contract key -> the `<kind>` of the physical name and the resource name (names are lowercase with hyphens).
KINDS = {"sessions": "sessions", "cache": "cache", "waitingRoom": "waiting-room"}
KEY_TYPES = ("S", "N", "B")
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")


def load_schema(path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """The key schema of every table, checked for the shapes DynamoDB accepts."""
    doc = json.loads(path.read_text())
    for table in TABLES:
        spec = doc.get(table)
        if not isinstance(spec, dict):
            raise ContractError(f"{path.name} has no table {table!r}", f"tables expected: {', '.join(TABLES)}")
        keys = [spec["hashKey"]] + [k for i in spec.get("indexes", []) for k in (i["hashKey"], i.get("rangeKey"))
                                    if k]
        for key in keys:
            if key["type"] not in KEY_TYPES:
                raise ContractError(f"{path.name}: {table}.{key['name']} has type {key['type']!r}",
                                    f"key types: {', '.join(KEY_TYPES)}")
        types: dict[str, str] = {}
        for key in keys:
            if types.setdefault(key["name"], key["type"]) != key["type"]:
                raise ContractError(f"{path.name}: {table}.{key['name']} is declared with two types")
        for index in spec.get("indexes", []):
            if index["projection"] not in PROJECTIONS:
                raise ContractError(f"{path.name}: index {table}.{index['name']} projection {index['projection']!r}",
                                    f"projections: {', '.join(PROJECTIONS)}")
        if spec.get("ttlAttribute") in types:
            raise ContractError(f"{path.name}: {table}.ttlAttribute is a key attribute",
                                "TTL must be a plain Number attribute")
    return doc


def key_attributes(spec: dict[str, Any]) -> list[dict[str, str]]:
    """Attribute definitions: exactly the key attributes of the table and its indexes (DynamoDB refuses others)."""
    seen: dict[str, str] = {}
    for key in [spec["hashKey"], *[k for i in spec.get("indexes", []) for k in (i["hashKey"], i.get("rangeKey"))]]:
        if key:
            seen.setdefault(key["name"], key["type"])
    return [{"name": name, "type": kind} for name, kind in seen.items()]


@dataclass(frozen=True)
class TablesArgs:
    name: Callable[[str, Service], str]
    schema: dict[str, Any]
    # Per table, pre-warmed throughput for a declared sale (projects/data/sale_schedule.py); absent: not set.
    warm_throughput: dict[str, aws.dynamodb.TableWarmThroughputArgs] = field(default_factory=dict)


class Tables(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: TablesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:data:Tables", resource_name, None, opts)
        self.tables: dict[str, aws.dynamodb.Table] = {}
        self.index_names: dict[str, list[str]] = {}
        for kind in TABLES:
            spec = args.schema[kind]
            indexes = spec.get("indexes", [])
            self.index_names[kind] = [i["name"] for i in indexes]
            self.tables[kind] = aws.dynamodb.Table(
                KINDS[kind],
                name=args.name(KINDS[kind], Service.DYNAMODB_TABLE),
                billing_mode="PAY_PER_REQUEST",  # on demand: no capacities on the table or its indexes
                hash_key=spec["hashKey"]["name"],
                attributes=[aws.dynamodb.TableAttributeArgs(**a) for a in key_attributes(spec)],
                global_secondary_indexes=[
                    aws.dynamodb.TableGlobalSecondaryIndexArgs(
                        name=i["name"],
                        projection_type=i["projection"],
                        key_schemas=[
                            aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                                attribute_name=k["name"], key_type=role)
                            for role, k in (("HASH", i["hashKey"]), ("RANGE", i.get("rangeKey"))) if k
                        ],
                    )
                    for i in indexes
                ],
                ttl=aws.dynamodb.TableTtlArgs(attribute_name=spec["ttlAttribute"], enabled=True),
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
                deletion_protection_enabled=False,
                **({"warm_throughput": args.warm_throughput[kind]} if kind in args.warm_throughput else {}),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})
