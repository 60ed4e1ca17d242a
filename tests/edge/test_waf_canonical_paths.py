"""The edge web ACL's path rules see every spelling of a path the API's router acts on.

The planned ACL (offline plan of the edge layer) is read back; its path statements must decode, normalize and
lower-case the URI path before matching (URL_DECODE, NORMALIZE_PATH_WIN, LOWERCASE, in that order). The
transformations are then applied as AWS documents them to the spellings of a reservation path that once escaped
the reservation rate limit, and the planned regex must match every one of them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

import botocore.session
import pytest

from shared.plan.planner import Plan

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
EXPECTED = ["URL_DECODE", "NORMALIZE_PATH_WIN", "LOWERCASE"]
SKU = "SKU-000001"


def _rules(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in plan.one(WEB_ACL).get("rules")}


def _reservation_path_statement(plan: Plan) -> dict[str, Any]:
    scope = _rules(plan)["rate-reservations"]["statement"]["rateBasedStatement"]["scopeDownStatement"]
    [path] = [s for s in scope["andStatement"]["statements"] if "regexMatchStatement" in s]
    return path["regexMatchStatement"]


def _types(statement: dict[str, Any]) -> list[str]:
    return [t["type"] for t in sorted(statement["textTransformations"], key=lambda t: t["priority"])]


def _normalize_path_win(path: str) -> str:
    """NORMALIZE_PATH_WIN: backslashes become forward slashes, then NORMALIZE_PATH: remove multiple slashes,
    `./` self-references and `../` back-references that are not at the beginning of the input."""
    out: list[str] = []
    for segment in re.sub(r"/{2,}", "/", path.replace("\\", "/")).split("/"):
        if segment == ".":
            continue
        if segment == ".." and len(out) > 1:
            out.pop()
            continue
        out.append(segment)
    return "/".join(out)


TRANSFORM = {
    "URL_DECODE": lambda p: unquote_to_bytes(p).decode("latin-1"),
    "NORMALIZE_PATH_WIN": _normalize_path_win,
    "LOWERCASE": str.lower,
}


def _waf_sees(statement: dict[str, Any], path: str) -> str:
    for kind in _types(statement):
        path = TRANSFORM[kind](path)
    return path


@pytest.fixture(scope="module")
def edge(chain: dict[str, Plan]) -> Plan:
    return chain["edge"]


def test_path_statements_decode_normalize_and_lowercase_with_valid_types(edge: Plan) -> None:
    valid = set(botocore.session.get_session().get_service_model("wafv2").shape_for("TextTransformationType").enum)
    reservation = _reservation_path_statement(edge)
    api_prefix = _rules(edge)["throttle-api"]["statement"]["andStatement"]["statements"][1]["byteMatchStatement"]
    for statement in (reservation, api_prefix):
        assert _types(statement) == EXPECTED
        assert set(_types(statement)) <= valid
        priorities = [t["priority"] for t in statement["textTransformations"]]
        assert len(set(priorities)) == len(priorities) and min(priorities) >= 0  # wafv2: distinct, >= 0
    # Patterns are written in the form WAF matches: lower case.
    assert api_prefix["searchString"] == api_prefix["searchString"].lower()
    assert reservation["regexString"] == reservation["regexString"].lower()


@pytest.mark.parametrize("path", [
    f"/api/products/{SKU}/reservations",
    f"/api/products/{SKU}/%72eservations",
    f"/api/products/{SKU}/%72%65%73%65%72%76%61%74%69%6f%6e%73",
    f"/api/products/{SKU}//reservations",
    f"/api//products/{SKU}/reservations",
    f"/api/products/{SKU}/./reservations",
    f"/api/products/{SKU}/%2e/reservations",
    f"/api/products/{SKU}/x/../reservations",
    f"/api/products/{SKU}/x/%2e%2e/reservations",
    f"/API/Products/{SKU}/RESERVATIONS",
    f"/api/products/{SKU}\\reservations",
    f"/api/products/{SKU}%5creservations",
    "/api/products/%53KU-000001/reservations",
])
def test_every_spelling_of_a_reservation_path_meets_the_reservation_rule(edge: Plan, path: str) -> None:
    statement = _reservation_path_statement(edge)
    seen = _waf_sees(statement, path)
    assert re.search(statement["regexString"], seen), f"{path} reaches WAF as {seen}"


@pytest.mark.parametrize("path", [
    f"/api/products/{SKU}",
    f"/api/products/{SKU}/inventory",
    f"/api/products/{SKU}/reservations/0b6c3a52-9f3e-4a55-9d2c-5d6c9b0c1d11/confirm",
    f"/api/products/{SKU}/reservations/../inventory",
])
def test_other_paths_stay_outside_the_reservation_rule(edge: Plan, path: str) -> None:
    statement = _reservation_path_statement(edge)
    assert not re.search(statement["regexString"], _waf_sees(statement, path))
