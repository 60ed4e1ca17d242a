"""The sale rehearsal: its checks, Locust's CSV read back, the report's verdicts, and a short distributed run on
loopback against the local API (real PostgreSQL, moto, Locust master + 2 workers)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from invoke import Program

from shared.ops.capacity import Workload
from shared.ops.rehearsal import (
    FAULTS,
    Outcome,
    Rehearsal,
    RequestStats,
    parse_duration,
    parse_faults,
    parse_history,
    parse_stats,
    report,
    statuses_by_type,
    validate,
    worker_cpu_seconds,
)
from shared.ops.rehearsal_faults import ScheduledFault
from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT
from shared.runtime.rehearsal_sizing import fargate_vcpu, workers_for
from tasks import ns

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,\
Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,browse,120,0,6,9.1,2,300,900,2.0,0.0,6,7,8,9,12,30,90,250,300,300,300
POST,reserve,40,2,12,15,5,180,300,0.7,0.03,12,13,14,15,20,60,120,150,180,180,180
,Aggregated,160,2,7,10,2,300,750,2.7,0.03,7,8,9,10,14,40,100,240,300,300,300
"""

HISTORY = """Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,\
100%,Total Request Count,Total Failure Count
1700000000,0,,Aggregated,0.000000,0.000000,0,0,0,0,0,0,0,0,0,0,0,0,0
1700000001,10,GET,browse,3.0,0.0,5,5,5,5,5,5,5,5,5,5,5,3,0
1700000001,10,,Aggregated,4.000000,0.500000,6,6,6,6,6,9,9,12,12,12,12,4,0
"""


NO_ERRORS = "no errors (503 overloaded sheds apart; a 503 service_unavailable is an error)"


def rehearsal(**kw: object) -> Rehearsal:
    base: dict[str, object] = {"suffix": "qa", "users": 2000, "duration_s": 60, "spawn_rate": 200, "local": True}
    return Rehearsal(**{**base, **kw})  # type: ignore[arg-type]


def stats(p99: float) -> dict[str, RequestStats]:
    return {n: RequestStats(n, 100, 0, 5, 20, p99, 10) for n in ("browse", "view", "reserve")}


def test_locust_csv_is_read_per_request_type() -> None:
    rows = parse_stats(STATS)
    assert rows["browse"] == RequestStats("browse", 120, 0, 6, 30, 250, 2.0)
    assert rows["reserve"].failures == 2 and rows["reserve"].p95_ms == 60
    points = parse_history(HISTORY)
    assert [(p.t_s, p.users, p.rps, p.p99_ms) for p in points] == [(0, 0, 0, 0), (1, 10, 4.0, 12)]
    assert [(p.requests_total, p.failures_total) for p in points] == [(0, 0), (4, 0)]


def test_statuses_errors_and_verdicts() -> None:
    statuses = statuses_by_type({"reserve 201": 500, "reserve 409": 90, "reserve-shed 503": 3, "view 200": 50,
                                 "view 0": 1, "reserve-retried 0": 2, "bogus": 4})
    o = Outcome(stats=stats(150), statuses=statuses, stock=500, available_after=0, users=100, workers=2,
                duration_s=10, worker_cpu_s=(2.0, 3.0))
    # 409 sold out is an answer, not an error; a shed and a retry are reported apart
    assert (o.sold, o.shed, o.retried, o.errors) == (500, 3, 2, {0: 1})
    assert o.busiest_worker_share == pytest.approx(0.3)
    v = o.verdicts
    assert v["reserve p99 < 200 ms"] and v["stock adds up (sold + left = stock)"]
    assert not v[NO_ERRORS] and not o.met  # "no answer" is an error
    text = report(o)
    assert "units sold: 500 of 500" in text and "rehearsal: MISSED" in text
    assert "shed (503 overloaded, Retry-After): 3; reservations retried after no answer (same key): 2" in text
    assert "the busiest used 30% of a core" in text


def test_an_oversold_or_slow_sale_is_missed() -> None:
    oversold = Outcome(stats=stats(50), statuses={"reserve": {201: 501}}, stock=500, available_after=0, users=1,
                       workers=1, duration_s=5)
    assert not oversold.verdicts["no unit sold twice (sold <= stock)"] and not oversold.met
    slow = Outcome(stats=stats(200), statuses={"reserve": {201: 10}}, stock=500, available_after=490, users=1,
                   workers=1, duration_s=5)
    assert slow.verdicts == {**dict.fromkeys((f"{n} p99 < 200 ms" for n in ("browse", "view", "reserve")), False),
                             "no unit sold twice (sold <= stock)": True, "stock adds up (sold + left = stock)": True,
                             NO_ERRORS: True}
    fine = Outcome(stats=stats(199), statuses={"reserve": {201: 10}, "reserve-shed": {503: 4}}, stock=500,
                   available_after=490, users=1, workers=1, duration_s=5)
    assert fine.met and "rehearsal: met" in report(fine)


