"""Lambda@Edge teardown logic (shared/deploy/edge_teardown.py) against moto's Lambda, IAM and CloudWatch Logs.

Moto does not model Lambda@Edge replication, so AWS's refusal (`InvalidParameterValueException: Lambda was
unable to delete ... because it is a replicated function`) is injected into the real boto3 client through
botocore's `before-call` event, the hook botocore's own Stubber uses; everything else is moto answering.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto import mock_aws

from shared.deploy.edge_teardown import (
    ABSENT,
    DELETED,
    IN_USE,
    REPLICATED,
    after_destroy,
    before_up,
    cleanup_edge_functions,
    cleanup_until_done,
    edge_function_names,
    edge_log_group_names,
    managed_function_names,
)
from shared.runtime.errors import CatalogError
from shared.runtime.naming import LONGEST_SUFFIX_EXAMPLE, Service, check_name

SUFFIX = LONGEST_SUFFIX_EXAMPLE
REPLICATED_MESSAGE = ("Lambda was unable to delete arn:aws:lambda:us-east-1:123456789012:function:{name}:1 because "
                      "it is a replicated function. Please see our documentation for Deleting Lambda@Edge Functions "
                      "and Replicas.")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield {"lambda": boto3.client("lambda", region_name="us-east-1"),
               "iam": boto3.client("iam", region_name="us-east-1"),
               "logs": {r: boto3.client("logs", region_name=r) for r in ("us-east-1", "eu-west-1")}}


def deploy_functions(aws: dict[str, Any], versions: int = 2) -> dict[str, str]:
    """What `invoke up --layer edge` leaves in us-east-1 (and a destroy retains): both functions, published."""
    role = aws["iam"].create_role(RoleName="edge", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
            "Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]}}]}))["Role"]["Arn"]
    names = edge_function_names(SUFFIX)
    for role_name, name in names.items():
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as zf:
            zf.writestr(f"{role_name}.mjs", "export const handler = async (e) => e;\n")
        aws["lambda"].create_function(FunctionName=name, Runtime="nodejs22.x", Role=role, Handler="x.handler",
                                      Code={"ZipFile": code.getvalue()}, Publish=True, Architectures=["x86_64"])
        for _ in range(versions - 1):
            aws["lambda"].update_function_code(FunctionName=name, ZipFile=code.getvalue(), Publish=True)
    return names


def refuse_deletes(client: Any, names: set[str], code: str = "InvalidParameterValueException") -> Any:
    """Make DeleteFunction of `names` fail the way AWS does while replicas exist; returns the hook."""

    def hook(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        name = params["url_path"].rstrip("/").split("/")[-1]
        if name not in names:
            return None
        message = REPLICATED_MESSAGE.format(name=name) if code == "InvalidParameterValueException" else "denied"
        return (AWSResponse("https://lambda.us-east-1.amazonaws.com", 400, {}, None),
                {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}})

    client.meta.events.register("before-call.lambda.DeleteFunction", hook)
    return hook


def existing(client: Any) -> set[str]:
    return {f["FunctionName"] for f in client.list_functions()["Functions"]}


def test_names_come_from_the_suffix_alone_and_are_legal() -> None:
    names = edge_function_names(SUFFIX)
    assert names == {"viewerRequest": f"catalog-edge-auth-{SUFFIX}", "originResponse": f"catalog-edge-headers-{SUFFIX}"}
    for name in names.values():
        check_name(name, Service.LAMBDA)
        assert edge_log_group_names(name)[0] == f"/aws/lambda/us-east-1.{name}"


def test_deletes_every_version_then_reports_absent(aws: dict[str, Any]) -> None:
    names = deploy_functions(aws)
    report = cleanup_edge_functions(aws["lambda"], SUFFIX)
    assert report.done and not report.pending
    assert [(f.name, f.outcome, f.versions) for f in report.functions] == [
        (name, DELETED, ("1", "2")) for name in names.values()]
    assert existing(aws["lambda"]) == set()
    again = cleanup_edge_functions(aws["lambda"], SUFFIX)  # idempotent
    assert [f.outcome for f in again.functions] == [ABSENT, ABSENT]
    assert all("already gone" in line for line in again.lines())


def test_still_replicated_is_reported_not_raised(aws: dict[str, Any]) -> None:
    names = deploy_functions(aws, versions=1)
    refuse_deletes(aws["lambda"], {names["viewerRequest"]})
    report = after_destroy(aws["lambda"], SUFFIX, logs_clients=aws["logs"].values())
    outcome = {f.name: f.outcome for f in report.functions}
    assert outcome == {names["viewerRequest"]: REPLICATED, names["originResponse"]: DELETED}
    assert not report.done and report.pending == (names["viewerRequest"],)
    assert existing(aws["lambda"]) == {names["viewerRequest"]}
    assert report.log_groups_deleted == ()  # logs only once every function is gone
    assert any(f"invoke cleanup-edge --suffix {SUFFIX}" in line for line in report.lines())


def test_other_errors_are_raised(aws: dict[str, Any]) -> None:
    names = deploy_functions(aws, versions=1)
    refuse_deletes(aws["lambda"], {names["originResponse"]}, code="AccessDeniedException")
    with pytest.raises(ClientError, match="AccessDenied"):
        cleanup_edge_functions(aws["lambda"], SUFFIX)


def test_functions_of_a_deployed_stack_are_never_touched(aws: dict[str, Any]) -> None:
    names = deploy_functions(aws, versions=1)
    outputs = {"viewerRequestFunctionName": names["viewerRequest"], "distributionId": "E123"}
    in_use = managed_function_names(outputs)
    assert in_use == (names["viewerRequest"],)
    report = cleanup_edge_functions(aws["lambda"], SUFFIX, in_use=in_use)
    assert {f.name: f.outcome for f in report.functions} == {names["viewerRequest"]: IN_USE,
                                                             names["originResponse"]: DELETED}
    assert existing(aws["lambda"]) == {names["viewerRequest"]}


def test_retries_until_the_replicas_are_gone(aws: dict[str, Any]) -> None:
    names = deploy_functions(aws, versions=1)
    hook = refuse_deletes(aws["lambda"], set(names.values()))
    now = [0.0]
    attempts: list[bool] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds
        if len(attempts) == 3:  # AWS finished removing the replicas after the third attempt
            aws["lambda"].meta.events.unregister("before-call.lambda.DeleteFunction", hook)

    report = cleanup_until_done(aws["lambda"], SUFFIX, timeout_seconds=3600, interval_seconds=60,
                                sleep=sleep, clock=lambda: now[0], on_attempt=lambda r: attempts.append(r.done))
    assert attempts == [False, False, False, True] and report.done
    assert now[0] == 180 and existing(aws["lambda"]) == set()


def test_gives_up_at_the_deadline_with_the_pending_report(aws: dict[str, Any]) -> None:
    names = deploy_functions(aws, versions=1)
    refuse_deletes(aws["lambda"], set(names.values()))
    now = [0.0]
    report = cleanup_until_done(aws["lambda"], SUFFIX, timeout_seconds=300, interval_seconds=120,
                                sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    assert not report.done and set(report.pending) == set(names.values())
    assert now[0] <= 300
    one = cleanup_until_done(aws["lambda"], SUFFIX, timeout_seconds=0, sleep=pytest.fail)  # a single attempt
    assert not one.done


def test_log_groups_of_the_replicas_are_deleted_in_every_region(aws: dict[str, Any]) -> None:
    names = deploy_functions(aws, versions=1)
    for client in aws["logs"].values():
        for name in names.values():
            client.create_log_group(logGroupName=edge_log_group_names(name)[0])
    aws["logs"]["us-east-1"].create_log_group(logGroupName="/aws/lambda/catalog-api-other")
    report = cleanup_edge_functions(aws["lambda"], SUFFIX, logs_clients=aws["logs"].values())
    assert report.done and len(report.log_groups_deleted) == 4
    for client in aws["logs"].values():
        left = {g["logGroupName"] for g in client.describe_log_groups()["logGroups"]}
        assert not any(name in group for group in left for name in names.values())
    assert "/aws/lambda/catalog-api-other" in {
        g["logGroupName"] for g in aws["logs"]["us-east-1"].describe_log_groups()["logGroups"]}


def test_before_up_clears_leftovers_or_refuses_clearly(aws: dict[str, Any]) -> None:
    names = deploy_functions(aws, versions=1)
    hook = refuse_deletes(aws["lambda"], {names["originResponse"]})
    with pytest.raises(CatalogError) as err:
        before_up(aws["lambda"], SUFFIX)
    assert names["originResponse"] in str(err.value) and "still replicated" in str(err.value)
    assert f"invoke cleanup-edge --suffix {SUFFIX}" in str(err.value)
    aws["lambda"].meta.events.unregister("before-call.lambda.DeleteFunction", hook)
    assert before_up(aws["lambda"], SUFFIX).done
    assert existing(aws["lambda"]) == set()
    assert before_up(aws["lambda"], SUFFIX).done  # nothing left: a fresh deploy proceeds


def test_a_region_refusing_the_logs_api_is_skipped_not_fatal(aws: dict[str, Any]) -> None:
    names = deploy_functions(aws, versions=1)
    group = edge_log_group_names(names["viewerRequest"])[0]
    aws["logs"]["us-east-1"].create_log_group(logGroupName=group)

    def deny(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return (AWSResponse("https://logs.eu-west-1.amazonaws.com", 400, {}, None),
                {"Error": {"Code": "AccessDeniedException", "Message": "explicit deny in an SCP"},
                 "ResponseMetadata": {"HTTPStatusCode": 400}})

    aws["logs"]["eu-west-1"].meta.events.register("before-call.cloudwatch-logs.DeleteLogGroup", deny)
    report = cleanup_edge_functions(aws["lambda"], SUFFIX, logs_clients=aws["logs"].values())
    assert report.done and report.log_groups_deleted == (group,)
    assert report.log_regions_skipped == ("eu-west-1",)
    assert any("eu-west-1" in line for line in report.lines())
