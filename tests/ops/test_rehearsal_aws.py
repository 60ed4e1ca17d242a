"""`invoke rehearse` on AWS, end to end: the rehearsal stack previewed with the guardrails and deployed (in-memory
Pulumi state), the Locust tasks started on ECS, a FIS fault started at its time and followed, Locust's CSVs read
back from the master's log, CloudWatch figures judged, and the stack destroyed — also when the run fails or is
interrupted half-way. AWS is a moto server on loopback (ECS, CloudWatch Logs, FIS, CloudWatch, EC2); the
containers' part is played by `FakeLocust` (moto runs no container)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from shared.deploy.interface import StackOutput
from shared.ops import rehearsal_stack
from shared.ops.capacity import Workload
from shared.ops.rehearsal import Rehearsal, ScheduledFault
from shared.ops.rehearsal_aws import AwsDeps, aws_report, run_aws, teardown
from shared.runtime.errors import CatalogError
from tests.conftest import deployed_platform
from tests.ops.rehearsal_aws_fakes import SUFFIX, Account, Clock, FakeLocust, moto_url, prepare, put_metrics
from tests.support.memory import InMemoryBackend

__all__ = ["moto_url"]  # the fixture, used by name

PACK = "/packs/catalog-guardrails"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/catalog-rehearsal:2.47.0"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:catalog-rehearsal-key-qa"
CONFIG = rehearsal_stack.config_for(6000, IMAGE, SECRET, duration_seconds=60, spawn_rate=100)


def platform(account: Account) -> InMemoryBackend:
    stacks = deployed_platform(SUFFIX)
    stacks.exports["rehearsal"] = account.exports
    data = stacks.stacks[("data", SUFFIX)].outputs
    data.update({"maxAcu": StackOutput(16.0), "proxyMaxConnections": StackOutput(100)})
    return stacks


def rehearsal(*faults: ScheduledFault) -> Rehearsal:
    return Rehearsal(suffix=SUFFIX, users=6000, duration_s=60, spawn_rate=100, local=False, faults=faults,
                     workload=Workload(users=6000))


def deps(stacks: InMemoryBackend, account: Account, clock: Clock, lines: list[str], answer: bool = True) -> AwsDeps:
    asked: list[str] = []

    def confirm(question: str) -> bool:
        asked.append(question)
        lines.append(f"asked: {question}")
        return answer

    return AwsDeps(stacks=stacks, policy_packs=lambda: [PACK], client=account.client, lambda_quota=1000,
                   confirm=confirm, say=lines.append, sleep=clock.sleep, clock=clock.time)


def metrics_for(stacks: InMemoryBackend, account: Account, at: float) -> None:
    app, data = stacks.stacks[("app", SUFFIX)].outputs, stacks.stacks[("data", SUFFIX)].outputs
    put_metrics(account, at, app["functionName"].value, data["managedInstanceIds"].value, data["proxyName"].value,
                app["metricsService"].value)


def task_states(account: Account) -> list[str]:
    ecs = account.client("ecs")
    cluster = account.exports["clusterArn"].value
    arns = ecs.list_tasks(cluster=cluster, desiredStatus="STOPPED")["taskArns"] + \
        ecs.list_tasks(cluster=cluster)["taskArns"]
    return sorted(t["lastStatus"] for t in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]) if arns else []


def experiments(account: Account) -> list[dict[str, Any]]:
    fis = account.client("fis")
    return [fis.get_experiment(id=e["id"])["experiment"] for e in fis.list_experiments()["experiments"]]


def test_a_full_run_previews_deploys_runs_a_fault_collects_and_destroys(moto_url: str, tmp_path: Path) -> None:
    account = prepare(moto_url, fault_steps=1)
    stacks, clock, lines = platform(account), Clock(), []
    clock.locust = FakeLocust(account, duration_s=60, users=6000)
    metrics_for(stacks, account, clock.now)
    run = run_aws(rehearsal(ScheduledFault("aurora-failover", 20)), CONFIG, deps(stacks, account, clock, lines),
                  tmp_path / "run")
    assert run is not None
    # Preview (with the guardrails), the question, up, destroy: in that order, on catalog-rehearsal/qa only.
    assert [(op, layer) for op, layer in stacks.ops() if layer == "rehearsal"] == [
        ("ensure", "rehearsal"), *[("set_config", "rehearsal")] * len(CONFIG), ("preview", "rehearsal"),
        ("up", "rehearsal"), ("destroy", "rehearsal")]
    assert stacks.policy_packs == [("preview", "rehearsal", (PACK,)), ("up", "rehearsal", (PACK,))]
    assert stacks.stacks[("rehearsal", SUFFIX)].config["catalog-rehearsal:image"].value == IMAGE
    assert stacks.resource_count(rehearsal_stack.TARGET, SUFFIX) == 0
    assert lines.index("preview catalog-rehearsal/qa: +5") < next(
        i for i, line in enumerate(lines) if line.startswith("asked: deploy catalog-rehearsal/qa and run 6,000"))
    # The fleet: a master and the stack's three workers, every one stopped by the end.
    assert task_states(account) == ["STOPPED"] * 4
    # Progress every ~10 s from the master's log: workers, users, throughput, p99.
    progress = [line for line in lines if line.startswith("rehearse: ") and " users " in line]
    assert len(progress) >= 5 and "workers 3/3" in progress[-1] and "p99 120 ms" in progress[-1], progress
    # The fault: started at its time (polled every 5 s), followed by FIS to its end, recorded in run seconds.
    (fault,) = run.faults
    assert (fault.name, fault.state) == ("aurora-failover", "completed")
    assert 20 <= fault.started_s < 25 and fault.ended_s is not None and fault.ended_s > fault.started_s
    assert [e["experimentTemplateId"] for e in experiments(account)] == [account.template_id]
    # Locust's numbers, read back by the same parsers as a local run.
    o = run.outcome
    assert (o.stats["reserve"].count, o.stats["reserve"].p99_ms, o.sold, o.shed, o.workers) == (1200, 420, 400, 75, 3)
    assert o.worker_cpu_s == (21.5, 21.5, 21.5)
    # CloudWatch, judged: throttles 0, concurrency under the quota, ACU under the max, proxy pool not exceeded.
    figures = {f.what.split(" ")[0] + " " + f.what.split(" ")[-1]: f for f in run.figures}
    assert {k: (f.value, f.met) for k, f in figures.items()} == {
        "Lambda executions": (180.0, True), "Lambda throttles": (0.0, True), "Aurora instance(s)": (9.5, True),
        "RDS writer": (100.0, False), "API RequestsShed": (15.0, None), "API ReservationsShed": (None, None),
        "API WaitingRoomQueued": (None, None), "API WaitingRoomAdmitted": (None, None),
        "API WaitingRoomWaitSeconds": (None, None), "API WaitingRoomPassRefused": (None, None)}
    stats = {f.what: f.stat for f in run.figures if "WaitingRoom" in f.what}
    assert stats == {"API WaitingRoomQueued": "Maximum", "API WaitingRoomAdmitted": "Sum",
                     "API WaitingRoomWaitSeconds": "p90", "API WaitingRoomPassRefused": "Sum"}
    text = aws_report(run)
    for expected in ("reserve       1,200", "MISSED RDS Proxy data-proxyName-qa connections to the writer: maximum 100 "
                     "(must be < 100)", "met    Lambda app-functionName-qa throttles: sum 0 (must be = 0)",
                     "API ReservationsShed: no data points", "API RequestsShed: sum 15",
                     "met    Aurora catalog-db-qa capacity (ACU), busiest of 2 instance(s): maximum 9.5 (must be < 16)",
                     "aurora-failover          20       30  completed: Experiment completed",
                     "rehearsal on AWS: MISSED"):
        assert expected in text, text
    # The fault's cost, read from the history as a local run's faults are: the same table in both reports.
    (window,) = run.windows
    assert (window.name, window.started_s, window.ended_s) == ("aurora-failover", fault.started_s, fault.ended_s)
    assert "error window s" in text and "recovery: " in text, text
    # The run's folder: the CSVs as Locust writes them, the log, the figures, the chart.
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert files == {"locust_stats.csv", "locust_stats_history.csv", "master.log", "aws.json", "rehearsal.png"}
    assert (tmp_path / "run" / "locust_stats_history.csv").read_text().startswith("Timestamp,User Count,")
    assert run.chart is not None and run.chart.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("how", ["the master dies", "Ctrl-C", "the destroy fails too"])
def test_a_run_that_fails_half_way_stops_everything_and_destroys(moto_url: str, tmp_path: Path, how: str) -> None:
    account = prepare(moto_url, fault_steps=10**6)  # the fault is still running when the run breaks
    stacks, clock, lines = platform(account), Clock(), []
    clock.locust = FakeLocust(account, duration_s=60, users=6000, die_at_s=None if how == "Ctrl-C" else 30)
    if how == "Ctrl-C":
        clock.interrupt_at = 40
    if how == "the destroy fails too":
        stacks.fail_on[("destroy", "rehearsal")] = "the ECS cluster still has tasks"
    expected = KeyboardInterrupt if how == "Ctrl-C" else CatalogError
    with pytest.raises(expected) as raised:
        run_aws(rehearsal(ScheduledFault("aurora-failover", 10)), CONFIG, deps(stacks, account, clock, lines),
                tmp_path / "run")
    if expected is CatalogError:
        assert "the Locust master stopped without writing its totals" in str(raised.value)
    assert ("destroy", "rehearsal") in stacks.ops()
    assert task_states(account) == ["STOPPED"] * 4
    assert [e["state"]["status"] for e in experiments(account)] in (["stopping"], ["stopped"])
    assert any(line.startswith("rehearse: stopped the running fault experiment(s)") for line in lines)
    if how == "the destroy fails too":
        assert lines[-1] == ("rehearse: the destroy of catalog-rehearsal/qa did not finish (the ECS cluster still "
                             "has tasks); finish it with: invoke rehearse --suffix qa --teardown")
        assert stacks.resource_count(rehearsal_stack.TARGET, SUFFIX) == 5
        # ... and that command finishes it.
        later: list[str] = []
        assert teardown(stacks, account.client, SUFFIX, later.append)
        assert stacks.resource_count(rehearsal_stack.TARGET, SUFFIX) == 0
    else:
        assert stacks.resource_count(rehearsal_stack.TARGET, SUFFIX) == 0


def test_declining_after_the_preview_deploys_nothing(moto_url: str, tmp_path: Path) -> None:
    account = prepare(moto_url, fault_steps=1)
    stacks, lines = platform(account), []
    assert run_aws(rehearsal(), CONFIG, deps(stacks, account, Clock(), lines, answer=False), tmp_path) is None
    assert [op for op, layer in stacks.ops() if layer == "rehearsal"][-1] == "preview"
    assert lines[-1] == "rehearse: nothing deployed" and task_states(account) == []


@pytest.mark.parametrize(("change", "says"), [
    ("no template", re.escape("--faults lambda-errors: the observability stack qa has no FIS experiment template for "
                              "it (it has: aurora-failover) (set catalog-observability:faultExperiments and deploy "
                              "it: invoke up --layer observability --suffix qa --config "
                              "observability:faultExperiments=aurora-failover,lambda-errors)")),
    ("no image", "catalog-rehearsal:image.*is required"),
    ("no proxy output", "the data stack has no output proxyName"),
])
def test_bad_input_is_refused_before_anything_is_created(moto_url: str, tmp_path: Path, change: str,
                                                         says: str) -> None:
    account = prepare(moto_url, fault_steps=1)
    stacks, lines = platform(account), []
    config, faults = dict(CONFIG), (ScheduledFault("aurora-failover", 10),)
    if change == "no template":
        faults = (*faults, ScheduledFault("lambda-errors", 20))
    if change == "no image":
        config.pop("image")
    if change == "no proxy output":
        del stacks.stacks[("data", SUFFIX)].outputs["proxyName"]
    before = list(stacks.calls)
    with pytest.raises(CatalogError, match=says):
        run_aws(rehearsal(*faults), config, deps(stacks, account, Clock(), lines), tmp_path)
    assert stacks.calls == before and ("rehearsal", SUFFIX) not in stacks.stacks
    assert task_states(account) == [] and experiments(account) == []


def test_the_templates_come_from_the_observability_output_when_it_exports_them(moto_url: str) -> None:
    from shared.ops.rehearsal_experiments import TEMPLATE_IDS_OUTPUT, template_ids

    account = prepare(moto_url, fault_steps=1)
    fis = account.client("fis")
    wanted = (ScheduledFault("lambda-errors", 5),)
    assert template_ids(fis, SUFFIX, {TEMPLATE_IDS_OUTPUT: {"lambda-errors": "EXT123"}}, wanted) == {
        "lambda-errors": "EXT123"}
    assert template_ids(fis, SUFFIX, {}, (ScheduledFault("aurora-failover", 5),)) == {
        "aurora-failover": account.template_id}
    with pytest.raises(CatalogError, match="no FIS experiment template"):
        template_ids(fis, "other", {}, (ScheduledFault("aurora-failover", 5),))
