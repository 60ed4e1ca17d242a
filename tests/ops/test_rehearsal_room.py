"""The rehearsal's honesty and the waiting room: a database-down 503 is an error (only `overloaded` is a shed), the
room's figures read from the shoppers' counters, the progress line read from Locust's CSVs, and a real local run
whose sale SKU is behind the API's waiting room (the shoppers find it by its 428, join, poll, reserve with a pass)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.ops.capacity import Workload
from shared.ops.rehearsal import Outcome, Rehearsal, RequestStats, report, room_figures, statuses_by_type, validate
from shared.ops.rehearsal_local import progress_line
from shared.runtime.layers import REPO_ROOT

NO_ERRORS = "no errors (503 overloaded sheds apart; a 503 service_unavailable is an error)"


def outcome(counts: dict[str, int], **kw: object) -> Outcome:
    stats = {n: RequestStats(n, 100, 0, 5, 20, 50, 10) for n in ("browse", "view", "reserve")}
    base: dict[str, object] = {"stats": stats, "statuses": statuses_by_type(counts), "stock": 500,
                               "available_after": 500 - counts.get("reserve 201", 0), "users": 10, "workers": 1,
                               "duration_s": 30, "room": room_figures(counts)}
    return Outcome(**{**base, **kw})  # type: ignore[arg-type]


def test_a_database_down_503_is_an_error_and_misses_the_verdict() -> None:
    # A writer crash: the API answered 503 service_unavailable (counted under the request's name), not a shed.
    o = outcome({"reserve 201": 40, "reserve 503": 213, "view 200": 300, "view-shed 503": 7})
    assert (o.shed, o.errors) == (7, {503: 213})
    assert not o.verdicts[NO_ERRORS] and not o.met
    text = report(o)
    assert "errors by status: 503 unavailable (not shed): 213" in text
    assert "shed (503 overloaded, Retry-After): 7;" in text and "rehearsal: MISSED" in text


def test_sheds_alone_meet_the_verdict() -> None:
    o = outcome({"reserve 201": 40, "reserve-shed 503": 30, "browse-shed 503": 2, "view 200": 300})
    assert (o.shed, o.errors) == (32, {})
    assert o.verdicts[NO_ERRORS] and o.met


def test_the_rooms_figures_come_from_the_shoppers_counters() -> None:
    waits = {"room:wait-ds:10": 3, "room:wait-ds:20": 3, "room:wait-ds:50": 3, "room:wait-ds:120": 1}
    counts = {"reserve-queued 428": 12, "queue-join 201": 12, "queue-join 200": 1, "queue-poll 200": 40,
              "queue-poll-shed 503": 2, "queue-poll 410": 3, "reserve 201": 9, "reserve 403": 1,
              "room:admitted": 10, "room:pass-refused": 1, **waits}
    o = outcome(counts)
    assert o.room is not None
    assert (o.room.joins, o.room.polls, o.room.admitted, o.room.pass_refused) == (13, 45, 10, 1)
    assert (o.room.wait_p50_s, o.room.wait_p90_s) == (2.0, 5.0)  # nearest rank over 10 waits
    # The 428 that sent shoppers to the room and the room's 410 sold out are answers; a refused pass is not.
    assert o.errors == {403: 1} and not o.verdicts[NO_ERRORS]
    text = report(o)
    assert ("waiting room: 13 joins, 45 polls, 10 admitted (wait from join p50 2.0 s, p90 5.0 s), "
            "1 passes refused") in text


def test_without_the_room_there_are_no_room_figures() -> None:
    o = outcome({"reserve 201": 4, "view 200": 10})
    assert o.room is None and "waiting room" not in report(o)


HISTORY = """Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,\
100%,Total Request Count,Total Failure Count
1700000000,0,,Aggregated,0.000000,0.000000,0,0,0,0,0,0,0,0,0,0,0,0,0
1700000012,150,,Aggregated,42.500000,0.500000,6,6,6,6,6,9,9,12,12,12,12,400,3
"""
STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,\
Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
,Aggregated,400,3,7,10,2,300,750,2.7,0.03,7,8,9,10,14,40,100,180,300,300,300
"""


def test_the_progress_line_reads_lockusts_csvs(tmp_path: Path) -> None:
    prefix = tmp_path / "locust"
    assert progress_line(prefix) is None  # nothing written yet: nothing said
    Path(f"{prefix}_stats_history.csv").write_text(HISTORY)
    Path(f"{prefix}_stats.csv").write_text(STATS)
    assert progress_line(prefix) == "rehearse:    12 s  users 150  42 req/s  p99 so far 180 ms  failures 3"


def _drop_database(name: str) -> None:
    psql = shutil.which("psql")
    if psql is not None:
        subprocess.run([psql, "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres", "-c",
                        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True, check=False)


@pytest.mark.skipif(not (REPO_ROOT / "containers" / "catalog-api" / "node_modules").exists(),
                    reason="the API's dependencies: cd containers/catalog-api && npm ci")
def test_a_short_rehearsal_through_the_waiting_room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.ops.rehearsal_local import run_local

    # A slow room (5 admissions a second) so shoppers really wait; a shell's room settings are not the run's.
    monkeypatch.setenv("WAITING_ROOM_ADMIT_PER_SECOND", "5")
    monkeypatch.setenv("WAITING_ROOM_SKUS", "SKU-000002")
    suffix = f"test-rr-{os.getpid()}"
    r = Rehearsal(suffix=suffix, users=200, duration_s=30, spawn_rate=50, local=True, workers=1, stock=60,
                  waiting_room=True, workload=Workload(users=200, think_time_s=2.0, stock=60))
    validate(r)
    lines: list[str] = []
    try:
        done = run_local(r, tmp_path / "run", say=lines.append)
    finally:
        _drop_database(f"catalog_{suffix.replace('-', '_')}_rehearsal")
    o, room = done.outcome, done.outcome.room
    assert room is not None, o.statuses
    # Shoppers found the room by its 428 (never an error), joined, polled, and were admitted with waits.
    assert 0 < o.statuses["reserve-queued"][428] <= room.joins  # each 428 joined at once (a shed join: again)
    assert room.polls > 0 and room.admitted > 0 and room.pass_refused == 0
    assert room.wait_p50_s is not None and room.wait_p90_s is not None and room.wait_p90_s >= room.wait_p50_s
    # Every sale went through a pass, one per admission; the stock adds up; nothing else went wrong.
    assert 0 < o.sold <= room.admitted and o.sold + (o.available_after or 0) == o.stock
    assert o.errors == {}, o.errors
    text = report(o)
    assert f"waiting room: {room.joins:,} joins, {room.polls:,} polls, {room.admitted:,} admitted" in text
    assert any(line.endswith("and behind the waiting room") for line in lines), lines
    # A progress line at least every 10 s of the 30 s run.
    assert len([line for line in lines if "p99 so far" in line]) >= 2, lines
