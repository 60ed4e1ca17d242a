"""A rehearsal on AWS is refused before anything is created when the target or the account cannot take it: stacks
missing, Fargate or Lambda quota too small, a fault FIS does not offer, no stop-condition alarm."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from shared.deploy.interface import StackOutput
from shared.ops.capacity import Workload
from shared.ops.rehearsal import FAULTS, Rehearsal
from shared.ops.rehearsal_faults import ScheduledFault
from shared.ops.rehearsal_preflight import preflight
from shared.runtime.errors import CatalogError
from shared.runtime.layers import LAYERS
from tests.conftest import deployed_platform

SUFFIX = "qa"
COMPOSITE = "catalog-customer-impact-qa"


@dataclass
class Account:
    """The account's answers (what Boto3Account reads from Service Quotas, Lambda, FIS, CloudWatch)."""

    vcpu: float = 4000
    concurrency: int = 3000
    actions: list[str] = field(default_factory=lambda: [a for a, _ in FAULTS.values()])
    alarms: tuple[str, ...] = (COMPOSITE,)

    def fargate_vcpu_quota(self) -> float:
        return self.vcpu

    def lambda_concurrency_quota(self) -> int:
        return self.concurrency

    def fis_action_ids(self) -> list[str]:
        return self.actions

    def composite_alarm_exists(self, name: str) -> bool:
        return name in self.alarms


def rehearsal(users: int = 50_000, faults: tuple[str, ...] = ("aurora-failover",)) -> Rehearsal:
    return Rehearsal(suffix=SUFFIX, users=users, duration_s=600, spawn_rate=500, local=False,
                     faults=tuple(ScheduledFault(name, 120.0) for name in faults),
                     workload=Workload(users=users))


def platform() -> object:
    stacks = deployed_platform(SUFFIX)
    observability = next(layer for layer in LAYERS if layer.name == "observability")
    stacks.stacks[("observability", SUFFIX)].outputs["alarmNames"] = StackOutput(["a", "b", COMPOSITE])
    assert stacks.resource_count(observability, SUFFIX)
    return stacks


def test_a_ready_target_passes() -> None:
    preflight(rehearsal(), platform(), Account(), lambda_need=25)
    preflight(rehearsal(faults=()), platform(), Account(alarms=()), lambda_need=25)  # no fault, no alarm needed


@pytest.mark.parametrize(("account", "need", "says"), [
    (Account(vcpu=6), 25, "needs 26 Fargate vCPU, the account's quota is 6"),
    (Account(concurrency=10), 25, "needs about 25 concurrent Lambda executions, the account's quota is 10"),
    (Account(actions=["aws:ec2:stop-instances"]), 25, "aws:rds:failover-db-cluster is not offered in this region"),
    (Account(alarms=()), 25, "no stop-condition alarm"),
])
def test_what_the_account_cannot_take_is_refused(account: Account, need: int, says: str) -> None:
    with pytest.raises(CatalogError, match=says):
        preflight(rehearsal(), platform(), account, lambda_need=need)


def test_missing_stacks_are_named() -> None:
    stacks = deployed_platform(SUFFIX)
    del stacks.stacks[("edge", SUFFIX)]
    with pytest.raises(CatalogError, match=r"--suffix qa: no deployed stack for edge .*invoke up-all --suffix qa"):
        preflight(rehearsal(), stacks, Account(), lambda_need=25)
    with pytest.raises(CatalogError, match="no deployed stack for network, data, app, edge, observability"):
        preflight(dataclasses.replace(rehearsal(), suffix="other"), stacks, Account(), 25)


def test_the_account_is_read_with_the_right_requests() -> None:
    """Boto3Account's four calls, each answered by botocore's Stubber on a real client (which checks the request
    against AWS's model): moto implements none of them (Lambda GetAccountSettings, Service Quotas for Fargate,
    composite alarms, FIS ListActions)."""
    import boto3
    from botocore.stub import Stubber

    from shared.ops.rehearsal_preflight import Boto3Account

    session = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1")
    clients = {name: session.client(name) for name in ("service-quotas", "lambda", "fis", "cloudwatch")}
    stubs = {name: Stubber(client) for name, client in clients.items()}
    stubs["service-quotas"].add_response("get_service_quota", {"Quota": {"Value": 4000.0}},
                                         {"ServiceCode": "fargate", "QuotaCode": "L-3032A538"})
    stubs["lambda"].add_response("get_account_settings", {"AccountLimit": {"ConcurrentExecutions": 3000}}, {})
    stubs["fis"].add_response("list_actions", {"actions": [{"id": "aws:rds:failover-db-cluster"}], "nextToken": "n"},
                              {})
    stubs["fis"].add_response("list_actions", {"actions": [{"id": "aws:lambda:invocation-error"}]}, {"nextToken": "n"})
    stubs["cloudwatch"].add_response("describe_alarms", {"CompositeAlarms": [{"AlarmName": COMPOSITE}]},
                                     {"AlarmNames": [COMPOSITE], "AlarmTypes": ["CompositeAlarm"]})

    class Session:
        def client(self, name: str) -> object:
            return clients[name]

    for stub in stubs.values():
        stub.activate()
    account = Boto3Account(Session())
    assert account.fargate_vcpu_quota() == 4000.0 and account.lambda_concurrency_quota() == 3000
    assert account.fis_action_ids() == ["aws:rds:failover-db-cluster", "aws:lambda:invocation-error"]
    assert account.composite_alarm_exists(COMPOSITE)
    for stub in stubs.values():
        stub.assert_no_pending_responses()
