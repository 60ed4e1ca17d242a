"""No database credential passes through a program: with default settings no layer's plan holds a password or a
secret value in any resource input, and no program asks a provider for one (GetRandomPassword). The mission's
configurable master password stays an explicit opt-in, and then only ever a Pulumi secret, and the offline plan
report says what it puts in state."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.plan.credentials import credentials_in_state, credentials_line
from shared.plan.planner import Plan
from tests.conftest import DB_PASSWORD

OPT_IN = {"catalog-data:manageMasterPassword": "false"}
ENV_PASSWORD = "env-opt-in-Db-passw0rd-5e1b"


def test_no_layer_plans_a_credential_or_a_secret_version_by_default(chain: dict[str, Plan]) -> None:
    for layer, plan in chain.items():
        assert credentials_in_state(plan) == [], layer
        assert plan.of_type("aws:secretsmanager/secretVersion:SecretVersion") == [], layer
        assert credentials_line(plan) == "  credentials in state: none"


def test_no_program_asks_a_provider_for_a_password(chain: dict[str, Plan]) -> None:
    calls = [i["token"] for plan in chain.values() for i in plan.invokes]
    assert calls, "the mocks record every data-source call"
    assert not [t for t in calls if "getRandomPassword" in t or t.startswith("aws:secretsmanager/")]


def test_the_configured_password_reaches_no_resource_by_default(chain: dict[str, Plan]) -> None:
    # conftest hands every plan catalog-data:dbPassword, as a stack made by `invoke secrets` would have it: with
    # the default RDS-managed master it must not end up anywhere, not even encrypted.
    for layer, plan in chain.items():
        assert DB_PASSWORD not in json.dumps([r.inputs for r in plan.resources]), layer
        assert DB_PASSWORD not in json.dumps(plan.exports), layer
    cluster = chain["data"].one("aws:rds/cluster:Cluster")
    assert cluster.get("manageMasterUserPassword") is True and "masterPassword" not in cluster.inputs


@pytest.mark.parametrize(("env", "expected"), [
    ({}, DB_PASSWORD), ({"CATALOG_DB_PASSWORD": ENV_PASSWORD}, ENV_PASSWORD)])
def test_the_opt_in_master_password_is_a_pulumi_secret_and_the_report_says_so(
        plan_with: Callable[..., Plan], env: dict[str, str], expected: str) -> None:
    drop = ("catalog-data:dbPassword",) if env else ()
    plan = plan_with("data", OPT_IN, env=env, drop=drop)
    cluster = plan.one("aws:rds/cluster:Cluster")
    raw: Any = cluster.inputs["masterPassword"]
    assert raw == {"$secret": expected}, "the master password must be a Pulumi secret"
    (found,) = credentials_in_state(plan)
    assert (found.resource_type, found.path, found.secret) == ("aws:rds/cluster:Cluster", "masterPassword", True)
    line = credentials_line(plan)
    assert "Pulumi secret" in line and "meant for test environments" in line and expected not in line
    # Still nothing else: the role secrets get their value from the migrate task.
    assert plan.of_type("aws:secretsmanager/secretVersion:SecretVersion") == []


def test_the_report_calls_a_plain_text_credential_by_its_name() -> None:
    from shared.plan.planner import Resource

    leaked = Resource("aws:secretsmanager/secretVersion:SecretVersion", "v", {"secretString": "hunter2-pw"}, "", True)
    plan = Plan("data", "x", [leaked], [], {}, set(), [], 0.0)
    (found,) = credentials_in_state(plan)
    assert not found.secret and "PLAIN TEXT" in found.describe() and "not a documented opt-in" in found.describe()
