"""Faults during a sale rehearsal: which ones, when, and what they cost, read from Locust's history. Pure and typed.

Two separate lists: the local faults (`LOCAL_FAULTS`, played by `rehearsal_local.py` on the run's private
PostgreSQL and moto server) and the AWS ones (`shared/runtime/faults.py`, FIS experiment templates). `--faults`
takes `name[@when][+hold]`, e.g. `writer-crash@20s,writer-stall@40s+5s,cache-loss@50s`; a local name on AWS or an
AWS name locally is refused.

Every fault, local or AWS, becomes an `Injection` (seconds since the run started: the first row of Locust's
history) and `fault_windows` reads its cost from the history alone, so a local run and an AWS run print the same
table:

- errors: failed requests from the fault's start until the next fault starts (or the run ends);
- error window: from the fault's start to the end of the last second with a failure in that span;
- recovery: from the fault's end (the database answering again, the process thawed, the FIS action finished) to
  the first second with answers and no failure after the last failed one; none if the run ended first.

The goal (`RECOVERY_GOAL_S`): the API answers without errors again within 30 s of the fault's end. Thirty seconds
is the time AWS gives for an Aurora failover to complete in the usual case, the slowest fault on the list; a shop
whose shoppers retry (the rehearsal's shopper sends a reservation again with the same key) rides out that much.
Locust writes its history once a second, so windows are read to the second.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from shared.runtime.errors import CatalogError
from shared.runtime.faults import FAULTS as AWS_FAULTS

if TYPE_CHECKING:
    from shared.ops.rehearsal import HistoryPoint

RECOVERY_GOAL_S = 30.0


@dataclass(frozen=True)
class LocalFault:
    name: str
    what: str
    hold_s: float  # how long the fault lasts unless `+hold` says otherwise


LOCAL_FAULTS: dict[str, LocalFault] = {f.name: f for f in (
    # Down for 5 s before the restart: a writer that is simply gone for a while, as during a failover.
    LocalFault("writer-crash", "kill -9 every process of the run's private PostgreSQL, start it again after the hold",
               5.0),
    LocalFault("writer-stall", "SIGSTOP every process of the run's private PostgreSQL (connections open, no answer)",
               5.0),
    LocalFault("cache-loss", "SIGSTOP the run's moto server: the DynamoDB cache tier stops answering, as when the "
               "network to DynamoDB is cut", 10.0),
)}


@dataclass(frozen=True)
class ScheduledFault:
    """One `--faults` entry: the fault, when it starts (s after the run's start; None: the AWS run decides) and how
    long it holds (None: the fault's default)."""

    name: str
    at_s: float | None = None
    hold_s: float | None = None

    def hold(self) -> float:
        return self.hold_s if self.hold_s is not None else LOCAL_FAULTS[self.name].hold_s

    def __str__(self) -> str:
        return self.name if self.at_s is None else f"{self.name}@{self.at_s:g}s"


@dataclass(frozen=True)
class Injection:
    name: str
    started_s: float  # seconds since the run's start
    ended_s: float


@dataclass(frozen=True)
class FaultWindow:
    name: str
    started_s: float
    ended_s: float
    error_window_s: float
    recovery_s: float | None
    errors: int

    @property
    def met(self) -> bool:
        return self.recovery_s is not None and self.recovery_s <= RECOVERY_GOAL_S


def _seconds(text: str, what: str) -> float:
    units = {"s": 1, "m": 60}
    try:
        value = float(text[:-1]) * units[text[-1]] if text and text[-1] in units else float(text)
    except (ValueError, KeyError):
        raise CatalogError(f"--faults: {what} {text!r} is not a time", "e.g. writer-crash@20s or cache-loss@50s+10s") \
            from None
    if value < 0:
        raise CatalogError(f"--faults: {what} {text!r} is negative", "e.g. writer-crash@20s")
    return value


def check_fault_names(names: Sequence[str], local: bool) -> None:
    """A local fault only with --local, an AWS fault only without it (one rule for parse_faults and validate)."""
    mine, theirs = (LOCAL_FAULTS, AWS_FAULTS) if local else (AWS_FAULTS, LOCAL_FAULTS)
    where, other = ("locally", "on AWS (drop --local)") if local else ("on AWS", "with --local")
    for name in names:
        if name in theirs:
            raise CatalogError(f"--faults {name} cannot run {where}", f"it runs {other}; {where}: {', '.join(mine)}")
        if name not in mine:
            raise CatalogError(f"--faults: unknown fault {name!r}", f"choose from {', '.join(mine)}")


def parse_faults(text: str, local: bool) -> tuple[ScheduledFault, ...]:
    """'writer-crash@20s,cache-loss@50s+10s' -> ScheduledFaults; a local run needs a time for each."""
    out: list[ScheduledFault] = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        head, _, hold = item.partition("+")
        name, at_sign, at = head.partition("@")
        name = name.strip()
        check_fault_names([name], local)
        if at_sign and not at.strip():
            raise CatalogError(f"--faults {item}: nothing after @", f"e.g. {name}@20s (20 s into the run)")
        if local and not at:
            raise CatalogError(f"--faults {name}: a local fault needs a time", f"e.g. {name}@20s (20 s into the run)")
        if hold and not local:
            raise CatalogError(f"--faults {item}: +hold is for local faults", "the FIS template sets the duration")
        out.append(ScheduledFault(name, _seconds(at.strip(), "time") if at else None,
                                  _seconds(hold.strip(), "hold") if hold else None))
    return tuple(out)


def check_schedule(faults: Sequence[ScheduledFault], duration_s: int) -> None:
    """Local faults start and end inside the run, one after the other."""
    ordered = sorted(faults, key=lambda f: f.at_s or 0.0)
    for i, f in enumerate(ordered):
        start = f.at_s or 0.0
        if f.name in LOCAL_FAULTS and start + f.hold() >= duration_s:
            raise CatalogError(f"--faults {f.name}@{start:g}s ends at or after the run's end ({duration_s} s)",
                               "start it earlier or raise --duration")
        if i and f.name in LOCAL_FAULTS:
            before = ordered[i - 1]
            if (before.at_s or 0.0) + before.hold() > start:
                raise CatalogError(f"--faults {f.name}@{start:g}s starts while {before.name} still holds",
                                   "space the faults out")


# ---- what each fault cost, from the history ----------------------------------------------------------------------


def history_origin(text: str) -> float | None:
    """The wall-clock second (epoch) of the history's first aggregated row: the run's start in `parse_history`'s
    terms, to turn a fault's wall-clock start and end (a local schedule's, a FIS experiment's) into an Injection."""
    for row in csv.DictReader(io.StringIO(text)):
        if row.get("Name") == "Aggregated":
            with contextlib.suppress(TypeError, ValueError):
                return float(row["Timestamp"])
    return None


def _per_second(history: Sequence[HistoryPoint]) -> list[tuple[float, float, float]]:
    """(t, requests, failures) in the second ending at t. From Locust's running totals when the history has them
    (exact), else from its per-second rates (a moving average over the last seconds: wider windows)."""
    totals = any(p.requests_total for p in history)
    out: list[tuple[float, float, float]] = []
    for before, p in pairwise(history):
        if totals:
            out.append((p.t_s, max(0, p.requests_total - before.requests_total),
                        max(0, p.failures_total - before.failures_total)))
        else:
            dt = p.t_s - before.t_s
            out.append((p.t_s, p.rps * dt, p.failures_per_s * dt))
    return out


def fault_windows(history: Sequence[HistoryPoint], injections: Sequence[Injection]) -> list[FaultWindow]:
    """Each injection's errors, error window and recovery (module docstring), in the order they started."""
    seconds = _per_second(history)
    ordered = sorted(injections, key=lambda i: i.started_s)
    windows: list[FaultWindow] = []
    for k, inj in enumerate(ordered):
        limit = ordered[k + 1].started_s if k + 1 < len(ordered) else float("inf")
        span = [(t, req, fail) for t, req, fail in seconds if inj.started_s < t <= limit]
        failing = [t for t, _, fail in span if fail > 0]
        last_failure = max(failing, default=None)
        recovered = next((t for t, req, fail in span
                          if req > 0 and fail == 0 and t >= inj.ended_s
                          and (last_failure is None or t > last_failure)), None)
        windows.append(FaultWindow(
            name=inj.name, started_s=inj.started_s, ended_s=inj.ended_s,
            error_window_s=round(max(0.0, last_failure - inj.started_s), 1) if last_failure is not None else 0.0,
            recovery_s=None if recovered is None else round(max(0.0, recovered - inj.ended_s), 1),
            errors=round(sum(fail for _, _, fail in span))))
    return windows


def fault_table(windows: Sequence[FaultWindow]) -> str:
    """The report's fault rows: the same columns for a local run and an AWS run."""
    lines = [f"{'fault':<16}{'start s':>9}{'end s':>8}{'errors':>9}{'error window s':>16}{'recovery s':>12}  "
             f"vs {RECOVERY_GOAL_S:.0f} s"]
    for w in windows:
        recovery = "-" if w.recovery_s is None else f"{w.recovery_s:.0f}"
        lines.append(f"{w.name:<16}{w.started_s:>9.1f}{w.ended_s:>8.1f}{w.errors:>9,}{w.error_window_s:>16.0f}"
                     f"{recovery:>12}  {'met' if w.met else 'MISSED'}")
    lines.append(f"recovery: {'met' if all(w.met for w in windows) else 'MISSED'} (answers without errors within "
                 f"{RECOVERY_GOAL_S:.0f} s of each fault's end)")
    return "\n".join(lines)
