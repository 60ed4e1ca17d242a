"""Sale windows as the layers store them: the `saleWindows` setting, a JSON list of declared flash sales.

`invoke sale plan` (shared/tooling/sale.py) writes one list per owning layer (app, data, observability), each window
holding its times and the numbers that layer schedules. The programs parse it here, so the rules are the same at
the task boundary and at every `up`: ISO 8601 UTC times, end after start, a window longer than its lead time, no two
windows (lead time included) overlapping. "Not in the past" is checked by the task only: a window that has ended
must not block the next deploy; the programs drop ended windows instead (their schedules have fired).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from shared.runtime.settings import require

# Seconds precision, explicit UTC ("Z" or +00:00): Application Auto Scaling's at() and EventBridge Scheduler's
# at() take yyyy-mm-ddThh:mm:ss, and a local time without an offset would be ambiguous.
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|\+00:00)$")
MIN_LEAD_MINUTES = 5
MAX_LEAD_MINUTES = 240
MAX_WINDOW = timedelta(days=7)  # a flash sale, not a new steady state: change the settings for that
SALE_WINDOWS_KEY = "saleWindows"


def parse_utc(text: str) -> datetime:
    """An ISO 8601 UTC time (`2030-05-01T18:00:00Z`) as an aware datetime; ValueError otherwise."""
    if not isinstance(text, str) or not ISO_UTC.match(text.strip()):
        raise ValueError(f"{text!r} is not an ISO 8601 UTC time like 2030-05-01T18:00:00Z")
    return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).astimezone(UTC)


def iso(moment: datetime) -> str:
    """`2030-05-01T18:00:00Z` (whole seconds)."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def at_expression(moment: datetime) -> str:
    """The one-time schedule both AWS schedulers accept: `at(yyyy-mm-ddThh:mm:ss)`, read in the timezone given
    beside it (we always pass UTC)."""
    return f"at({moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


@dataclass(frozen=True)
class SaleWindow:
    start: datetime
    end: datetime
    lead_minutes: int
    numbers: Mapping[str, Any] = field(default_factory=dict)  # what the owning layer schedules (pcMin, minAcu...)

    @property
    def scale_out_at(self) -> datetime:
        """When the scale-out fires: the lead time before the doors open."""
        return self.start - timedelta(minutes=self.lead_minutes)

    @property
    def key(self) -> str:
        """A stable, name-safe id of the window (its start, UTC): `20300501t1800`."""
        return self.start.strftime("%Y%m%dt%H%M")

    def ended(self, now: datetime) -> bool:
        return self.end <= now

    def to_json(self) -> dict[str, Any]:
        return {"start": iso(self.start), "end": iso(self.end), "leadMinutes": self.lead_minutes, **self.numbers}


def windows_json(windows: list[SaleWindow] | tuple[SaleWindow, ...]) -> str:
    """The config value: compact JSON, windows sorted by start."""
    return json.dumps([w.to_json() for w in sorted(windows, key=lambda w: w.start)], separators=(",", ":"))


def parse_windows(raw: str, namespace: str, required: tuple[str, ...] = ()) -> tuple[SaleWindow, ...]:
    """Parse and check a `saleWindows` value; raise ConfigError naming `<namespace>:saleWindows` and the window."""
    key = SALE_WINDOWS_KEY
    try:
        items = json.loads(raw or "[]")
    except json.JSONDecodeError as exc:
        require(False, namespace, key, f"is not JSON: {exc}", "a JSON list written by `invoke sale plan`")
        raise AssertionError from exc  # unreachable: require raised
    require(isinstance(items, list), namespace, key, "is not a JSON list", "a list of windows: `invoke sale plan`")
    windows: list[SaleWindow] = []
    for i, item in enumerate(items):
        where = f"window {i + 1}"
        require(isinstance(item, dict), namespace, key, f"{where} is not an object", '{"start": ..., "end": ...}')
        try:
            start, end = parse_utc(item.get("start")), parse_utc(item.get("end"))
        except ValueError as exc:
            require(False, namespace, key, f"{where}: {exc}", "ISO 8601 UTC times, e.g. 2030-05-01T18:00:00Z")
            raise AssertionError from exc
        lead = item.get("leadMinutes")
        require(isinstance(lead, int) and not isinstance(lead, bool) and MIN_LEAD_MINUTES <= lead <= MAX_LEAD_MINUTES,
                namespace, key, f"{where}: leadMinutes {lead!r}", f"{MIN_LEAD_MINUTES}-{MAX_LEAD_MINUTES} minutes")
        require(end > start, namespace, key, f"{where}: end {iso(end)} is not after start {iso(start)}",
                "an end after the start")
        require(end - start > timedelta(minutes=lead), namespace, key,
                f"{where}: lasts {(end - start).total_seconds() / 60:g} min, not longer than its {lead} min lead time",
                f"a window longer than {lead} minutes")
        require(end - start <= MAX_WINDOW, namespace, key, f"{where}: lasts more than {MAX_WINDOW.days} days",
                "a sale window of at most 7 days (raise the steady-state settings for longer)")
        missing = [name for name in required if name not in item]
        require(not missing, namespace, key, f"{where} lacks {', '.join(missing)}",
                "windows written by `invoke sale plan` for this layer")
        numbers = {k: v for k, v in item.items() if k not in ("start", "end", "leadMinutes")}
        windows.append(SaleWindow(start, end, lead, numbers))
    windows.sort(key=lambda w: w.start)
    for before, after in pairwise(windows):
        require(after.scale_out_at >= before.end, namespace, key,
                f"window {iso(after.start)} (scale-out at {iso(after.scale_out_at)}) overlaps window "
                f"{iso(before.start)}-{iso(before.end)}", "windows that do not overlap, lead time included")
    return tuple(windows)


def active(windows: tuple[SaleWindow, ...], now: datetime | None = None) -> tuple[SaleWindow, ...]:
    """The windows that have not ended: only those get scheduled resources (an ended one's schedules have fired,
    so the next `up` deletes them)."""
    moment = now or datetime.now(UTC)
    return tuple(w for w in windows if not w.ended(moment))
