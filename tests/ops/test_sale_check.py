"""`invoke sale check`: the go/no-go rows from the account (boto3 on moto, where moto models the calls; Service
Quotas through a real boto3 client answered by botocore's Stubber, since moto models only VPC quotas) and from the
offline plan of the stacks' config (`--plan`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from shared.deploy.interface import StackOutput, output_value
from shared.ops import sale_tasks as sale_cli
from shared.ops.perf_report import load_service_times
from shared.ops.sale import SaleRequest, apply_plan, plan_sale, stack_settings
from shared.ops.sale_check import Boto3Account, ServiceQuotasReader, go, readiness, rows_table
from shared.runtime.layers import LAYERS, REPO_ROOT, get_layer
from shared.runtime.naming import Service, physical_name
from shared.runtime.sale_windows import parse_utc
from tests.conftest import deployed_platform
from tests.support.memory import InMemoryBackend
from tests.support.tasks import run_invoke

SUFFIX = "qa"
START, END = "2030-05-01T18:00:00Z", "2030-05-01T20:00:00Z"
NOW = datetime(2030, 4, 30, tzinfo=UTC)
KEY = "20300501t1800"
QUOTA = {"ServiceCode": "lambda", "QuotaCode": "L-B99A9384"}


def quota_reply(value: float) -> dict[str, Any]:
    return {"Quota": {"ServiceCode": "lambda", "QuotaCode": "L-B99A9384", "QuotaName": "Concurrent executions",
                      "Value": value, "Unit": "None", "Adjustable": True, "GlobalQuota": False}}


@pytest.fixture
def stacks() -> InMemoryBackend:
    """Deployed stacks holding one declared sale (50,000 users)."""
    backend = deployed_platform(SUFFIX)
    times, _ = load_service_times(str(REPO_ROOT / "bench" / "reference-run.json"))
    request = SaleRequest(parse_utc(START), parse_utc(END), 50_000)
    apply_plan(backend, SUFFIX, plan_sale(request, stack_settings(backend, SUFFIX), times, lambda_quota=1000, now=NOW))
    return backend


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.session.Session]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.session.Session(region_name="us-east-1")


def outputs(backend: InMemoryBackend) -> dict[str, dict[str, Any]]:
    out = {}
    for layer in LAYERS:
        found = backend.outputs(layer, SUFFIX)
        out[layer.name] = {k: output_value(found, k) for k in found}
    return out


def deploy_schedules(session: boto3.session.Session, backend: InMemoryBackend, pc: tuple[int, int]) -> None:
    """What `invoke up` of app and data creates for the window, made with the AWS APIs on moto."""
    out = outputs(backend)
    scaling = session.client("application-autoscaling")
    function = f"function:{out['app']['functionName']}:{out['app']['aliasName']}"
    targets = (("lambda", function, "lambda:function:ProvisionedConcurrency", "pc", pc, (2, 10)),
               ("rds", f"cluster:{out['data']['clusterId']}", "rds:cluster:ReadReplicaCount", "readers", (2, 5),
                (2, 5)))
    for namespace, resource, dimension, kind, during, steady in targets:
        scaling.register_scalable_target(ServiceNamespace=namespace, ResourceId=resource,
                                         ScalableDimension=dimension, MinCapacity=steady[0], MaxCapacity=steady[1])
        for step, at, (lo, hi) in (("scale-out", "at(2030-05-01T17:45:00)", during),
                                   ("restore", "at(2030-05-01T20:00:00)", steady)):
            scaling.put_scheduled_action(
                ServiceNamespace=namespace, ResourceId=resource, ScalableDimension=dimension, Schedule=at,
                Timezone="UTC", ScheduledActionName=physical_name(f"sale-{KEY}-{kind}-{step}", SUFFIX),
                ScalableTargetAction={"MinCapacity": lo, "MaxCapacity": hi})
    scheduler = session.client("scheduler")
    for step in ("scale-out", "restore"):
        scheduler.create_schedule(
            Name=physical_name(f"sale-{KEY}-acu-{step}", SUFFIX, Service.LAMBDA),
            ScheduleExpression="at(2030-05-01T17:45:00)", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": "arn:aws:scheduler:::aws-sdk:rds:modifyDBCluster",
                    "RoleArn": "arn:aws:iam::123456789012:role/catalog-sale-scheduler-qa", "Input": "{}"})
    cloudwatch = session.client("cloudwatch")
    for name in (physical_name(f"sale-{KEY}-pc-below-plan", SUFFIX, Service.ALARM), "catalog-api-errors-qa"):
        cloudwatch.put_metric_alarm(AlarmName=name, MetricName="ProvisionedConcurrentExecutions",
                                    Namespace="AWS/Lambda", Statistic="Average", Period=60, EvaluationPeriods=1,
                                    Threshold=1, ComparisonOperator="LessThanThreshold")
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")


def account(session: boto3.session.Session, quota: float) -> tuple[Boto3Account, Stubber]:
    """Boto3 for everything; the Service Quotas client is real, its answers AWS-shaped (moto has no Lambda quotas):
    no applied value, so the reader falls back to AWS's default."""
    client = session.client("service-quotas")
    stub = Stubber(client)
    stub.add_client_error("get_service_quota", "NoSuchResourceException", expected_params=QUOTA)
    stub.add_response("get_aws_default_service_quota", quota_reply(quota), expected_params=QUOTA)
    stub.activate()
    return Boto3Account(session, ServiceQuotasReader(client)), stub


