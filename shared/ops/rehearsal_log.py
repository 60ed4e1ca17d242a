"""The Fargate master's CloudWatch Logs stream, read back: progress while it runs, Locust's CSVs when it quits.

On Fargate the master writes what the local run reads from files as tagged lines of its output
(`bench/rehearsal_locustfile.py`, `REHEARSAL_STATUS_FILE=-`), which the awslogs driver ships to the rehearsal
stack's log group. So the tasks need no role and no bucket: the CSV texts are rebuilt from the lines and read by the
same `parse_stats`/`parse_history` as a local run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from shared.ops.rehearsal import HistoryPoint, parse_history, worker_cpu_seconds

HISTORY_HEADER, HISTORY, STATS, STATUSES, WORKERS = (
    "rehearsal-history-header", "rehearsal-history", "rehearsal-stats", "rehearsal-statuses", "rehearsal-workers")


def stream_name(container: str, task_arn: str) -> str:
    """The awslogs driver's stream: `<prefix>/<container>/<task id>` (projects/rehearsal sets prefix = container)."""
    return f"{container}/{container}/{task_arn.rsplit('/', 1)[-1]}"


@dataclass
class MasterLog:
    """What the master said so far (fed line by line, in the stream's order)."""

    history_header: str = ""
    history_rows: list[str] = field(default_factory=list)
    stats_rows: dict[int, str] = field(default_factory=dict)
    statuses: dict[str, int] | None = None
    workers: int = 0
    lines: list[str] = field(default_factory=list)  # everything, for the run's folder

    def feed(self, line: str) -> None:
        self.lines.append(line)
        tag, _, rest = line.rstrip("\n").partition(" ")
        if tag == HISTORY_HEADER:
            self.history_header = rest
        elif tag == HISTORY:
            self.history_rows.append(rest)
        elif tag == STATS:
            index, _, row = rest.partition(" ")
            if index.isdigit():
                self.stats_rows[int(index)] = row
        elif tag == STATUSES:
            self.statuses = {str(k): int(v) for k, v in json.loads(rest).items()}
        elif tag == WORKERS and rest.strip().isdigit():
            self.workers = int(rest)

    @property
    def finished(self) -> bool:
        """The master has quit and written its totals (its last line)."""
        return self.statuses is not None

    def history_csv(self) -> str:
        """`<prefix>_stats_history.csv` as Locust writes it (rows by time: the stream may interleave a second)."""
        if not self.history_header:
            return ""
        rows = sorted(self.history_rows, key=lambda row: int(row.split(",", 1)[0]))
        return "\n".join([self.history_header, *rows]) + "\n"

    def stats_csv(self) -> str:
        """`<prefix>_stats.csv` (the master's final table)."""
        return "\n".join(self.stats_rows[i] for i in sorted(self.stats_rows)) + "\n" if self.stats_rows else ""

    def history(self) -> list[HistoryPoint]:
        return parse_history(self.history_csv())

    def started_at(self) -> float | None:
        """When the load started (epoch s of the first history row): t = 0 of the history and of the faults."""
        first = min((int(row.split(",", 1)[0]) for row in self.history_rows), default=None)
        return float(first) if first is not None else None


class StreamReader:
    """One log stream read forward with GetLogEvents' forward token: each call returns only new lines."""

    def __init__(self, logs: Any, group: str, stream: str) -> None:
        self.logs, self.group, self.stream = logs, group, stream
        self._token: str | None = None

    def new_lines(self) -> list[str]:
        lines: list[str] = []
        while True:
            kwargs: dict[str, Any] = {"logGroupName": self.group, "logStreamName": self.stream, "startFromHead": True}
            if self._token:
                kwargs["nextToken"] = self._token
            try:
                page = self.logs.get_log_events(**kwargs)
            except self.logs.exceptions.ResourceNotFoundException:
                return lines  # the driver creates the stream with the container's first line
            lines += [event["message"] for event in page.get("events", [])]
            token = page.get("nextForwardToken")
            if not page.get("events") or token == self._token:
                self._token = token or self._token
                return lines
            self._token = token


def worker_cpu(logs: Any, group: str, worker_arns: list[str]) -> tuple[float, ...]:
    """The CPU seconds each worker printed when it quit (sizing: users per worker); workers that did not say are
    left out."""
    found: list[float] = []
    for arn in worker_arns:
        text = "\n".join(StreamReader(logs, group, stream_name("worker", arn)).new_lines())
        cpu = worker_cpu_seconds(text)
        if cpu is not None:
            found.append(cpu)
    return tuple(found)
