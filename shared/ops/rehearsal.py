"""The sale rehearsal: what to run (checked), how many Locust workers, and the report. Pure and typed.

A rehearsal drives the capacity model's shopper (`Workload`: think time, browse/view/reserve mix, one token per
shopper) through Locust in distributed mode (one master, N workers) and judges what came back against the mission's
200 ms: p50/p95/p99 per request type, errors by status, units sold against stock, load shed (503 `overloaded`: the
API's own refusals; a 503 `service_unavailable`, the database or a dependency down, is an error), and the waiting
room's figures when the sale SKU is behind it. Running the
processes lives in `rehearsal_local.py`; the AWS stack in `projects/rehearsal`; arguments in `rehearsal_tasks.py`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from shared.ops.capacity import Workload
from shared.ops.rehearsal_faults import ScheduledFault, check_fault_names, check_schedule
from shared.ops.rehearsal_faults import parse_faults as parse_fault_list
from shared.runtime.errors import CatalogError
from shared.runtime.faults import FAULTS as FAULT_CATALOGUE
from shared.runtime.naming import validate_suffix
from shared.runtime.rehearsal_sizing import USERS_PER_WORKER_LOCAL, fargate_vcpu, workers_for

LATENCY_BUDGET_MS = 200.0
REQUEST_TYPES = ("browse", "view", "reserve")
ROOM_REQUESTS = ("queue-join", "queue-poll")  # the waiting room's client calls (bench/rehearsal_locustfile.py)
RETRIED = "-retried"  # "reserve-retried 0": a reservation sent again, same idempotency key, after no answer
SHED = "-shed"  # "view-shed 503": a 503 whose error is `overloaded` (a bound refused); any other 503 is a failure
QUEUED = "-queued"  # "reserve-queued 428": the reservation that found the SKU behind the room (the client joins)
ROOM = "room:"  # the shopper's room counters: room:admitted, room:pass-refused, room:wait-ds:<tenths of a second>

MAX_LOCAL_USERS = 5_000  # past this a 2-core machine measures itself, not the API
MAX_LOCAL_WORKERS = 8
MAX_DURATION_S = 4 * 3600

FAULTS = {name: (f.action_id, f.what) for name, f in FAULT_CATALOGUE.items()}


@dataclass(frozen=True)
class Rehearsal:
    """What `invoke rehearse` was asked to run."""

    suffix: str
    users: int
    duration_s: int
    spawn_rate: float
    local: bool
    faults: tuple[ScheduledFault, ...] = ()  # local ones with --local, AWS FIS ones without (rehearsal_faults.py)
    workers: int = 0  # 0: sized from the users
    stock: int = 500
    workload: Workload = field(default_factory=Workload)
    waiting_room: bool = False  # --local: the API puts the sale SKU behind its waiting room

    @property
    def worker_count(self) -> int:
        return self.workers or workers_for(self.users, USERS_PER_WORKER_LOCAL if self.local else None)


def parse_faults(text: str, local: bool, duration_s: int) -> tuple[ScheduledFault, ...]:
    """`--faults`: local names with --local, AWS FIS names without (the other list's names are refused); in start
    order. An AWS fault without `@time` starts half-way through the run."""
    faults = parse_fault_list(text, local)
    if not local:
        faults = tuple(f if f.at_s is not None else replace(f, at_s=float(duration_s // 2)) for f in faults)
    return tuple(sorted(faults, key=lambda f: f.at_s or 0.0))


def parse_duration(text: str) -> int:
    """'60', '60s', '10m', '1h' -> seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    stripped = text.strip()
    try:
        seconds = int(stripped[:-1]) * units[stripped[-1]] if stripped and stripped[-1] in units else int(stripped)
    except ValueError:
        raise CatalogError(f"--duration {text.strip()!r} is not a duration", "e.g. 60s, 10m, 1h") from None
    if not 5 <= seconds <= MAX_DURATION_S:
        raise CatalogError(f"--duration {text.strip()!r} is out of range",
                           f"between 5 s and {MAX_DURATION_S // 3600} h")
    return seconds


def validate(r: Rehearsal, *, fargate_vcpu_quota: float | None = None, stop_condition_alarms: Sequence[str] = (),
             fis_actions: Sequence[str] | None = None) -> None:
    """Refuse what cannot run, before anything starts: one CatalogError (one line and its fix)."""
    validate_suffix(r.suffix)
    if r.local and not 1 <= r.users <= MAX_LOCAL_USERS:
        # Before the capacity model's own range (to 10,000,000), which is not this machine's.
        raise CatalogError(f"--users {r.users}: 1 to {MAX_LOCAL_USERS:,} with --local (more measures the machine)",
                           "lower --users, or run it on AWS (without --local)")
    r.workload.validate()
    if r.users < 1:
        raise CatalogError(f"--users {r.users}: at least 1", "e.g. --users 2000")
    if r.spawn_rate <= 0:
        raise CatalogError(f"--spawn-rate {r.spawn_rate}: must be > 0", "users started per second, e.g. 100")
    if r.stock < 1:
        raise CatalogError(f"--stock {r.stock}: at least 1", "units of the sale SKU, e.g. 500")
    if r.waiting_room and not r.local:
        raise CatalogError("--waiting-room: only with --local",
                           "on AWS the API's WAITING_ROOM_SKUS decides; the shoppers join the room when it answers 428")
    if r.local:
        if not 1 <= r.worker_count <= MAX_LOCAL_WORKERS:
            raise CatalogError(f"--workers {r.worker_count}: 1-{MAX_LOCAL_WORKERS} local worker processes",
                               "lower --workers")
        check_fault_names([f.name for f in r.faults], local=True)
        if any(f.at_s is None for f in r.faults):
            raise CatalogError("--faults: a local fault needs a time", "e.g. writer-crash@20s")
        check_schedule(r.faults, r.duration_s)
        return
    for fault in r.faults:
        if fault.at_s is not None and fault.at_s >= r.duration_s:
            raise CatalogError(f"--faults {fault}: starts at or after the run's end ({r.duration_s} s)",
                               "pick a time within --duration, e.g. @2m in a 10m run")
    if fargate_vcpu_quota is not None and fargate_vcpu(r.users) > fargate_vcpu_quota:
        raise CatalogError(f"--users {r.users} needs {fargate_vcpu(r.users):g} Fargate vCPU, the account's quota is "
                           f"{fargate_vcpu_quota:g}", "raise 'Fargate On-Demand vCPU resource count' or lower --users")
    check_fault_names([f.name for f in r.faults], local=False)
    if fis_actions is not None:
        for fault in r.faults:
            if FAULTS[fault.name][0] not in fis_actions:
                raise CatalogError(f"--faults {fault.name}: {FAULTS[fault.name][0]} is not offered in this region",
                                   "drop that fault or rehearse in a region that has it")
    if r.faults and not stop_condition_alarms:
        raise CatalogError("--faults: the observability layer has no stop-condition alarm",
                           "deploy observability with faultExperiments set (its composite alarm stops every "
                           "experiment)")


# ---- Locust's CSV output ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestStats:
    name: str
    count: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rps: float


def _number(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "", "N/A") else 0.0
    except ValueError:
        return 0.0


def parse_stats(text: str) -> dict[str, RequestStats]:
    """`<prefix>_stats.csv` -> per request name (and 'Aggregated')."""
    rows: dict[str, RequestStats] = {}
    for row in csv.DictReader(io.StringIO(text)):
        name = row.get("Name") or ""
        rows[name] = RequestStats(name=name, count=int(_number(row.get("Request Count"))),
                                  failures=int(_number(row.get("Failure Count"))), p50_ms=_number(row.get("50%")),
                                  p95_ms=_number(row.get("95%")), p99_ms=_number(row.get("99%")),
                                  rps=_number(row.get("Requests/s")))
    return rows


@dataclass(frozen=True)
class HistoryPoint:
    t_s: float
    users: int
    rps: float
    failures_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests_total: int = 0  # Locust's running totals: exact per-second counts (rehearsal_faults.py)
    failures_total: int = 0


def parse_history(text: str) -> list[HistoryPoint]:
    """`<prefix>_stats_history.csv` -> the aggregated row per second, time from the first."""
    points: list[HistoryPoint] = []
    start: float | None = None
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("Name") != "Aggregated":
            continue
        ts = _number(row.get("Timestamp"))
        start = ts if start is None else start
        points.append(HistoryPoint(t_s=ts - start, users=int(_number(row.get("User Count"))),
                                   rps=_number(row.get("Requests/s")), failures_per_s=_number(row.get("Failures/s")),
                                   p50_ms=_number(row.get("50%")), p95_ms=_number(row.get("95%")),
                                   p99_ms=_number(row.get("99%")),
                                   requests_total=int(_number(row.get("Total Request Count"))),
                                   failures_total=int(_number(row.get("Total Failure Count")))))
    return points


def worker_cpu_seconds(log: str) -> float | None:
    """The CPU seconds a worker printed when it quit (`rehearsal-worker-cpu-seconds N`), or None."""
    for line in reversed(log.splitlines()):
        head, _, value = line.strip().partition(" ")
        if head == "rehearsal-worker-cpu-seconds":
            try:
                return float(value)
            except ValueError:
                return None
    return None


def statuses_by_type(counts: Mapping[str, int]) -> dict[str, dict[int, int]]:
    """{"reserve 201": 12, ...} (the shopper's counters) -> {"reserve": {201: 12}}."""
    out: dict[str, dict[int, int]] = {}
    for key, n in counts.items():
        name, _, status = key.rpartition(" ")
        if name and status.isdigit():
            out.setdefault(name, {})[int(status)] = out.get(name, {}).get(int(status), 0) + int(n)
    return out


@dataclass(frozen=True)
class RoomFigures:
    """The waiting room as the shoppers met it: waits are from the join to the answer that carried the pass."""

    joins: int
    polls: int
    admitted: int
    pass_refused: int
    wait_p50_s: float | None
    wait_p90_s: float | None


def _percentile(counts: Mapping[float, int], q: float) -> float | None:
    """The q-quantile (nearest rank) of values given with their counts."""
    total = sum(counts.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(q * total)), 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return max(counts)


def room_figures(counts: Mapping[str, int]) -> RoomFigures | None:
    """The shopper's raw counters -> the room's figures; None when no shopper met the room."""
    waits: dict[float, int] = {}
    requests = {name: 0 for name in ROOM_REQUESTS}
    for key, n in counts.items():
        tenths = key.removeprefix(f"{ROOM}wait-ds:")
        if tenths != key and tenths.isdigit():
            waits[int(tenths) / 10] = waits.get(int(tenths) / 10, 0) + int(n)
        name = key.rpartition(" ")[0]
        if name.removesuffix(SHED) in requests:
            requests[name.removesuffix(SHED)] += int(n)
    if not any(requests.values()):
        return None
    return RoomFigures(joins=requests["queue-join"], polls=requests["queue-poll"],
                       admitted=int(counts.get(f"{ROOM}admitted", 0)),
                       pass_refused=int(counts.get(f"{ROOM}pass-refused", 0)),
                       wait_p50_s=_percentile(waits, 0.5), wait_p90_s=_percentile(waits, 0.9))


# ---- the report -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """Everything the report judges."""

    stats: Mapping[str, RequestStats]
    statuses: Mapping[str, Mapping[int, int]]
    stock: int
    available_after: int | None  # the sale SKU's stock after the run (None: not read)
    users: int
    workers: int
    duration_s: int
    worker_cpu_s: tuple[float, ...] = ()  # CPU seconds each Locust worker used (its own count)
    room: RoomFigures | None = None  # the waiting room's figures, when the shoppers met it

    @property
    def busiest_worker_share(self) -> float | None:
        """The busiest worker's CPU over the run, as a share of one core (sizing: users per worker)."""
        return max(self.worker_cpu_s) / self.duration_s if self.worker_cpu_s and self.duration_s else None

    @property
    def sold(self) -> int:
        return sum(n for status, n in self.statuses.get("reserve", {}).items() if status == 201)

    @property
    def retried(self) -> int:
        """Reservations sent again (same idempotency key) after no answer."""
        return sum(n for name, by in self.statuses.items() if name.endswith(RETRIED) for n in by.values())

    @property
    def shed(self) -> int:
        """503 `overloaded`: one of the API's bounds refused (nothing written, Retry-After); not a failure."""
        return sum(by.get(503, 0) for name, by in self.statuses.items() if name.endswith(SHED))

    @property
    def errors(self) -> dict[int, int]:
        """Answers that are neither success, a shed, nor an expected answer of the sale (409 sold out; the room's
        410 sold out; the 428 that sends a shopper to the room): by status (0: no answer). A 503 here is not a shed:
        the database or a dependency was not reachable."""
        out: dict[int, int] = {}
        for name, by in self.statuses.items():
            if name.endswith((RETRIED, SHED, QUEUED)):
                continue  # a retry's answer is counted under its request type; sheds and the room's 428 apart
            for status, n in by.items():
                expected = (name == "reserve" and status == 409) or (name in ROOM_REQUESTS and status == 410)
                if status < 200 or (status >= 400 and not expected):
                    out[status] = out.get(status, 0) + n
        return dict(sorted(out.items()))

    @property
    def verdicts(self) -> dict[str, bool]:
        v = {f"{name} p99 < {LATENCY_BUDGET_MS:.0f} ms": self.stats[name].p99_ms < LATENCY_BUDGET_MS
             for name in REQUEST_TYPES if name in self.stats and self.stats[name].count}
        v["no unit sold twice (sold <= stock)"] = self.sold <= self.stock
        if self.available_after is not None:
            v["stock adds up (sold + left = stock)"] = self.sold + self.available_after == self.stock
        v["no errors (503 overloaded sheds apart; a 503 service_unavailable is an error)"] = not self.errors
        return v

    @property
    def met(self) -> bool:
        return all(self.verdicts.values())


def report(o: Outcome) -> str:
    lines = [f"rehearsal: {o.users:,} users, {o.workers} Locust worker(s), {o.duration_s} s",
             "", f"{'request':<10}{'count':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>9}  "
                 f"vs {LATENCY_BUDGET_MS:.0f} ms"]
    for name in (*REQUEST_TYPES, *(n for n in ROOM_REQUESTS if o.room is not None)):
        s = o.stats.get(name)
        if s is None or not s.count:
            lines.append(f"{name:<10}{0:>9}  (not sent)")
            continue
        lines.append(f"{name:<10}{s.count:>9,}{s.p50_ms:>9.0f}{s.p95_ms:>9.0f}{s.p99_ms:>9.0f}{s.rps:>9.1f}  "
                     f"{'met' if s.p99_ms < LATENCY_BUDGET_MS else 'MISSED'}")
    errors = o.errors
    label = {0: "no answer", 503: "503 unavailable (not shed)"}
    lines += ["", "errors by status: " + (", ".join(f"{label.get(s, s)}: {n:,}" for s, n in errors.items())
                                          if errors else "none")]
    left = "not read" if o.available_after is None else f"{o.available_after:,}"
    lines.append(f"units sold: {o.sold:,} of {o.stock:,} in stock (left after the run: {left}); "
                 f"sold out answers: {o.statuses.get('reserve', {}).get(409, 0):,}")
    lines.append(f"shed (503 overloaded, Retry-After): {o.shed:,}; reservations retried after no answer (same key): "
                 f"{o.retried:,}")
    if o.room is not None:
        rm = o.room

        def secs(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f} s"

        lines.append(f"waiting room: {rm.joins:,} joins, {rm.polls:,} polls, {rm.admitted:,} admitted (wait from join "
                     f"p50 {secs(rm.wait_p50_s)}, p90 {secs(rm.wait_p90_s)}), {rm.pass_refused:,} passes refused")
    share = o.busiest_worker_share
    if share is not None:
        lines.append(f"Locust workers: {o.users / o.workers:,.0f} users each; the busiest used {share:.0%} of a core")
    lines.append("")
    for what, ok in o.verdicts.items():
        lines.append(f"  {'met   ' if ok else 'MISSED'} {what}")
    lines.append(f"rehearsal: {'met' if o.met else 'MISSED'}")
    return "\n".join(lines)
