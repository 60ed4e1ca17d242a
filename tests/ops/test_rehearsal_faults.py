"""Faults in a rehearsal: their cost read from Locust's history (crafted histories), and a short real local run on
loopback: a writer crash on the run's private PostgreSQL, then its moto server frozen."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from shared.ops.capacity import Workload
from shared.ops.rehearsal import HistoryPoint, Rehearsal, parse_faults, parse_history, validate
from shared.ops.rehearsal_faults import (
    RECOVERY_GOAL_S,
    FaultWindow,
    Injection,
    fault_table,
    fault_windows,
    history_origin,
)
from shared.runtime.layers import REPO_ROOT


def history(seconds: Sequence[tuple[int, int]], rates: bool = False) -> list[HistoryPoint]:
    """One point a second from t=0: (requests, failures) answered in the second ending there, as running totals
    (Locust's `Total ... Count` columns) or, with `rates`, only as per-second rates."""
    points = [HistoryPoint(0, 100, 0, 0, 5, 9, 12)]
    req = fail = 0
    for t, (r, f) in enumerate(seconds, start=1):
        req, fail = req + r, fail + f
        points.append(HistoryPoint(t, 100, r, f, 5, 9, 12, *((0, 0) if rates else (req, fail))))
    return points


def test_errors_window_and_recovery_come_from_the_seconds_around_the_fault() -> None:
    # Clean until 10 s, the fault at 10.5-13.0, failures in the seconds ending at 11..14, clean from 15.
    h = history([(50, 0)] * 10 + [(40, 5), (30, 20), (20, 20), (35, 3)] + [(50, 0)] * 6)
    [w] = fault_windows(h, [Injection("writer-crash", 10.5, 13.0)])
    assert w == FaultWindow("writer-crash", 10.5, 13.0, error_window_s=3.5, recovery_s=2.0, errors=48)
    assert w.met


def test_a_fault_never_recovered_from_is_missed() -> None:
    h = history([(50, 0)] * 5 + [(10, 10)] * 10)  # failing to the end of the run
    [w] = fault_windows(h, [Injection("writer-stall", 5.2, 10.2)])
    assert w.recovery_s is None and not w.met and w.errors == 100 and w.error_window_s == pytest.approx(9.8)


def test_silence_after_the_fault_is_not_recovery() -> None:
    h = history([(50, 0)] * 5 + [(0, 0)] * 10)  # no failures, but no answers either
    [w] = fault_windows(h, [Injection("cache-loss", 5.0, 8.0)])
    assert (w.errors, w.error_window_s, w.recovery_s, w.met) == (0, 0.0, None, False)


def test_each_fault_owns_the_seconds_until_the_next_one() -> None:
    h = history([(50, 0)] * 10 + [(40, 4)] * 2 + [(50, 0)] * 8 + [(40, 7)] * 3 + [(50, 0)] * 37)
    first, second = fault_windows(h, [Injection("cache-loss", 20.2, 22.0), Injection("writer-crash", 10.1, 11.0)])
    assert (first.name, first.errors, first.error_window_s, first.recovery_s) == ("writer-crash", 8, 1.9, 2.0)
    assert (second.name, second.errors, second.recovery_s) == ("cache-loss", 21, 2.0)
    # A slow recovery: clean only 40 s after the end misses the goal.
    h = history([(50, 0)] * 5 + [(10, 1)] * 45 + [(50, 0)] * 5)
    [slow] = fault_windows(h, [Injection("writer-crash", 5.0, 6.0)])
    assert slow.recovery_s == 45.0 > RECOVERY_GOAL_S and not slow.met


def test_a_fault_without_errors_recovers_as_soon_as_it_ends() -> None:
    h = history([(50, 0)] * 20)
    [w] = fault_windows(h, [Injection("writer-stall", 5.5, 8.5)])
    assert (w.errors, w.error_window_s, w.recovery_s, w.met) == (0, 0.0, 0.5, True)


def test_without_running_totals_the_rates_are_used() -> None:
    h = history([(50, 0)] * 10 + [(40, 5), (30, 20)] + [(50, 0)] * 5, rates=True)
    [w] = fault_windows(h, [Injection("writer-crash", 10.0, 11.0)])
    assert (w.errors, w.error_window_s, w.recovery_s) == (25, 2.0, 2.0)


def test_the_table_has_the_same_columns_for_every_fault() -> None:
    text = fault_table([FaultWindow("writer-crash", 12.0, 17.1, 6.0, 1.0, 340),
                        FaultWindow("aurora-failover", 60.0, 95.0, 40.0, None, 2_100)])
    lines = text.splitlines()
    assert lines[0].split() == ["fault", "start", "s", "end", "s", "errors", "error", "window", "s", "recovery", "s",
                                "vs", "30", "s"]
    assert lines[1].split() == ["writer-crash", "12.0", "17.1", "340", "6", "1", "met"]
    assert lines[2].split() == ["aurora-failover", "60.0", "95.0", "2,100", "40", "-", "MISSED"]
    assert lines[3].startswith("recovery: MISSED")


def test_the_history_origin_is_its_first_aggregated_row() -> None:
    text = ("Timestamp,User Count,Type,Name,Requests/s\n1700000001,0,GET,browse,1\n1700000002,0,,Aggregated,0\n"
            "1700000003,5,,Aggregated,2\n")
    assert history_origin(text) == 1700000002.0
    assert history_origin("Timestamp,Name\n") is None


def _postmaster_started() -> str | None:
    """When the shared PostgreSQL on 5432 started: a kill -9 of it would change this."""
    psql = shutil.which("psql")
    if psql is None:
        return None
    out = subprocess.run([psql, "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres", "-Atc",
                          "SELECT pg_postmaster_start_time()"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or None


@pytest.mark.skipif(not (REPO_ROOT / "containers" / "catalog-api" / "node_modules").exists(),
                    reason="the API's dependencies: cd containers/catalog-api && npm ci")
def test_a_writer_crash_and_a_cache_loss_on_loopback_show_their_windows(tmp_path: Path) -> None:
    from shared.ops.rehearsal_local import run_local

    shared_before = _postmaster_started()
    r = Rehearsal(suffix="test-rhf", users=200, duration_s=30, spawn_rate=50, local=True, workers=1, stock=100_000,
                  faults=parse_faults("writer-crash@10s+5s,cache-loss@19s+4s", True, 30),
                  workload=Workload(users=200, think_time_s=1.0, stock=100_000))
    validate(r)
    lines: list[str] = []
    done = run_local(r, tmp_path / "run", say=lines.append)
    crash, cache = done.faults
    # The fault's line while it runs and its row in the table: one clock (Locust's first history row).
    for w in (crash, cache):
        assert any(f"{w.name} at {w.started_s:.1f} s, over at {w.ended_s:.1f} s (run clock" in line
                   for line in lines), lines
    # Where the faults sit in the history: s after Locust started, the history's first row a second or two later.
    assert crash.name == "writer-crash" and 6 <= crash.started_s <= 11, crash
    assert 5 <= crash.ended_s - crash.started_s <= 8, crash  # down 5 s, then the restart
    # Reservations need the writer: they failed while it was gone, and only then.
    assert crash.errors > 0 and 3 <= crash.error_window_s <= crash.ended_s - crash.started_s + 4, crash
    assert crash.recovery_s is not None and crash.recovery_s <= 5 and crash.met, crash
    assert cache.name == "cache-loss" and 15 <= cache.started_s <= 20 and 4 <= cache.ended_s - cache.started_s <= 6
    assert cache.recovery_s is not None and cache.met, cache
    # The cache tier really stopped answering (the API logged its calls failing), the database stayed up.
    assert '"event":"cache.error"' in (tmp_path / "run" / "api.log").read_text()
    # The history the run left: clean before the first fault, so every failure it counts is a fault's.
    points = parse_history((tmp_path / "run" / "locust_stats_history.csv").read_text())
    before = [p for p in points if p.t_s <= crash.started_s]
    assert before and before[-1].failures_total == 0 and before[-1].requests_total > 0
    assert points[-1].failures_total == crash.errors + cache.errors <= done.outcome.stats["Aggregated"].failures
    # The crash's failures are errors in the verdict too, not load shed: the run says it missed.
    o = done.outcome
    assert o.errors.get(503, 0) + o.errors.get(500, 0) > 0, o.statuses
    assert not o.verdicts["no errors (503 overloaded sheds apart; a 503 service_unavailable is an error)"]
    assert not o.met
    if shared_before is not None:
        assert _postmaster_started() == shared_before  # the shared server was never signalled