def test_sizing() -> None:
    assert [workers_for(n, 1000) for n in (1, 1000, 1001, 2000)] == [1, 1, 2, 2]
    assert workers_for(50_000) == 25 and fargate_vcpu(50_000) == 26  # on Fargate: 2,000 per worker, plus a master
    assert rehearsal().worker_count == 2 and rehearsal(workers=3).worker_count == 3
    assert rehearsal(local=False).worker_count == 1


@pytest.mark.parametrize(("kw", "checks", "says"), [
    ({"suffix": "QA"}, {}, "uppercase"),
    ({"users": 0}, {}, "--users 0: 1 to 5,000 with --local"),
    ({"users": 6000}, {}, "--users 6000: 1 to 5,000 with --local"),
    ({"users": 0, "local": False}, {}, "--users 0: at least 1"),
    ({"local": False, "waiting_room": True}, {}, "--waiting-room: only with --local"),
    ({"workers": 9}, {}, "local worker processes"),
    ({"faults": (ScheduledFault("aurora-failover"),)}, {}, "aurora-failover cannot run locally"),
    ({"faults": (ScheduledFault("writer-crash"),)}, {}, "a local fault needs a time"),
    ({"faults": (ScheduledFault("writer-stall", 58),)}, {}, "ends at or after the run.s end"),
    ({"faults": (ScheduledFault("cache-loss", 20), ScheduledFault("writer-crash", 25))}, {},
     "writer-crash@25s starts while cache-loss still holds"),
    ({"local": False, "faults": (ScheduledFault("writer-crash", 20),)}, {}, "writer-crash cannot run on AWS"),
    ({"local": False, "users": 50_000}, {"fargate_vcpu_quota": 6}, "needs 26 Fargate vCPU"),
    ({"local": False, "faults": (ScheduledFault("lambda-errors", 30),)},
     {"fis_actions": ["aws:rds:failover-db-cluster"]}, "not offered in this region"),
    ({"local": False, "faults": (ScheduledFault("aurora-failover", 30),)}, {}, "no stop-condition alarm"),
    ({"local": False, "faults": (ScheduledFault("aurora-failover", 60),)}, {"stop_condition_alarms": ["a"]},
     r"aurora-failover@60s: starts at or after the run's end \(60 s\)"),
    ({"workload": Workload(think_time_s=0)}, {}, "think time"),
])
def test_bad_input_is_refused(kw: dict[str, object], checks: dict[str, object], says: str) -> None:
    with pytest.raises(CatalogError, match=says):
        validate(rehearsal(**kw), **checks)  # type: ignore[arg-type]


def test_good_input_passes() -> None:
    validate(rehearsal())
    validate(rehearsal(faults=parse_faults("writer-crash@20s,writer-stall@40s,cache-loss@45s+10s", True, 60)))
    validate(rehearsal(local=False, users=50_000, faults=tuple(ScheduledFault(f, 10) for f in FAULTS)),
             fargate_vcpu_quota=4000,
             stop_condition_alarms=["catalog-api-errors-qa"], fis_actions=[a for a, _ in FAULTS.values()])


def test_arguments() -> None:
    assert [parse_duration(t) for t in ("60", "60s", "10m", "1h")] == [60, 60, 600, 3600]
    for bad in ("", "x", "1s", "5h", "10d"):
        with pytest.raises(CatalogError, match="--duration"):
            parse_duration(bad)
    assert parse_faults("lambda-errors@5m, aurora-failover@90s,lambda-latency", False, 600) == (
        ScheduledFault("aurora-failover", 90), ScheduledFault("lambda-errors", 300),
        ScheduledFault("lambda-latency", 300))  # in start order; no @time: half-way
    assert parse_faults("writer-crash@20s, writer-stall@1m+2.5s", True, 600) == (
        ScheduledFault("writer-crash", 20.0), ScheduledFault("writer-stall", 60.0, 2.5))
    for text, local, says in (("aurora-failover,nope", False, "unknown fault 'nope'"),
                              ("aurora-failover,az-loss@1m", False, "unknown fault 'az-loss'"),
                              ("writer-crash@20s", False, "writer-crash cannot run on AWS"),
                              ("aurora-failover", True, "aurora-failover cannot run locally"),
                              ("writer-crash", True, "a local fault needs a time"),
                              ("writer-crash@soon", True, "time 'soon' is not a time"),
                              ("aurora-failover@", False, "nothing after @"),
                              ("aurora-failover@2x", False, "'2x' is not a time"),
                              ("aurora-failover@-1m", False, "'-1m' is negative"),
                              ("aurora-failover@1m@2m", False, "'1m@2m' is not a time"),
                              ("aurora-failover+5s", False, r"\+hold is for local faults")):
        with pytest.raises(CatalogError, match=says):
            parse_faults(text, local, 600)
    assert worker_cpu_seconds("noise\nrehearsal-worker-cpu-seconds 12.50\n") == 12.5
    assert worker_cpu_seconds("crashed") is None


