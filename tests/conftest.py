"""Shared fixtures: the offline plan of every layer, run once per session with the longest legal suffix."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from shared.plan.identity import plan_only_identity
from shared.plan.planner import Plan, plan_chain, plan_layer
from shared.runtime.layers import LAYERS
from shared.runtime.naming import LONGEST_SUFFIX_EXAMPLE

SUFFIX = LONGEST_SUFFIX_EXAMPLE
# Secrets a real stack holds as Pulumi config secrets; the plan receives them the same way.
DB_PASSWORD = "plan-only-Db-passw0rd-7f3a"
ORIGIN_VERIFY = "plan-only-origin-verify-4c2e9b"
SECRET_CONFIG = {
    "catalog-data:dbPassword": DB_PASSWORD,
    "catalog-app:originVerifySecret": ORIGIN_VERIFY,
}
# A plan-only identity (generated EC P-256 key, private half discarded): the app layer refuses to plan without one.
IDENTITY_CONFIG = {f"catalog-app:{key}": value for key, value in plan_only_identity().items()}
BASE_CONFIG: dict[str, Any] = {**SECRET_CONFIG, **IDENTITY_CONFIG}
SECRET_KEYS = tuple(SECRET_CONFIG)


@pytest.fixture(scope="session")
def chain() -> dict[str, Plan]:
    """Every layer planned in order with the longest legal suffix and default settings."""
    return plan_chain(SUFFIX, BASE_CONFIG, secret_keys=SECRET_KEYS, env={"CATALOG_DB_PASSWORD": ""})


@pytest.fixture(scope="session")
def plan_with(chain: dict[str, Plan]) -> Callable[..., Plan]:
    """Plan one layer again with config overrides (`{"catalog-data:maxAcu": "32"}`), upstream from `chain`."""

    def run(layer: str, overrides: dict[str, Any] | None = None, suffix: str = SUFFIX,
            env: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> Plan:
        config = {k: v for k, v in {**BASE_CONFIG, **(overrides or {})}.items() if k not in drop}
        upstream = chain if suffix == SUFFIX else plan_chain(suffix, BASE_CONFIG, secret_keys=SECRET_KEYS,
                                                             layers=[layer])
        return plan_layer(layer, suffix, config, upstream, secret_keys=SECRET_KEYS,
                          env={"CATALOG_DB_PASSWORD": "", **(env or {})})

    return run


FAULT_CONFIG_BUCKET = f"catalog-fis-config-{SUFFIX}-123456789012"  # the environment's naming (refused otherwise)
FAULT_CONFIG_LOCATION = f"arn:aws:s3:::{FAULT_CONFIG_BUCKET}/FisConfigs"


def plan_with_fault_injection(chain: dict[str, Plan], overrides: dict[str, Any] | None = None) -> Plan:
    """The observability layer planned over `chain` whose app layer has the FIS Lambda extension on
    (faultInjection): its faultConfigLocation export set as the app program exports it
    (tests/app/test_app_fault_injection.py plans that program with it on)."""
    import dataclasses

    app = chain["app"]
    upstream = {**chain, "app": dataclasses.replace(app, exports={**app.exports,
                                                                  "faultConfigLocation": FAULT_CONFIG_LOCATION})}
    return plan_layer("observability", SUFFIX, {**BASE_CONFIG, **(overrides or {})}, upstream,
                      secret_keys=SECRET_KEYS, env={"CATALOG_DB_PASSWORD": ""})


@pytest.fixture(scope="session")
def plan_faults(chain: dict[str, Plan]) -> Callable[..., Plan]:
    """`plan_with_fault_injection` over the session's chain."""
    return lambda overrides=None: plan_with_fault_injection(chain, overrides)


def pytest_report_header(config: pytest.Config) -> str:
    return f"catalog layers: {', '.join(layer.name for layer in LAYERS)}; plan suffix {SUFFIX!r}"


os.environ.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")


def deployed_platform(suffix: str) -> Any:
    """An in-memory backend with every layer deployed, the app stack holding the identity it refuses to deploy
    without (catalog-app:auth*), as a real platform's stacks would."""
    from shared.deploy.interface import ConfigEntry
    from tests.support.memory import InMemoryBackend

    backend = InMemoryBackend()
    for layer in LAYERS:
        backend.deployed(layer, suffix)
    # Written into the stack as an earlier `up` left it (not a recorded operation of the test).
    app = backend.stacks[("app", suffix)]
    app.config.update({f"catalog-app:{k}": ConfigEntry(v) for k, v in plan_only_identity().items()})
    return backend
