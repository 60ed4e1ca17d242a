"""Edge config: bad input is refused before any resource with a message naming the key and what is allowed.
The JWT settings moved to the app layer (tests/app/test_app_identity.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from projects.edge.settings import NAMESPACE, Settings
from shared.plan.planner import Plan, PlanError
from shared.runtime.errors import ConfigError
from shared.runtime.settings import check_overrides, load_settings

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
    # AWS WAF: botocore wafv2 RateLimit min 10 / max 2e9, EvaluationWindowSec 60/120/300/600.
    ({"wafRateLimit": "9"}, "wafRateLimit", "10-2,000,000,000"),
    ({"wafRateLimit": "0"}, "wafRateLimit", "10-2,000,000,000"),
    ({"wafRateLimit": "3000000000"}, "wafRateLimit", "10-2,000,000,000"),
    ({"wafRateLimit": "60001"}, "wafRateLimit", "10-60000"),  # over 1,000/s from one address: never blocks
    ({"wafReservationRateLimit": "5"}, "wafReservationRateLimit", "10-2,000,000,000"),
    ({"wafReservationRateLimit": "601"}, "wafReservationRateLimit", "10-600"),  # above wafRateLimit
    ({"wafEvaluationWindowSeconds": "90"}, "wafEvaluationWindowSeconds", "60, 120, 300, 600"),
    ({"wafEvaluationWindowSeconds": "30"}, "wafEvaluationWindowSeconds", "60, 120, 300, 600"),
    ({"wafManagedRuleGroups": "AWSManagedRulesCommonRuleSet,AWSManagedRulesMadeUp"}, "wafManagedRuleGroups",
     "AWSManagedRulesKnownBadInputsRuleSet"),
    ({"wafManagedRuleGroups": "AWSManagedRulesBotControlRuleSet"}, "wafManagedRuleGroups", "botControl"),
    ({"logRetentionDays": "45"}, "logRetentionDays", "365"),
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
    # The front door is on by default: the layer creates its own web ACL unless one is brought.
    assert defaults.web_acl_arn is None and not defaults.waf_bot_control
    assert (defaults.waf_rate_limit, defaults.waf_reservation_rate_limit, defaults.waf_evaluation_window_seconds) \
        == (600, 60, 60)


@pytest.mark.parametrize(("override", "expected"), [
    ({"catalog-edge:certificateArn": CERT_US_WEST_2, "catalog-edge:aliases": "shop.example.com"},
     "catalog-edge:certificateArn"),
    ({"catalog-edge:microCacheTtlSeconds": "0"}, "catalog-edge:microCacheTtlSeconds"),
    ({"catalog-edge:microCacheTtlSeconds": "6"}, "catalog-edge:microCacheTtlSeconds"),
    ({"catalog-edge:wafRateLimit": "9"}, "catalog-edge:wafRateLimit"),
    ({"catalog-edge:wafEvaluationWindowSeconds": "90"}, "catalog-edge:wafEvaluationWindowSeconds"),
    ({"catalog-edge:wafManagedRuleGroups": "AWSManagedRulesMadeUp"}, "catalog-edge:wafManagedRuleGroups"),
])
def test_the_program_refuses_bad_input_before_any_resource(plan_with: Callable[..., Plan], override: dict[str, str],
                                                           expected: str) -> None:
    with pytest.raises(PlanError) as err:
        plan_with("edge", override)
    assert "ConfigError" in str(err.value) and expected in str(err.value), str(err.value)
    assert "allowed:" in str(err.value)
