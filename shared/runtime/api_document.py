"""The catalog API's OpenAPI 3.1 document, as committed beside the API (containers/catalog-api/openapi.json, written
by `npm run openapi` from the route schemas and held current by the API's tests). Read here by `invoke docs` (the API
README's route table) and by the app layer (API Gateway's documentation parts), neither of which runs Node."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

API_DOCUMENT = REPO_ROOT / "containers" / "catalog-api" / "openapi.json"
# Answers every route may give (the README says so once, below the table).
COMMON_STATUSES = frozenset({"400", "413", "415", "429", "500", "503"})


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # OpenAPI template, /api/products/{sku}
    operation_id: str
    auth: str  # public | user | a role
    summary: str
    description: str
    responses: dict[str, Any]


def load_api_document(path: Path = API_DOCUMENT) -> dict[str, Any]:
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    try:
        document: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise CatalogError(f"{shown}: not readable as JSON ({err})",
                           "run `npm run openapi` in containers/catalog-api (or `invoke docs`)") from None
    if not str(document.get("openapi", "")).startswith("3.1") or not isinstance(document.get("paths"), dict):
        raise CatalogError(f"{shown}: not an OpenAPI 3.1 document",
                           "run `npm run openapi` in containers/catalog-api (or `invoke docs`)")
    return document


def operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            found.append(Operation(method=method.upper(), path=path, operation_id=op["operationId"],
                                   auth=op.get("x-catalog-auth", "public"), summary=op.get("summary", ""),
                                   description=op.get("description", ""), responses=op.get("responses", {})))
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _who(auth: str) -> str:
    return {"public": "public", "user": "bearer JWT"}.get(auth, f"bearer JWT, role `{auth}`")


def _field(name: str, schema: dict[str, Any], required: bool) -> str:
    kind = schema.get("type", "any")
    kind = "/".join(kind) if isinstance(kind, list) else kind
    limits = []
    if "minimum" in schema or "maximum" in schema:
        limits.append(f"{schema.get('minimum', '')}-{schema.get('maximum', '')}")
    if "maxLength" in schema:
        limits.append(f"≤ {schema['maxLength']} chars")
    if "default" in schema:
        limits.append(f"default {schema['default']}")
    extra = f" {', '.join(limits)}" if limits else ""
    return f"`{name}`{'' if required else '?'} {kind}{extra}"


def _inputs(document: dict[str, Any], path: str, method: str) -> str:
    op = document["paths"][path][method.lower()]
    parts = [_field(p["name"], p.get("schema", {}), p.get("required", False))
             for p in op.get("parameters", []) if p["in"] == "query"]
    body = op.get("requestBody")
    if body:
        schema = body["content"]["application/json"]["schema"]
        required = set(schema.get("required", []))
        fields = [_field(k, v, k in required) for k, v in schema.get("properties", {}).items()]
        parts.append(f"body{'' if body.get('required') else ' (optional)'}: {{{', '.join(fields)}}}")
    return "; ".join(parts) or "—"


# The generic descriptions of these codes are said once below the table; a route's own meaning is shown.
GENERIC = {"401": "unauthorized", "404": "not_found: no such product or reservation, or no route"}


def routes_table(document: dict[str, Any]) -> str:
    """The README's route table: one row per operation, its input and its own answers."""
    rows = ["| method and path | who | what | input (`?` optional) | answers |", "| --- | --- | --- | --- | --- |"]
    for op in operations(document):
        own = []
        for code in sorted(op.responses):
            if code in COMMON_STATUSES:
                continue
            text = op.responses[code]["description"]
            own.append(code if text.startswith(GENERIC.get(code, "\0")) else f"{code} {text}")
        rows.append(f"| `{op.method} {op.path}` | {_who(op.auth)} | {_cell(op.summary)} | "
                    f"{_cell(_inputs(document, op.path, op.method))} | {_cell('; '.join(own))} |")
    rows.append("")
    rows.append("Every route may also answer 400 (`validation_error` naming the field, or `non_canonical_path`), "
                "500 and 503 (with `Retry-After`); a body-carrying route 413 and 415; a route that needs a token 401 "
                "(`unauthorized` / `invalid_token`); 404 is any path or method not listed; the edge answers 429 with "
                "`Retry-After` past its rate limits. The document (`GET /api/openapi.json`) has every schema.")
    return "\n".join(rows)


def document_version(path: Path = API_DOCUMENT) -> str:
    """A documentation version name that changes whenever the document does (API Gateway versions are snapshots)."""
    return f"contract-{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"


def documentation_parts(document: dict[str, Any]) -> list[tuple[str, dict[str, str], dict[str, Any]]]:
    """API Gateway documentation parts for the REST API in front of the function (projects/app/apigw.py), whose only
    resources are `/health` and the proxy `/api/{proxy+}`: (logical key, location, properties). The API part carries
    the document's title, version and description; the proxy method lists every /api operation with who may call
    it; the whole contract stays one request away (`GET /api/openapi.json`)."""
    info = document["info"]
    ops = operations(document)
    health = next(op for op in ops if op.path == "/health")
    api_ops = [op for op in ops if op.path.startswith("/api/")]
    listing = "\n".join(f"{op.method} {op.path} ({_who(op.auth)}): {op.summary}" for op in api_ops)
    return [
        ("api", {"type": "API"}, {"info": {"title": info["title"], "version": info["version"],
                                           "description": info["description"]}}),
        ("health", {"type": "METHOD", "path": "/health", "method": "GET"}, {"summary": health.summary}),
        ("proxy", {"type": "METHOD", "path": "/api/{proxy+}", "method": "ANY"}, {
            "summary": "the catalog API's JSON routes (the full OpenAPI 3.1 document: GET /api/openapi.json)",
            "description": listing,
        }),
    ]
