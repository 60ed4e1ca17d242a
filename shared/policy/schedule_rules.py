"""EventBridge Scheduler: a schedule's role may do exactly what its target is, on its target only.

A schedule runs its target with its role (`target.roleArn`). The role is the deputy: whatever its policies allow,
anyone who can edit the schedule can make it do. So the role's inline policies must allow only the one action the
target performs (`lambda:InvokeFunction` for a Lambda target; `<service>:<Action>` for a universal target
`arn:aws:scheduler:::aws-sdk:<service>:<action>`) and, for a Lambda target, only on that function (its ARN or its
qualified ARNs). The trust side (scheduler.amazonaws.com with aws:SourceAccount/aws:SourceArn) is the
`trust-source-account` rule's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared.policy.model import UNKNOWN, Context, Finding, Res, as_list, parse_json, refers

SCHEDULE = "aws:scheduler/schedule:Schedule"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LAMBDA_ARN = re.compile(r"^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+$")
UNIVERSAL = re.compile(r"^arn:aws:scheduler:::aws-sdk:([a-z0-9-]+):([A-Za-z0-9]+)$")


def target_action(arn: str) -> str | None:
    """The one IAM action a schedule's target needs (None: a target kind this rule does not know)."""
    if LAMBDA_ARN.match(arn):
        return "lambda:InvokeFunction"
    universal = UNIVERSAL.match(arn)
    if universal:
        service, action = universal.groups()
        return f"{service}:{action[:1].upper()}{action[1:]}"
    return None


def _role_of(schedule: Res, roles: list[Res]) -> Res | None:
    role_arn = schedule.get("target", "roleArn")
    for role in roles:
        if role_arn in role.idents or (isinstance(role_arn, str) and role_arn.rsplit("/", 1)[-1] in role.idents):
            return role
    return None


def check_schedule_role_scope(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    roles = [r for r in resources if r.type == ROLE]
    policies = [r for r in resources if r.type == ROLE_POLICY]
    for schedule in (r for r in resources if r.type == SCHEDULE):
        target = schedule.get("target", "arn")
        if target is UNKNOWN or not isinstance(target, str) or schedule.get("target", "roleArn") is UNKNOWN:
            continue
        action = target_action(target)
        if action is None:
            yield schedule, f"target {target} is neither a Lambda function nor a universal target: not judged"
            continue
        role = _role_of(schedule, roles)
        if role is None:
            yield schedule, "target.roleArn is not a role of this stack: its permissions cannot be checked"
            continue
        allowed = {target, f"{target}:*"} if action == "lambda:InvokeFunction" else None
        for policy in (p for p in policies if refers(p, "role", role)):
            document = parse_json(policy.inputs.get("policy"))
            if document is UNKNOWN or not isinstance(document, dict):
                continue
            for st in as_list(document.get("Statement")):
                if not isinstance(st, dict) or st.get("Effect") != "Allow":
                    continue
                extra = [a for a in as_list(st.get("Action")) if str(a).lower() != action.lower()]
                if extra:
                    yield (
                        policy,
                        f"the role of schedule {schedule.name} allows {', '.join(map(str, extra))}: its "
                        f"target needs {action} only",
                    )
                resources_ = [str(r) for r in as_list(st.get("Resource"))]
                if "*" in resources_ or (allowed is not None and not set(resources_) <= allowed):
                    yield (
                        policy,
                        f"the role of schedule {schedule.name} reaches {', '.join(resources_)}: only its "
                        f"target {target}",
                    )
