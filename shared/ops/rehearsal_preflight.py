"""What a rehearsal on AWS needs before anything is created, read from the stacks and the account.

The target environment's stacks exist; the account's Fargate vCPU quota holds the Locust fleet; its Lambda
concurrency quota holds what the capacity model says the shoppers need; every requested fault is an action FIS
offers in the Region and has its experiment template; the stop-condition alarm exists. Each miss is one
CatalogError naming the fix (`rehearsal.validate` makes the checks; this module gathers the facts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from shared.ops.rehearsal import Rehearsal, validate
from shared.runtime.errors import CatalogError
from shared.runtime.layers import LAYERS

# Service Quotas: "Fargate On-Demand vCPU resource count" (service code fargate).
FARGATE_VCPU_QUOTA = ("fargate", "L-3032A538")


class Account(Protocol):
    def fargate_vcpu_quota(self) -> float: ...

    def lambda_concurrency_quota(self) -> int: ...

    def fis_action_ids(self) -> list[str]: ...

    def composite_alarm_exists(self, name: str) -> bool: ...


class Stacks(Protocol):
    def resource_count(self, layer: Any, suffix: str) -> int: ...

    def outputs(self, layer: Any, suffix: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Boto3Account:
    session: Any  # boto3.session.Session in us-east-1

    def fargate_vcpu_quota(self) -> float:
        service, code = FARGATE_VCPU_QUOTA
        return float(self.session.client("service-quotas").get_service_quota(
            ServiceCode=service, QuotaCode=code)["Quota"]["Value"])

    def lambda_concurrency_quota(self) -> int:
        return int(self.session.client("lambda").get_account_settings()["AccountLimit"]["ConcurrentExecutions"])

    def fis_action_ids(self) -> list[str]:
        ids: list[str] = []
        for page in self.session.client("fis").get_paginator("list_actions").paginate():
            ids += [a["id"] for a in page.get("actions", [])]
        return ids

    def composite_alarm_exists(self, name: str) -> bool:
        found = self.session.client("cloudwatch").describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])
        return bool(found.get("CompositeAlarms"))


def _value(output: Any) -> Any:
    return getattr(output, "value", output)


def preflight(r: Rehearsal, stacks: Stacks, account: Account, lambda_need: int) -> None:
    """Refuse the rehearsal, one line, unless the target environment and the account can take it."""
    missing = [layer.name for layer in LAYERS if not stacks.resource_count(layer, r.suffix)]
    if missing:
        raise CatalogError(f"--suffix {r.suffix}: no deployed stack for {', '.join(missing)}",
                           f"deploy the environment first: invoke up-all --suffix {r.suffix}")
    quota = account.lambda_concurrency_quota()
    if lambda_need > quota:
        raise CatalogError(f"--users {r.users} needs about {lambda_need:,} concurrent Lambda executions, the "
                           f"account's quota is {quota:,}", "raise 'Concurrent executions' in Service Quotas "
                           "or lower --users")
    alarms: list[str] = []
    if r.faults:
        observability = next(layer for layer in LAYERS if layer.name == "observability")
        names = _value(stacks.outputs(observability, r.suffix).get("alarmNames")) or []
        composite = names[-1] if names else ""  # the composite is listed last
        alarms = [composite] if composite and account.composite_alarm_exists(composite) else []
    validate(r, fargate_vcpu_quota=account.fargate_vcpu_quota(), stop_condition_alarms=alarms,
             fis_actions=account.fis_action_ids() if r.faults else None)

