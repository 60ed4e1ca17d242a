"""Sale windows as the layers store them: the `saleWindows` setting, a JSON list of declared flash sales.

`invoke sale plan` (shared/ops/sale.py) writes one list per owning layer (app, data, observability), each window
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


# --- each owning layer's numbers (its settings.validate() and the sale tasks check them the same way) ----------
APP_NUMBERS = ("pcMin", "pcMax")
SKU = r"SKU-\d{6}"
MAX_SHARDS = 64  # the API accepts 1-64 stock shards per SKU (PUT /api/products/{sku}/inventory)


def parse_app_windows(raw: str, namespace: str) -> tuple[SaleWindow, ...]:
    """`catalog-app:saleWindows`, with the app's numbers checked (settings.validate() calls this)."""
    windows = parse_windows(raw, namespace, APP_NUMBERS)
    for w in windows:
        lo, hi = w.numbers["pcMin"], w.numbers["pcMax"]
        require(isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi, namespace, "saleWindows",
                f"window {w.key}: provisioned concurrency {lo!r}-{hi!r}", "whole numbers 1 <= pcMin <= pcMax")
        skus = w.numbers.get("skus", {})
        require(isinstance(skus, dict) and all(re.fullmatch(SKU, str(k)) and isinstance(v, int)
                                               and 1 <= v <= MAX_SHARDS for k, v in skus.items()),
                namespace, "saleWindows", f"window {w.key}: skus {skus!r}",
                f'{{"SKU-000123": shards}} with 1-{MAX_SHARDS} shards')
    return windows


DATA_NUMBERS = ("readersMin", "readersMax", "minAcu", "maxAcu")
MAX_READERS = 15  # Aurora holds at most 15 replicas
WARM_TABLES = ("sessions", "cache")


def parse_data_windows(raw: str, namespace: str) -> tuple[SaleWindow, ...]:
    """`catalog-data:saleWindows`, with the data layer's numbers checked (settings.validate() calls this)."""
    windows = parse_windows(raw, namespace, DATA_NUMBERS)
    for w in windows:
        n = w.numbers
        lo, hi = n["readersMin"], n["readersMax"]
        require(isinstance(lo, int) and isinstance(hi, int) and 2 <= lo <= hi <= MAX_READERS, namespace,
                "saleWindows", f"window {w.key}: readers {lo!r}-{hi!r}",
                f"whole numbers 2 <= min <= max <= {MAX_READERS}")
        a, b = n["minAcu"], n["maxAcu"]
        require(all(isinstance(v, (int, float)) and (v * 2).is_integer() for v in (a, b)) and 0.5 <= a <= b <= 256,
                namespace, "saleWindows", f"window {w.key}: ACU {a!r}-{b!r}",
                "multiples of 0.5, 0.5 <= min <= max <= 256")
        warm = n.get("warmThroughput", {})
        require(isinstance(warm, dict) and set(warm) <= set(WARM_TABLES) and all(
            isinstance(v, dict) and set(v) <= {"reads", "writes"} and all(isinstance(x, int) and x > 0
                                                                           for x in v.values())
            for v in warm.values()), namespace, "saleWindows", f"window {w.key}: warmThroughput {warm!r}",
            '{"cache": {"reads": n, "writes": n}}')
    return windows


OBSERVABILITY_NUMBERS = ("pcMin",)


def parse_observability_windows(raw: str, namespace: str) -> tuple[SaleWindow, ...]:
    windows = parse_windows(raw, namespace, OBSERVABILITY_NUMBERS)
    for w in windows:
        pc = w.numbers["pcMin"]
        require(isinstance(pc, int) and pc >= 1, namespace, "saleWindows", f"window {w.key}: pcMin {pc!r}",
                "a whole number >= 1")
    return windows
