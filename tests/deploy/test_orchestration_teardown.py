"""Teardown against AWS APIs emulated by moto: the Aurora readers auto scaling added (not in Pulumi state) are
removed before the data stack is destroyed, idempotently; the Lambda@Edge adapter deletes retained functions."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from shared.deploy.cloud import AwsEdgeCleaner, aws_reader_remover
from shared.deploy.confirm import Confirmation
from shared.deploy.interface import StackOutput
from shared.deploy.rds_readers import remove_autoscaled_readers
from shared.deploy.runner import Orchestrator
from shared.runtime.errors import CatalogError
from shared.runtime.layers import get_layer
from tests.support.memory import InMemoryBackend

CLUSTER = "catalog-db-qa"
MANAGED = ["catalog-db-writer-qa", "catalog-db-reader-1-qa", "catalog-db-reader-2-qa"]
SCALED = ["application-autoscaling-0a1b", "application-autoscaling-9f8e"]


@pytest.fixture
def rds(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("rds", region_name="us-east-1")
        client.create_db_cluster(DBClusterIdentifier=CLUSTER, Engine="aurora-postgresql",
                                 MasterUsername="catalog", MasterUserPassword="Passw0rd-for-tests",
                                 ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 16})
        for identifier in MANAGED + SCALED:
            client.create_db_instance(DBInstanceIdentifier=identifier, DBInstanceClass="db.serverless",
                                      Engine="aurora-postgresql", DBClusterIdentifier=CLUSTER)
        yield client


def members(rds: Any) -> list[str]:
    cluster = rds.describe_db_clusters(DBClusterIdentifier=CLUSTER)["DBClusters"][0]
    return sorted(m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"])


def no_sleep(_seconds: float) -> None:
    raise AssertionError("moto deletes at once: no wait expected")


def test_removes_only_instances_outside_state_and_is_idempotent(rds: Any) -> None:
    said: list[str] = []
    removed = remove_autoscaled_readers(rds, CLUSTER, MANAGED, say=said.append, sleep=no_sleep)
    assert removed == sorted(SCALED)
    assert members(rds) == sorted(MANAGED)
    assert all(any(i in line for line in said) for i in SCALED)
    assert remove_autoscaled_readers(rds, CLUSTER, MANAGED, say=said.append, sleep=no_sleep) == []
    assert members(rds) == sorted(MANAGED)


def test_managed_ids_compare_case_insensitively(rds: Any) -> None:
    remove_autoscaled_readers(rds, CLUSTER, [i.upper() for i in MANAGED], say=lambda _l: None, sleep=no_sleep)
    assert members(rds) == sorted(MANAGED)


def test_missing_cluster_is_nothing_to_do(rds: Any) -> None:
    assert remove_autoscaled_readers(rds, "catalog-db-gone", MANAGED, sleep=no_sleep) == []


def test_refuses_to_guess_without_managed_ids(rds: Any) -> None:
    with pytest.raises(CatalogError, match="exports no managedInstanceIds"):
        remove_autoscaled_readers(rds, CLUSTER, [], sleep=no_sleep)
    assert len(members(rds)) == 5


def test_gives_up_after_the_timeout_naming_what_is_left(rds: Any) -> None:
    from shared.deploy.rds_readers import ReaderCleanupError

    clock = iter([0.0, 10_000.0])
    with pytest.raises(ReaderCleanupError, match="application-autoscaling-0a1b"):
        remove_autoscaled_readers(rds, CLUSTER, MANAGED, say=lambda _l: None, sleep=no_sleep,
                                  timeout_seconds=60, clock=lambda: next(clock))
    assert len(members(rds)) == 5  # past the deadline before the first round: nothing touched


def test_down_of_the_data_layer_removes_them_through_the_real_adapter(rds: Any) -> None:
    backend = InMemoryBackend()
    stack = backend.deployed(get_layer("data"), "qa")
    stack.outputs["clusterId"] = StackOutput(CLUSTER)
    stack.outputs["managedInstanceIds"] = StackOutput(MANAGED)
    lines: list[str] = []
    orchestrator = Orchestrator(backend, say=lines.append, remove_readers=aws_reader_remover(lines.append),
                                env={}, confirm=Confirmation(yes=True))
    result = orchestrator.down(get_layer("data"), "qa")
    assert result.result == "destroyed, stack removed"
    assert members(rds) == sorted(MANAGED)
    assert any("removed 2 reader(s) added by auto scaling" in line for line in lines)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.mjs", "export const handler = async (e) => e;\n")
    return buffer.getvalue()


def test_edge_adapter_deletes_retained_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.deploy.edge_teardown import edge_function_names

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        role = boto3.client("iam").create_role(
            RoleName="edge", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')["Role"]["Arn"]
        lam = boto3.client("lambda", region_name="us-east-1")
        names = list(edge_function_names("qa").values())
        for name in names:
            lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=role, Handler="index.handler",
                                Code={"ZipFile": _zip()}, Publish=True)
        eu_logs = boto3.client("logs", region_name="eu-west-1")
        eu_logs.create_log_group(logGroupName=f"/aws/lambda/us-east-1.{names[0]}")
        cleaner = AwsEdgeCleaner(say=lambda _l: None, regions=lambda: ["us-east-1", "eu-west-1"])
        result = cleaner.after_destroy("qa")
        assert result.pending == ()
        assert all(any(f"deleted {name}" in line for line in result.lines) for name in names)
        assert lam.list_functions()["Functions"] == []
        assert eu_logs.describe_log_groups()["logGroups"] == []  # the replica's log group, swept too
        again = cleaner.after_destroy("qa")
        assert again.pending == () and all("already gone" in line for line in again.lines)


def test_reader_scaling_is_stopped_before_readers_are_removed(rds: Any) -> None:
    """Auto scaling could add a reader between the clean-up and the cluster's deletion: it is deregistered first."""
    scaling = boto3.client("application-autoscaling", region_name="us-east-1")
    target = {"ServiceNamespace": "rds", "ResourceId": f"cluster:{CLUSTER}",
              "ScalableDimension": "rds:cluster:ReadReplicaCount"}
    scaling.register_scalable_target(**target, MinCapacity=2, MaxCapacity=5)
    said: list[str] = []
    removed = remove_autoscaled_readers(rds, CLUSTER, MANAGED, autoscaling=scaling, say=said.append,
                                        sleep=no_sleep)
    assert removed == sorted(SCALED)
    assert scaling.describe_scalable_targets(ServiceNamespace="rds")["ScalableTargets"] == []
    assert any("auto scaling of cluster" in line for line in said)
    # A second run (target already gone) is a no-op, not an error.
    assert remove_autoscaled_readers(rds, CLUSTER, MANAGED, autoscaling=scaling, say=said.append,
                                     sleep=no_sleep) == []
