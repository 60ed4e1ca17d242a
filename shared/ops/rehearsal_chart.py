"""The rehearsal's chart: latency percentiles against the 200 ms budget and throughput over the run (matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shared.ops.rehearsal import LATENCY_BUDGET_MS, HistoryPoint


def render(points: Sequence[HistoryPoint], path: Path, title: str,
           faults: Sequence[tuple[str, float, float | None]] = ()) -> Path:
    """`faults`: (name, start s, end s or None) injected during the run, shaded on both panels."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    t = [p.t_s for p in points]
    fig, (lat, thr) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    for label, values in (("p50", [p.p50_ms for p in points]), ("p95", [p.p95_ms for p in points]),
                          ("p99", [p.p99_ms for p in points])):
        lat.plot(t, values, label=label)
    lat.axhline(LATENCY_BUDGET_MS, color="red", linestyle="--", label=f"{LATENCY_BUDGET_MS:.0f} ms")
    lat.set_ylabel("latency (ms, all requests)")
    lat.legend(loc="upper left")
    lat.set_title(title)
    thr.plot(t, [p.rps for p in points], label="requests/s")
    thr.plot(t, [p.failures_per_s for p in points], label="failures/s")
    users = thr.twinx()
    users.plot(t, [p.users for p in points], color="grey", linestyle=":", label="users")
    users.set_ylabel("users")
    end = t[-1] if t else 0.0
    for name, start, stop in faults:
        for ax in (lat, thr):
            ax.axvspan(start, stop if stop is not None else end, color="orange", alpha=0.2)
        lat.annotate(name, (start, LATENCY_BUDGET_MS), fontsize=8, rotation=90, va="bottom")
    thr.set_ylabel("per second")
    thr.set_xlabel("seconds into the run")
    thr.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
