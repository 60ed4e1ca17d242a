"""The edge's part of the waiting room under mocks: the shared queue state cached for a second with its own policy
keyed on the path alone, the shopper's own queue routes never cached, both with /api/*'s functions."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from shared.plan.mocks import MANAGED_CACHE_POLICIES, MANAGED_ORIGIN_REQUEST_POLICIES
from shared.plan.planner import Plan, Resource
from shared.runtime.layers import REPO_ROOT
from tests.conftest import SUFFIX

CACHE_POLICY = "aws:cloudfront/cachePolicy:CachePolicy"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"


@pytest.fixture(scope="module")
def edge(chain: dict[str, Plan]) -> Plan:
    return chain["edge"]


def behavior(edge: Plan, path: str) -> dict[str, Any]:
    found = [b for b in edge.one(DISTRIBUTION).get("orderedCacheBehaviors") if b["pathPattern"] == path]
    assert len(found) == 1, path
    return found[0]


def computed_id(policy: Resource) -> str:
    from shared.plan.computed import computed_state

    return str(computed_state(policy.type, policy.name, policy.inputs)[1]["id"])


def test_the_state_is_cached_one_second_keyed_on_the_path_alone(edge: Plan) -> None:
    policy = edge.one(CACHE_POLICY, "queue-state")
    assert policy.get("name") == f"catalog-queue-state-{SUFFIX}"
    assert (policy.get("minTtl"), policy.get("defaultTtl"), policy.get("maxTtl")) == (0, 1, 1)
    key = policy.get("parametersInCacheKeyAndForwardedToOrigin")
    assert key["cookiesConfig"] == {"cookieBehavior": "none"}
    assert key["headersConfig"] == {"headerBehavior": "none"}  # no Authorization: one entry for every shopper
    assert key["queryStringsConfig"] == {"queryStringBehavior": "none"}  # `?bust=1` cannot split the entry
    state = behavior(edge, "/api/products/*/queue/state")
    assert state["cachePolicyId"] == computed_id(policy)
    assert state["allowedMethods"] == ["GET", "HEAD"] and state.get("originRequestPolicyId") is None


def test_the_shoppers_own_queue_routes_are_never_cached(edge: Plan) -> None:
    personal = behavior(edge, "/api/products/*/queue")
    assert personal["cachePolicyId"] == MANAGED_CACHE_POLICIES["Managed-CachingDisabled"]
    # With caching disabled, the managed all-viewer policy is how Authorization reaches the API.
    assert personal["originRequestPolicyId"] == MANAGED_ORIGIN_REQUEST_POLICIES["Managed-AllViewerExceptHostHeader"]
    assert "POST" in personal["allowedMethods"]  # joining the queue


def test_the_queue_behaviors_come_before_api_and_keep_its_functions(edge: Plan) -> None:
    ordered = edge.one(DISTRIBUTION).get("orderedCacheBehaviors")
    paths = [b["pathPattern"] for b in ordered]
    assert paths.index("/api/products/*/queue/state") < paths.index("/api/products/*/queue") < paths.index("/api/*")
    api = behavior(edge, "/api/*")
    for path in ("/api/products/*/queue/state", "/api/products/*/queue"):
        b = behavior(edge, path)
        assert b["lambdaFunctionAssociations"] == api["lambdaFunctionAssociations"], path
        assert (b["targetOriginId"], b["viewerProtocolPolicy"]) == (api["targetOriginId"], "redirect-to-https")
        assert [a["eventType"] for a in b["lambdaFunctionAssociations"]].count("viewer-request") == 1


def test_every_header_an_api_route_reads_reaches_it_through_its_behavior(edge: Plan) -> None:
    """From the API's own document: each header parameter of each route gets to the API through the behavior
    CloudFront picks for that route (the first pattern that matches, in order): the all-viewer policy, or an origin
    request policy naming it. A pass stripped at the edge would refuse every queued reservation with 428."""
    document = json.loads((REPO_ROOT / "containers" / "catalog-api" / "openapi.json").read_text())
    ordered = edge.one(DISTRIBUTION).get("orderedCacheBehaviors")
    policies = {computed_id(p): p for p in edge.of_type("aws:cloudfront/originRequestPolicy:OriginRequestPolicy")}
    all_viewer = MANAGED_ORIGIN_REQUEST_POLICIES["Managed-AllViewerExceptHostHeader"]
    checked = []
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue  # /health: the load balancer's, not served through CloudFront's API behaviors
        viewer_path = path.replace("{sku}", "SKU-1").replace("{id}", "r-1")
        chosen = next(b for b in ordered if fnmatch.fnmatchcase(viewer_path, b["pathPattern"]))
        for method, op in operations.items():
            for header in (p["name"].lower() for p in op.get("parameters", []) if p.get("in") == "header"):
                policy_id = chosen.get("originRequestPolicyId")
                forwarded = policy_id == all_viewer or (
                    policy_id in policies and header in [h.lower() for h in (
                        policies[policy_id].get("headersConfig").get("headers") or {}).get("items", [])])
                assert forwarded, f"{method.upper()} {path}: {header} is stripped by behavior {chosen['pathPattern']}"
                checked.append((method, path, header))
    assert ("post", "/api/products/{sku}/reservations", "x-admission-pass") in checked
    assert ("get", "/api/products/{sku}/queue", "x-queue-ticket") in checked
