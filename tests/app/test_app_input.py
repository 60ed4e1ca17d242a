"""App layer: input the mission or AWS would refuse is refused before any resource, naming key and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from projects.app.image import source_hash
from projects.app.settings import NAMESPACE, Settings
from shared.plan.identity import plan_only_identity
from shared.plan.planner import PlanError
from shared.runtime.errors import ConfigError
from shared.runtime.settings import load_settings

DIGEST = "sha256:" + "c" * 64
GOOD_IMAGE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/catalog-api@{DIGEST}"
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
# The origin-verify secret guards an internet-facing ALB only: these cases plan the public-https mode.
PUBLIC = {"catalog-app:originMode": "public-https", "catalog-app:certificateArn": CERT,
          "catalog-app:originDomain": "api-origin.example.com"}


@pytest.mark.parametrize("overrides, message", [
    ({"canaryWeight": "101"}, r"catalog-app:canaryWeight: 101 is not a percentage \(allowed: 0-100\)"),
    ({"imageUri": "catalog-api:latest"}, r"catalog-app:imageUri: 'catalog-api:latest' is not an ECR image"),
    ({"certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"},
     r"catalog-app:certificateArn: .* not an ACM certificate ARN in us-east-1"),
    ({"memoryMb": "2048"}, r"catalog-app:memoryMb: 2048 MB is refused: the mission fixes 3 GB"),
    ({"provisionedConcurrencyMin": "6", "provisionedConcurrencyMax": "4"},
     r"catalog-app:provisionedConcurrencyMin: minimum 6 is above maximum 4"),
    ({"apiWafRateLimit": "9"}, r"catalog-app:apiWafRateLimit: 9 requests per window is outside AWS WAF"),
    ({"apiWafEvaluationWindowSeconds": "45"}, r"catalog-app:apiWafEvaluationWindowSeconds: 45 s is not an AWS WAF"),
])
def test_bad_config_is_a_plan_error_naming_key_and_rule(plan_with, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        plan_with("app", {f"{NAMESPACE}:{k}": v for k, v in overrides.items()})


@pytest.mark.parametrize("low, high", [(1, 1), (10, 10), (2, 10)])
def test_provisioned_concurrency_bounds_may_meet(low: int, high: int) -> None:
    """min == max pins the pool; only a minimum above the maximum is refused."""
    identity = {"authIssuer": "https://auth.example.com/", "authAudience": "catalog-api",
                "authPublicKeyPem": plan_only_identity()["authPublicKeyPem"]}
    settings = load_settings(Settings, NAMESPACE, {**identity, "provisionedConcurrencyMin": str(low),
                                                   "provisionedConcurrencyMax": str(high)})
    assert (settings.provisioned_concurrency_min, settings.provisioned_concurrency_max) == (low, high)


def test_vpc_origin_mode_needs_no_origin_verify_secret(plan_with) -> None:
    plan = plan_with("app", drop=("catalog-app:originVerifySecret",))
    assert plan.one("aws:lb/loadBalancer:LoadBalancer").get("internal") is True


def test_missing_origin_verify_secret_says_how_to_make_one(plan_with) -> None:
    with pytest.raises(PlanError, match=r"originVerifySecret is not set .*invoke secrets --suffix"):
        plan_with("app", PUBLIC, drop=("catalog-app:originVerifySecret",))


@pytest.mark.parametrize("secret", ["too-short", "wild*card-value-0123456789"])
def test_unusable_origin_verify_secret_is_refused_without_echoing_it(plan_with, secret: str) -> None:
    with pytest.raises(PlanError, match="originVerifySecret is unusable as an ALB header match") as info:
        plan_with("app", {**PUBLIC, "catalog-app:originVerifySecret": secret})
    assert secret not in str(info.value)


def test_image_from_another_account_is_refused(plan_with) -> None:
    other = GOOD_IMAGE.replace("123456789012", "210987654321")
    with pytest.raises(PlanError, match="imageUri is in account 210987654321, this stack deploys to 123456789012"):
        plan_with("app", {"catalog-app:imageUri": other})


def settings(**raw: str) -> Settings:
    return load_settings(Settings, NAMESPACE, {**plan_only_identity(), **raw}, {"originVerifySecret": "<secret>"})


@pytest.mark.parametrize("raw, message", [
    ({"canaryWeight": "-1"}, "canaryWeight: -1 is not a percentage"),
    ({"imageUri": f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@{DIGEST}"}, "only from ECR in its own region"),
    ({"imageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:short"}, "not an ECR image reference"),
    ({"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/not-a-uuid"}, "not an ACM certificate"),
    ({"architecture": "x86_64"}, "the mission requires Graviton2"),
    ({"memoryMb": "3008"}, "the mission fixes 3 GB"),
    ({"timeoutSeconds": "29"}, "below API Gateway's 29 s"),
    ({"provisionedConcurrencyMax": "11"}, "exceeds the mission's maximum of 10"),
    ({"provisionedConcurrencyMin": "0"}, "provisionedConcurrencyMin: 0 leaves alias live"),
    ({"provisionedConcurrencyTarget": "1.0"}, "provisionedConcurrencyTarget"),
    ({"logRetentionDays": "31"}, "not a CloudWatch Logs retention period"),
    ({"apiThrottleRateLimit": "20000"}, "exceeds the account's API Gateway default of 10000"),
    ({"apiThrottleBurstLimit": "5001"}, "default burst of 5000"),
    ({"originVerifyHeader": "X-Amz-Origin"}, "originVerifyHeader"),
    ({"originVerifyHeader": "x-" + "o" * 40}, "originVerifyHeader"),
    ({"canaryVersion": "$LATEST"}, "not a published version number"),
    ({"stickinessSeconds": "0"}, "stickinessSeconds"),
    ({"logLevel": "VERBOSE"}, "logLevel"),
    ({"sessionTtlSeconds": "0"}, "sessionTtlSeconds"),
    # AWS WAF on the stage: RateLimit 10-2e9 (botocore wafv2), windows 60/120/300/600, and no useless ceiling.
    ({"apiWafRateLimit": "9"}, r"apiWafRateLimit: 9 .*allowed: 10-2,000,000,000"),
    ({"apiWafRateLimit": "2000000001"}, r"apiWafRateLimit: .*allowed: 10-2,000,000,000"),
    ({"apiWafRateLimit": "70000"}, r"apiWafRateLimit: 70000 per 60 s is over 1000 requests/s"),
    ({"apiWafEvaluationWindowSeconds": "180"}, r"apiWafEvaluationWindowSeconds: 180 s .*60, 120, 300, 600"),
])
def test_settings_refuse_values_against_the_mission_or_aws(raw: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(**raw)


def test_defaults_are_the_missions_values() -> None:
    s = settings()
    assert (s.memory_mb, s.architecture, s.provisioned_concurrency_min, s.provisioned_concurrency_max,
            s.provisioned_concurrency_target) == (3072, "arm64", 2, 10, 0.7)
    assert (s.api_throttle_rate_limit, s.api_throttle_burst_limit, s.canary_weight) == (10000, 5000, 0)
    assert s.timeout_seconds < 29 and s.manage_api_gateway_account is False
    assert (s.api_waf_rate_limit, s.api_waf_evaluation_window_seconds) == (3000, 60)
    assert settings(imageUri=GOOD_IMAGE.replace(f"@{DIGEST}", ":v1.2.3")).image_uri.endswith(":v1.2.3")


def test_source_hash_follows_image_sources_only(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.mjs").write_text("export const a = 1;\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".dockerignore").write_text("*.md\nscripts\n")
    for ignored in ("node_modules/x/index.js", "test/a.test.mjs", "scripts/dev.mjs", "README.md"):
        (tmp_path / ignored).parent.mkdir(parents=True, exist_ok=True)
    base = source_hash(tmp_path)
    for ignored in ("node_modules/x/index.js", "test/a.test.mjs", "scripts/dev.mjs", "README.md"):
        (tmp_path / ignored).write_text("changed")
    assert source_hash(tmp_path) == base
    (tmp_path / "Dockerfile").write_text("FROM scratch\nENV A=1\n")
    changed = source_hash(tmp_path)
    assert changed != base
    (tmp_path / "src" / "app.mjs").write_text("export const a = 2;\n")
    assert source_hash(tmp_path) != changed


def test_missing_sources_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="set catalog-app:imageUri"):
        source_hash(tmp_path / "absent")