def expected(backend: InMemoryBackend, alarm_names: list[str] | None = None) -> Any:
    out = outputs(backend)
    out["observability"]["alarmNames"] = alarm_names or ["catalog-api-errors-qa"]
    return sale_cli._expected(backend, SUFFIX, out)


def by_check(rows: list[Any]) -> dict[str, Any]:
    return {r.check: r for r in rows}


def test_everything_in_place_is_go(aws: boto3.session.Session, stacks: InMemoryBackend) -> None:
    planned = sale_cli.stored_windows(stacks, SUFFIX, "app")[0].numbers
    pc = (planned["pcMin"], planned["pcMax"])
    deploy_schedules(aws, stacks, pc)
    # The edge stack exports its web ACL: the check reads its rules from WAF.
    stacks.stacks[("edge", SUFFIX)].outputs["webAclArn"] = StackOutput(edge_web_acl(aws))
    reader, stub = account(aws, 1000.0)
    rows = readiness(expected(stacks), reader, now=NOW)
    stub.assert_no_pending_responses()
    table = rows_table(rows)
    assert go(rows), table
    checks = by_check(rows)
    assert "1,000 vs" in checks["Lambda concurrent executions quota (L-B99A9384)"].detail
    assert checks["API Gateway account throttle"].detail.startswith("10,000 rps (burst 5000)")  # moto's account
    assert checks[f"provisioned concurrency {KEY}"].detail.startswith(f"{pc[0]}-{pc[1]} at 2030-05-01T17:45:00Z")
    assert checks["WAF web ACL"].ok and "rate-limit" in checks["WAF web ACL"].detail
    assert table.endswith("GO: ready for the sale")


def test_missing_schedules_a_low_quota_and_a_firing_alarm_are_no_go(aws: boto3.session.Session,
                                                                   stacks: InMemoryBackend) -> None:
    deploy_schedules(aws, stacks, (2, 10))  # the app's scale-out kept the steady numbers: not the plan
    aws.client("cloudwatch").set_alarm_state(AlarmName="catalog-api-errors-qa", StateValue="ALARM",
                                             StateReason="test")
    aws.client("scheduler").delete_schedule(Name=physical_name(f"sale-{KEY}-acu-restore", SUFFIX, Service.LAMBDA))
    reader, _ = account(aws, 50.0)
    rows = by_check(readiness(expected(stacks), reader, now=NOW))
    assert not rows["Lambda concurrent executions quota (L-B99A9384)"].ok
    assert "request an increase" in rows["Lambda concurrent executions quota (L-B99A9384)"].fix
    assert not rows[f"provisioned concurrency {KEY}"].ok and "planned at(2030-05-01T17:45:00)" in rows[
        f"provisioned concurrency {KEY}"].detail
    assert not rows[f"Aurora ACU schedules {KEY}"].ok and "acu-restore" in rows[f"Aurora ACU schedules {KEY}"].detail
    assert not rows["alarms not firing"].ok and "catalog-api-errors-qa" in rows["alarms not firing"].detail
    assert rows["Aurora readers 20300501t1800"].ok


def test_no_declared_window_is_no_go(aws: boto3.session.Session) -> None:
    backend = deployed_platform(SUFFIX)
    reader, _ = account(aws, 1000.0)
    rows = readiness(expected(backend), reader, now=NOW)
    assert [(r.check, r.ok) for r in rows] == [("sale window declared", False)]


def edge_web_acl(aws: boto3.session.Session) -> str:
    """A CloudFront-scope web ACL with one rate rule on moto; its ARN."""
    waf = aws.client("wafv2", region_name="us-east-1")
    acl = waf.create_web_acl(Name="catalog-edge-qa", Scope="CLOUDFRONT", DefaultAction={"Allow": {}},
                             VisibilityConfig={"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                               "MetricName": "acl"},
                             Rules=[{"Name": "rate-limit", "Priority": 1, "Action": {"Block": {}},
                                     "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}},
                                     "VisibilityConfig": {"SampledRequestsEnabled": True,
                                                          "CloudWatchMetricsEnabled": True, "MetricName": "rate"}}])
    return str(acl["Summary"]["ARN"])


def test_a_web_acl_export_is_checked_on_wafv2(aws: boto3.session.Session, stacks: InMemoryBackend) -> None:
    reader, _ = account(aws, 1000.0)
    assert reader.web_acl_rules(edge_web_acl(aws)) == ["rate-limit"]


def run(*argv: str) -> int:
    return run_invoke("sale", *argv)


def test_check_plan_runs_offline_on_the_stacks_config(monkeypatch: pytest.MonkeyPatch, stacks: InMemoryBackend,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sale_cli, "_backend", lambda *a, **k: stacks)
    monkeypatch.setattr(sale_cli, "_now", lambda: NOW)  # the clock: the stored window is in 2030
    assert run("check", "--suffix", SUFFIX, "--plan") == 0
    out = capsys.readouterr().out
    assert "offline: the plan of stacks qa's config" in out
    assert f"provisioned concurrency {KEY}" in out and out.rstrip().endswith("GO: ready for the sale")
    # the quota the stack was told is too low for the planned maximum: NO-GO, exit 2
    stacks.set_config(get_layer("observability"), SUFFIX, "catalog-observability:accountConcurrencyLimit", "120")
    assert run("check", "--suffix", SUFFIX, "--plan") == 2
    assert "NO-GO: 1 to fix" in capsys.readouterr().out
