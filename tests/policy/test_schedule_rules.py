"""Guardrails for the EventBridge Scheduler resources: a schedule's role allows only its target's action on its
target (`schedule-role-scope`), and its trust carries aws:SourceAccount/aws:SourceArn (`trust-source-account`).
Both pass on the real plans (the data layer's sale schedules, the app's waiting room schedule) and fail on the
mistakes they exist for."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.policy import BY_NAME, Context, Res, evaluate
from shared.policy.engine import identities
from shared.policy.schedule_rules import target_action
from shared.runtime.naming import LONGEST_SUFFIX_EXAMPLE

S = LONGEST_SUFFIX_EXAMPLE
ACCOUNT = "123456789012"
FN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:catalog-waiting-room-{S}"
ROLE_NAME = f"catalog-waiting-room-schedule-{S}"


def R(type_: str, logical: str, **inputs: Any) -> Res:
    return Res(
        type=type_,
        name=logical,
        inputs=inputs,
        region="us-east-1",
        idents=identities(type_, logical, inputs),
        layer="app",
    )


def stack(statement: dict[str, Any], trust_condition: dict[str, Any] | None = None) -> list[Res]:
    trust = {"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}
    if trust_condition is not None:
        trust["Condition"] = trust_condition
    role = R(
        "aws:iam/role:Role",
        "schedule-role",
        name=ROLE_NAME,
        assumeRolePolicy=json.dumps({"Version": "2012-10-17", "Statement": [trust]}),
    )
    policy = R(
        "aws:iam/rolePolicy:RolePolicy",
        "schedule-invoke",
        role=ROLE_NAME,
        policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    schedule = R(
        "aws:scheduler/schedule:Schedule",
        "schedule",
        name=f"catalog-waiting-room-{S}",
        scheduleExpression="rate(1 minute)",
        flexibleTimeWindow={"mode": "OFF"},
        target={"arn": FN, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"},
    )
    return [role, policy, schedule]


def messages(policy: str, resources: list[Res]) -> list[str]:
    return [m for _, _, m in evaluate(resources, Context(suffix=S, layer="app"), [BY_NAME[policy]])]


GOOD = {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": [FN, f"{FN}:*"]}
TRUST = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_the_invoke_only_role_passes() -> None:
    assert messages("schedule-role-scope", stack(GOOD, TRUST)) == []
    assert messages("trust-source-account", stack(GOOD, TRUST)) == []


@pytest.mark.parametrize(
    ("statement", "needle"),
    [
        (
            {**GOOD, "Action": ["lambda:InvokeFunction", "lambda:UpdateFunctionCode"]},
            "allows lambda:UpdateFunctionCode",
        ),
        ({**GOOD, "Resource": "*"}, "reaches *"),
        ({**GOOD, "Resource": [f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:catalog-api-{S}"]}, "only its target"),
    ],
)
def test_a_role_that_can_do_more_than_its_target_is_refused(statement: dict[str, Any], needle: str) -> None:
    found = messages("schedule-role-scope", stack(statement, TRUST))
    assert found and needle in found[0]


def test_a_scheduler_trust_without_source_conditions_is_refused() -> None:
    found = messages("trust-source-account", stack(GOOD))
    assert found and "scheduler.amazonaws.com" in found[0]


def test_target_actions() -> None:
    assert target_action(FN) == "lambda:InvokeFunction"
    assert target_action("arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster") == "rds:ModifyDBCluster"
    assert target_action("arn:aws:sqs:us-east-1:123456789012:q") is None
