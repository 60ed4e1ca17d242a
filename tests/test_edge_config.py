"""Edge config: bad input is refused before any resource with a message naming the key and what is allowed.
The JWT settings moved to the app layer (tests/test_app_identity.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from projects.edge.settings import NAMESPACE, Settings
from shared.runtime.errors import ConfigError
from shared.runtime.settings import check_overrides, load_settings
from shared.tooling.plan.planner import Plan, PlanError

CERT_US_WEST_2 = "arn:aws:acm:us-west-2:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"


@pytest.mark.parametrize(("values", "key", "allowed"), [
    ({"microCacheTtlSeconds": "0"}, "microCacheTtlSeconds", "1-5"),
    ({"microCacheTtlSeconds": "6"}, "microCacheTtlSeconds", "1-5"),
    ({"certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
      "aliases": "shop.example.com"}, "certificateArn", "arn:aws:acm:us-east-1:"),
    ({"certificateArn": "not-an-arn", "aliases": "shop.example.com"}, "certificateArn", "arn:aws:acm:us-east-1:"),
    ({"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"},
     "certificateArn", "set aliases"),
    ({"aliases": "shop.example.com"}, "aliases", "certificateArn"),
    ({"aliases": "Shop.Example.com", "certificateArn":
      "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"}, "aliases", "e.g."),
    ({"webAclArn": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"},
     "webAclArn", "global/webacl"),
    ({"priceClass": "PriceClass_300"}, "priceClass", "PriceClass_100"),
    ({"originAccess": "public"}, "originAccess", "oai"),
])
def test_bad_settings_name_the_key_and_what_is_allowed(values: dict[str, str], key: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as err:
        # The task boundary runs the same checks as the program, over the stack's current config (`base`).
        check_overrides(Settings, NAMESPACE, values, base={})
    assert f"{NAMESPACE}:{key}" in str(err.value) and allowed in str(err.value), str(err.value)


def test_defaults() -> None:
    defaults = load_settings(Settings, NAMESPACE, {})
    assert (defaults.micro_cache_ttl_seconds, defaults.origin_access, defaults.price_class) == (2, "oai",
                                                                                               "PriceClass_All")


@pytest.mark.parametrize(("override", "expected"), [
    ({"catalog-edge:certificateArn": CERT_US_WEST_2, "catalog-edge:aliases": "shop.example.com"},
     "catalog-edge:certificateArn"),
    ({"catalog-edge:microCacheTtlSeconds": "0"}, "catalog-edge:microCacheTtlSeconds"),
    ({"catalog-edge:microCacheTtlSeconds": "6"}, "catalog-edge:microCacheTtlSeconds"),
])
def test_the_program_refuses_bad_input_before_any_resource(plan_with: Callable[..., Plan], override: dict[str, str],
                                                           expected: str) -> None:
    with pytest.raises(PlanError) as err:
        plan_with("edge", override)
    assert "ConfigError" in str(err.value) and expected in str(err.value), str(err.value)
    assert "allowed:" in str(err.value)
