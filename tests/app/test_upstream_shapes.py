"""Outputs that flow into IAM are checked by the consumer: an upstream ARN of the wrong service, Region or account,
or with a wildcard, stops the consumer's program with one line before it declares a single resource."""

from __future__ import annotations

import dataclasses

import pytest

from shared.declarations import outputs_of
from shared.plan.computed import ACCOUNT_ID
from shared.plan.planner import Plan, PlanError, plan_layer
from shared.runtime.shapes import SECRET, value_problem
from tests.conftest import BASE_CONFIG, SECRET_KEYS, SUFFIX

GOOD_SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:catalog-db-app-x-AbCdEf"


def plan_app_with(chain: dict[str, Plan], **data_exports: object) -> Plan:
    data = dataclasses.replace(chain["data"], exports={**chain["data"].exports, **data_exports})
    return plan_layer("app", SUFFIX, BASE_CONFIG, {"network": chain["network"], "data": data},
                      secret_keys=SECRET_KEYS, env={"CATALOG_DB_PASSWORD": ""})


@pytest.mark.parametrize(("output", "value", "why"), [
    ("appSecretArn", "*", "which has a wildcard"),
    ("ownerSecretArn", GOOD_SECRET.replace(ACCOUNT_ID, "999999999999"), "is in account 999999999999"),
    ("masterSecretArn", GOOD_SECRET.replace("us-east-1", "eu-west-1"), "is in Region eu-west-1"),
    ("sessionsTableArn", f"arn:aws:dynamodb:us-east-1:{ACCOUNT_ID}:table/*", "which has a wildcard"),
    ("cacheTableArn", GOOD_SECRET, "is an ARN of service secretsmanager, not dynamodb"),
    ("proxyResourceId", "*", "does not match"),
    ("databaseUser", "catalog_app/*", "does not match"),
])
def test_app_refuses_a_data_output_that_would_widen_its_policies(
        chain: dict[str, Plan], output: str, value: str, why: str) -> None:
    with pytest.raises(PlanError) as refused:
        plan_app_with(chain, **{output: value})
    message = str(refused.value)
    assert "\n" not in message and "Traceback" not in message
    assert f"output {output} of layer data" in message and why in message, message
    assert "invoke up --layer data --suffix" in message, message
    # Nothing half-created: the program stopped before its first AWS resource (only the stack and its references).
    declared = [r.type for r in refused.value.resources if not r.type.startswith("pulumi:")]
    assert declared == [], declared


def test_the_unchanged_chain_passes_and_every_shaped_output_it_exports_has_its_shape(
        chain: dict[str, Plan]) -> None:
    checked = 0
    for layer, plan in chain.items():
        for spec in outputs_of(layer).values():
            if spec.shape is not None:
                assert value_problem(spec.shape, plan.export_value(spec.name), ACCOUNT_ID) is None, spec.name
                checked += 1
    assert checked >= 20
    # The app layer was planned from those values: the check lets real ARNs through.
    assert chain["app"].custom_resources()


def test_an_optional_arn_may_be_empty_and_a_required_one_may_not() -> None:
    assert value_problem(SECRET, "", ACCOUNT_ID) is not None
    assert value_problem(dataclasses.replace(SECRET, optional=True), "", ACCOUNT_ID) is None
    assert value_problem(SECRET, GOOD_SECRET, ACCOUNT_ID) is None
    assert value_problem(SECRET, GOOD_SECRET + "${aws:username}", ACCOUNT_ID) is not None
    assert value_problem(SECRET, "arn:aws:secretsmanager:us-east-1:" + ACCOUNT_ID + ":parameter:x", ACCOUNT_ID)


def test_a_secret_output_is_not_repeated_in_the_refusal() -> None:
    why = value_problem(SECRET, "arn:aws:secretsmanager:us-east-1:999999999999:secret:x", ACCOUNT_ID, show=False)
    assert why is not None and "[secret]" in why and "secret:x" not in why
