"""The API's committed OpenAPI document (containers/catalog-api/openapi.json) as the Python side reads it: every
operation with its auth, the README route table derived from it, and a clear one-line refusal of a broken file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.runtime.api_document import API_DOCUMENT, load_api_document, operations, routes_table
from shared.runtime.errors import CatalogError


def test_every_operation_has_an_id_and_the_auth_the_readme_shows() -> None:
    document = load_api_document()
    ops = {op.operation_id: op for op in operations(document)}
    assert ops["restock"].auth == "admin" and ops["reserve"].auth == "user" and ops["listProducts"].auth == "public"
    table = routes_table(document)
    assert "| `PUT /api/products/{sku}/inventory` | bearer JWT, role `admin` |" in table
    assert "`quantity` integer 1-10" in table


def test_the_table_follows_the_document(tmp_path: Path) -> None:
    document = json.loads(API_DOCUMENT.read_text())
    document["paths"]["/api/products"]["get"]["summary"] = "a changed summary"
    assert "a changed summary" in routes_table(document)
    assert "a changed summary" not in routes_table(load_api_document())


@pytest.mark.parametrize("text", ["{not json", '{"openapi": "3.0.3", "paths": {}}'])
def test_a_broken_document_is_one_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "openapi.json"
    path.write_text(text)
    with pytest.raises(CatalogError, match="npm run openapi"):
        load_api_document(path)