def run(*argv: str) -> int:
    try:
        Program(namespace=ns, version="test").run(["invoke", "rehearse", *argv])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.parametrize(("argv", "says"), [
    (["--suffix", "qa", "--local", "--faults", "nope"], "error: --faults: unknown fault 'nope'"),
    (["--suffix", "qa", "--local", "--users", "9000"], "error: --users 9000: 1 to 5,000 with --local"),
    (["--suffix", "qa", "--local", "--users", "0"], "error: --users 0: 1 to 5,000 with --local"),
    (["--suffix", "qa", "--waiting-room"], "error: --waiting-room: only with --local"),
    (["--suffix", "qa", "--local", "--duration", "2s"], "error: --duration '2s' is out of range"),
    (["--suffix", "qa", "--local", "--faults", "aurora-failover"],
     "error: --faults aurora-failover cannot run locally"),
    (["--suffix", "qa", "--faults", "cache-loss@5s"], "error: --faults cache-loss cannot run on AWS"),
    (["--suffix", "qa", "--duration", "10m", "--faults", "aurora-failover@11m"],
     "error: --faults aurora-failover@660s: starts at or after the run's end (600 s)"),
    (["--suffix", "qa", "--faults", "aurora-failover@soon"], "error: --faults: time 'soon' is not a time"),
    # No terminal to ask after the preview (as under pytest, or in CI): refused before any session or stack.
    (["--suffix", "qa", "--users", "50000"], "error: no terminal to ask before the change (stdin is not a TTY): "
                                             "add --yes to deploy without a question (CI does)"),
])
def test_the_task_refuses_in_one_line(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(says) and "\n" not in err and "Traceback" not in err


def test_rehearse_help_is_help_not_a_suffix(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--help") == 0  # -h is --think-time's short flag
    out = capsys.readouterr()
    assert out.out.startswith("Usage: invoke rehearse") and "--waiting-room: --local:" in out.out, out.out
    assert "error" not in out.err


def _drop_database(name: str) -> None:
    psql = shutil.which("psql")
    if psql is not None:
        subprocess.run([psql, "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres", "-c",
                        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True, check=False)


@pytest.mark.skipif(not (REPO_ROOT / "containers" / "catalog-api" / "node_modules").exists(),
                    reason="the API's dependencies: cd containers/catalog-api && npm ci")
def test_a_short_distributed_rehearsal_on_loopback(tmp_path: Path) -> None:
    from shared.ops.rehearsal_local import run_local

    # Its own database and tables on the shared PostgreSQL: another checkout running this test at the same time
    # (same machine, same server) would otherwise drop and restock the same database under it.
    suffix = f"test-rh-{os.getpid()}"
    r = rehearsal(suffix=suffix, users=50, duration_s=10, spawn_rate=25, workers=2, stock=20,
                  workload=Workload(users=50, think_time_s=0.5, stock=20))
    validate(r)
    try:
        done = run_local(r, tmp_path / "run", say=lambda _line: None)
    finally:
        _drop_database(f"catalog_{suffix.replace('-', '_')}_rehearsal")
    o = done.outcome
    assert {"browse", "view", "reserve"} <= set(o.stats), o.stats
    assert sum(s.count for n, s in o.stats.items() if n != "Aggregated") == o.stats["Aggregated"].count > 100
    # The shoppers' own status counts (sent by both workers to the master) match Locust's request counts.
    assert sum(sum(by.values()) for by in o.statuses.values()) == o.stats["Aggregated"].count
    assert o.errors == {}, o.errors
    # 50 shoppers reserving every ~2.5 s for 10 s want more than 20 units: the sale sells out, exactly.
    assert o.sold == 20 and o.available_after == 0 and o.statuses["reserve"].get(409, 0) > 0
    assert len(o.worker_cpu_s) == 2 and all(c > 0 for c in o.worker_cpu_s)
    assert done.chart is not None and done.chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "run" / "statuses.json").read_text())
    assert not any(p.name.endswith(".pem") for p in (tmp_path / "run").iterdir())  # the key never lands there
