"""Suffix validation and the naming function, for every service, with the longest legal suffix."""

from __future__ import annotations

import pytest

from shared.runtime.errors import NamingError, SuffixError
from shared.runtime.naming import (
    LONGEST_SUFFIX_EXAMPLE,
    SUFFIX_MAX,
    Service,
    check_name,
    physical_name,
    validate_suffix,
)

LONG_KINDS = ["api", "sessions", "tg-live", "tg-canary", "vpc-flow-logs", "viewer-request-auth-function",
              "a-very-long-kind-name-that-no-service-could-ever-hold-in-full-because-it-keeps-going"]


@pytest.mark.parametrize("suffix", ["qa", "dev", "feature-42", "a1", LONGEST_SUFFIX_EXAMPLE, "x" * SUFFIX_MAX])
def test_legal_suffixes_pass(suffix: str) -> None:
    assert validate_suffix(suffix) == suffix


@pytest.mark.parametrize(("suffix", "rule"), [
    ("", "empty"),
    ("q", "2-16"),
    ("x" * 17, "2-16"),
    ("QA", "uppercase"),
    ("9lives", "start with a letter"),
    ("-qa", "start with a letter"),
    ("qa-", "end with a hyphen"),
    ("q--a", "double hyphen"),
    ("q_a", "lowercase letters, digits and single hyphens"),
    ("q.a", "lowercase letters, digits and single hyphens"),
])
def test_illegal_suffixes_name_the_rule_and_an_example(suffix: str, rule: str) -> None:
    with pytest.raises(SuffixError) as err:
        validate_suffix(suffix)
    assert rule in str(err.value)
    assert "valid example" in str(err.value)


def test_longest_example_is_the_longest_legal_length() -> None:
    assert len(LONGEST_SUFFIX_EXAMPLE) == SUFFIX_MAX


@pytest.mark.parametrize("service", list(Service))
@pytest.mark.parametrize("kind", LONG_KINDS)
def test_every_service_gets_a_valid_name_that_keeps_the_suffix_whole(service: Service, kind: str) -> None:
    account = "123456789012" if service is Service.S3_BUCKET else None
    name = physical_name(kind, LONGEST_SUFFIX_EXAMPLE, service, account_id=account)
    assert len(name) <= service.rule.max_len
    tail = f"-{LONGEST_SUFFIX_EXAMPLE}" + (f"-{account}" if account else "")
    assert name.endswith(tail)
    assert name.startswith(f"{service.rule.required_prefix}catalog-")  # aws-waf-logs- for WAF log groups
    check_name(name, service)


def test_short_names_are_not_touched() -> None:
    assert physical_name("api", "qa", Service.LAMBDA) == "catalog-api-qa"
    assert physical_name("logs", "qa", Service.S3_BUCKET, account_id="123456789012") == \
        "catalog-logs-qa-123456789012"


def test_shortening_is_stable_unique_and_documented() -> None:
    a = physical_name("tg-canary-blue", LONGEST_SUFFIX_EXAMPLE, Service.TARGET_GROUP)
    b = physical_name("tg-canary-green", LONGEST_SUFFIX_EXAMPLE, Service.TARGET_GROUP)
    assert a != b
    assert a == physical_name("tg-canary-blue", LONGEST_SUFFIX_EXAMPLE, Service.TARGET_GROUP)
    assert len(a) == 32 and len(b) == 32


def test_target_group_kind_that_fits_is_kept() -> None:
    assert physical_name("tg-live", LONGEST_SUFFIX_EXAMPLE, Service.TARGET_GROUP) == "catalog-tg-live-perf-eu-canary-9"


@pytest.mark.parametrize("kind", ["", "Api", "api_", "a--b", "api-", "-api"])
def test_bad_kinds_are_refused(kind: str) -> None:
    with pytest.raises(NamingError):
        physical_name(kind, "qa")


@pytest.mark.parametrize(("name", "service"), [
    ("internal-catalog-qa", Service.ALB),
    ("sg-catalog-qa", Service.SECURITY_GROUP),
    ("catalog--cluster-qa", Service.RDS_CLUSTER),
    ("catalog-cluster-qa-", Service.RDS_CLUSTER),
    ("1catalog", Service.RDS_PROXY),
    ("Catalog-Logs", Service.S3_BUCKET),
    ("catalog.logs", Service.S3_BUCKET),
    ("x" * 33, Service.ALB),
    ("catalog dashboard", Service.DASHBOARD),
])
def test_check_name_refuses_what_aws_refuses(name: str, service: Service) -> None:
    with pytest.raises(NamingError):
        check_name(name, service)


def test_waf_log_groups_start_with_the_prefix_aws_waf_requires() -> None:
    from shared.runtime.errors import NamingError

    name = physical_name("edge", LONGEST_SUFFIX_EXAMPLE, Service.WAF_LOG_GROUP)
    assert name == f"aws-waf-logs-catalog-edge-{LONGEST_SUFFIX_EXAMPLE}"
    check_name(name, Service.LOG_GROUP)  # still a valid CloudWatch log group name
    with pytest.raises(NamingError, match="aws-waf-logs-"):
        check_name(f"catalog-edge-{LONGEST_SUFFIX_EXAMPLE}", Service.WAF_LOG_GROUP)
