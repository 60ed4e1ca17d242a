"""Data layer config: the password sources, bad input refused before any resource, the pool arithmetic."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from projects.data.settings import (
    ENGINE_VERSIONS,
    NAMESPACE,
    Settings,
    check_password,
    pool_percent,
    supported_max_connections,
    working_max_connections,
)
from shared.plan.planner import PlanError
from shared.runtime.errors import ConfigError
from shared.runtime.settings import load_settings
from tests.data.test_data import plain_strings

PASSWORD_KEY = "catalog-data:dbPassword"
ENV_PASSWORD = "env-only-Db-passw0rd-91d2"
# The mission's "password configurable via Pulumi config": opt out of the RDS-managed (rotating) master.
CONFIG_PASSWORD = {"catalog-data:manageMasterPassword": "false"}


def settings(**values: Any) -> Settings:
    return load_settings(Settings, NAMESPACE, {k: str(v) for k, v in values.items()}, {})


# --- through the real program ---------------------------------------------------------------------------------

def test_default_master_password_is_rds_managed_and_needs_no_config(plan_with) -> None:
    plan = plan_with("data", drop=(PASSWORD_KEY,), env={"CATALOG_DB_PASSWORD": ""})
    cluster = plan.one("aws:rds/cluster:Cluster")
    assert cluster.get("manageMasterUserPassword") is True and "masterPassword" not in cluster.inputs
    assert plan.export_value("masterSecretArn").startswith("arn:aws:secretsmanager:us-east-1:")


def test_config_password_mode_has_no_master_secret_to_export(plan_with) -> None:
    plan = plan_with("data", CONFIG_PASSWORD)
    assert plan.export_value("masterSecretArn") == ""
    assert plan.one("aws:rds/cluster:Cluster").get("manageMasterUserPassword") is None


def test_missing_password_stops_with_how_to_set_it(plan_with) -> None:
    with pytest.raises(PlanError) as err:
        plan_with("data", CONFIG_PASSWORD, drop=(PASSWORD_KEY,), env={"CATALOG_DB_PASSWORD": ""})
    message = str(err.value)
    assert "catalog-data:dbPassword is not set" in message
    assert "invoke secrets --suffix <s>" in message
    assert "pulumi config set --secret dbPassword" in message and "CATALOG_DB_PASSWORD" in message


def test_environment_password_is_the_fallback_and_stays_secret(plan_with) -> None:
    plan = plan_with("data", CONFIG_PASSWORD, drop=(PASSWORD_KEY,), env={"CATALOG_DB_PASSWORD": ENV_PASSWORD})
    assert plan.one("aws:rds/cluster:Cluster").inputs["masterPassword"] == {"$secret": ENV_PASSWORD}
    for resource in plan.resources:
        assert not any(ENV_PASSWORD in text for text in plain_strings(resource.inputs)), resource.name
    assert not any(ENV_PASSWORD in text for text in plain_strings(plan.exports))


def test_config_secret_wins_over_the_environment(plan_with) -> None:
    plan = plan_with("data", CONFIG_PASSWORD, env={"CATALOG_DB_PASSWORD": ENV_PASSWORD})
    assert plan.one("aws:rds/cluster:Cluster").inputs["masterPassword"] == {"$secret": "plan-only-Db-passw0rd-7f3a"}


def test_a_password_aurora_would_refuse_is_refused_without_echoing_it(plan_with) -> None:
    bad = "has@sign-123456"
    with pytest.raises(PlanError, match="catalog-data:dbPassword has a character Aurora refuses") as err:
        plan_with("data", {**CONFIG_PASSWORD, PASSWORD_KEY: bad})
    assert bad not in str(err.value)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"minAcu": "32"}, r"catalog-data:minAcu: min ACU 32.0 is above max ACU 16.0"),
    ({"minAcu": "0"}, r"catalog-data:minAcu: 0.0 is below 0.5"),
    ({"engineVersion": "15.3"},
     r"catalog-data:engineVersion: '15\.3' is not .*\(allowed: " + re.escape(", ".join(ENGINE_VERSIONS))),
    ({"readerMaxCount": "1"}, r"catalog-data:readerMaxCount: 1 is outside 2-15"),
    ({"maxConnections": "1500"},
     r"catalog-data:maxConnections: .* 100 x 100 / 1500 = 6.66667%, so the pool cannot be exactly 100 .*e\.g\. 1250"),
    ({"proxyMaxConnections": "3000"}, r"catalog-data:proxyMaxConnections: a pool of 3000 .* supports at most 2000"),
])
def test_bad_input_is_refused_before_any_resource(plan_with, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        plan_with("data", {f"catalog-data:{k}": v for k, v in overrides.items()})


def raw_result(chain, config: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """The planner's raw result for the data layer, which still lists the resources declared before an error."""
    import json
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from shared.plan.planner import stack_ref
    from shared.runtime.layers import REPO_ROOT, get_layer
    from tests.conftest import SECRET_KEYS, SUFFIX

    net = chain["network"]
    request = {"layer": "data", "suffix": SUFFIX, "org": "organization", "program": str(get_layer("data").program),
               "config": {"aws:region": "us-east-1", **config}, "secretKeys": list(SECRET_KEYS),
               "upstream": {stack_ref("network", SUFFIX): {"outputs": net.exports,
                                                            "secrets": sorted(net.secret_exports)}}}
    with tempfile.TemporaryDirectory() as tmp:
        req, res = Path(tmp) / "request.json", Path(tmp) / "result.json"
        req.write_text(json.dumps(request))
        subprocess.run([sys.executable, "-m", "shared.plan.runner", str(req), str(res)], check=True,
                       cwd=get_layer("data").directory, env={**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)})
        return json.loads(res.read_text())


@pytest.mark.parametrize(("config", "message"), [
    (CONFIG_PASSWORD, "dbPassword is not set"),
    ({PASSWORD_KEY: "x" * 20, "catalog-data:maxConnections": "1500"}, "cannot be exactly 100"),
])
def test_refusals_happen_before_any_resource_is_declared(chain, config: dict[str, Any], message: str) -> None:
    result = raw_result(chain, config, {"CATALOG_DB_PASSWORD": ""})
    assert result["error"]["kind"] == "ConfigError" and message in result["error"]["message"]
    assert result["resources"] == []
    # The same request with the fault fixed declares the whole layer: the empty list above means something.
    fixed = raw_result(chain, {PASSWORD_KEY: "x" * 20}, {"CATALOG_DB_PASSWORD": ""})
    assert fixed["error"] is None and len(fixed["resources"]) > 30


def test_a_bigger_capacity_range_keeps_the_pool_at_exactly_100(plan_with) -> None:
    plan = plan_with("data", {"catalog-data:minAcu": "1", "catalog-data:maxAcu": "32",
                              "catalog-data:maxConnections": "5000", "catalog-data:engineVersion": "17.5",
                              "catalog-data:readerMaxCount": "8"})
    assert plan.one("aws:rds/cluster:Cluster").get("serverlessv2ScalingConfiguration") == {
        "minCapacity": 1, "maxCapacity": 32}
    assert plan.one("aws:rds/clusterParameterGroup:ClusterParameterGroup").get("family") == "aurora-postgresql17"
    pool = plan.one("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup").get("connectionPoolConfig")
    assert pool["maxConnectionsPercent"] == 2 and 5000 * 2 / 100 == 100
    assert pool["maxIdleConnectionsPercent"] == 1
    assert plan.one("aws:appautoscaling/target:Target").get("maxCapacity") == 8
    assert plan.export_value("maxAcu") == 32


# --- the settings alone (no plan) ----------------------------------------------------------------------------

def test_defaults_are_the_mission() -> None:
    s = settings()
    assert (s.min_acu, s.max_acu, s.proxy_max_connections, s.reader_max_count) == (0.5, 16, 100, 5)
    assert (s.max_connections, s.pool_percent, s.idle_percent) == (1000, 10, 5)
    assert s.reader_cpu_target == 70 and s.backup_retention_days == 7 and s.db_password is None
    assert s.parameter_family == "aurora-postgresql16"


@pytest.mark.parametrize(("values", "message"), [
    ({"minAcu": "0.75"}, "minAcu: 0.75 is below 0.5 or not a multiple of 0.5"),
    ({"maxAcu": "300"}, "maxAcu: 300.0 is outside 1-256"),
    ({"maxAcu": "0.5"}, "maxAcu: 0.5 is outside 1-256"),
    ({"readerMaxCount": "16"}, "readerMaxCount: 16 is outside 2-15"),
    ({"readerCpuTarget": "95"}, "readerCpuTarget: 95.0 is outside 10-90"),
    ({"maxConnections": "50"}, "maxConnections: 50 must be at least the pool"),
    ({"maxConnections": "2500"}, r"maxConnections: 2500 must be .* at most 2000"),
    ({"maxAcu": "2", "maxConnections": "1000"}, r"maxConnections: 1000 must be .* at most 189,.*e\.g\. 125\)"),
    ({"proxyMaxConnections": "0"}, "proxyMaxConnections: 0 is below 1"),
    ({"backupRetentionDays": "0"}, "backupRetentionDays: 0 is outside 1-35"),
    ({"logRetentionDays": "10"}, "logRetentionDays: 10 is not a CloudWatch Logs retention period"),
    ({"proxyIdleClientTimeout": "30000"}, "proxyIdleClientTimeout: 30000 is outside 1-28800"),
    ({"masterUsername": "catalog_admin"}, "masterUsername: 'catalog_admin' is not a valid"),
    ({"masterUsername": "rdsadmin"}, "masterUsername: 'rdsadmin' is not a valid"),
    ({"databaseName": "9lives"}, "databaseName: '9lives' is not a valid"),
    ({"minAcu": "O.5"}, "catalog-data:minAcu = 'O.5' is not a number"),
    ({"maxACU": "32"}, "unknown config key catalog-data:maxACU"),
])
def test_settings_refuse_bad_values_naming_key_and_allowed(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(**values)


def test_documented_max_connections_ceilings() -> None:
    # aurora-serverless-v2.setting-capacity.html: by max ACU, capped at 2,000 with min ACU 0.5.
    assert supported_max_connections(1, 1) == 189
    assert supported_max_connections(1, 4) == 823
    assert supported_max_connections(1, 8) == 1669
    assert supported_max_connections(1, 16) == 3360
    assert supported_max_connections(0.5, 16) == 2000
    assert supported_max_connections(1, 32) == supported_max_connections(2, 256) == 5000
    assert supported_max_connections(1, 12) == 1669  # between points: the lower, documented one


def test_pool_arithmetic() -> None:
    assert pool_percent(100, 1000) == 10 and pool_percent(100, 2000) == 5 and pool_percent(100, 100) == 100
    assert pool_percent(100, 1500) is None and pool_percent(100, 99) is None
    fix = working_max_connections(100, 2000, 1500)
    assert fix == 1250 and pool_percent(100, fix) == 8
    assert working_max_connections(300, 200, 300) is None


def test_password_rules_follow_create_db_cluster() -> None:
    check_password("abcdefgh")
    check_password("x" * 41)
    for bad in ("short", "x" * 42, 'has"quote12', "has/slash12", "tab\there12", "ünïcode-pass"):
        with pytest.raises(ConfigError, match="catalog-data:dbPassword"):
            check_password(bad)
