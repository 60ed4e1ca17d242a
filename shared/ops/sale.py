"""Sale windows, declared: the capacity model's numbers for a flash sale turned into each owning layer's
`saleWindows` setting, shown as a table before anything is stored (`invoke sale plan`), and removed again before
the sale starts (`invoke sale cancel`). Pure logic over a `StackBackend`; printing: `shared/ops/sale_tasks.py`.

What each number comes from (shared/ops/capacity.py, `model()`):
- provisioned concurrency on alias live: min = the model's environments needed at the target utilization (all warm
  when the doors open), max = 1.5 x that for a surge above the model, both within the account's Lambda concurrency
  quota less the 100 that Lambda always keeps unreserved;
- readers: the model's readers needed (at least the steady 2); Aurora min ACU: the sale's writer ACU rounded up to
  0.5 (Serverless v2 scales fastest from a higher base), max ACU at least that;
- DynamoDB warm throughput: only when the model's rates exceed what a new on-demand table serves at once;
- the waiting room (`--waiting-room`, shared/ops/sale_room.py): the SKUs behind it, half the modelled one-SKU
  selling rate as its admission rate, 20 s of admissions as its cap, the sale's start and end as its own (it ends
  with the window); a plan without it clears a room whose sale is over;
- stock shards per sale SKU: the capacity model's count (reservation rate / 70 % of one row's measured rate), 1-64,
  each SKU sized as if it took every reservation (the model's one flash SKU): shards are cheap, a hot row is not.

Lead time: provisioned concurrency takes minutes to allocate, and a Serverless v2 writer raised to a higher minimum
is there within a minute; 15 minutes covers both with margin. A sale that adds readers (new Aurora instances take
10-20 minutes to create) gets 30.
"""

from __future__ import annotations

import json
import math
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.declarations import settings_class
from shared.deploy import ConfigEntry, StackBackend
from shared.ops import sale_room
from shared.ops.capacity import (
    MAX_USERS,
    AwsAssumptions,
    Capacity,
    SaleCommand,
    ServiceTimes,
    StackConfig,
    Workload,
    model,
    stack_config,
)
from shared.runtime.errors import CatalogError, ConfigError
from shared.runtime.layers import Layer, get_layer
from shared.runtime.naming import validate_suffix
from shared.runtime.sale_windows import (
    MAX_LEAD_MINUTES,
    MIN_LEAD_MINUTES,
    SALE_WINDOWS_KEY,
    SaleWindow,
    iso,
    parse_app_windows,
    parse_data_windows,
    parse_observability_windows,
    parse_utc,
    windows_json,
)
from shared.runtime.settings import check_overrides, describe, parse_value
from shared.runtime.waiting_room import ADMIT_KEY

SALE_LAYERS = ("app", "data", "observability")  # the layers that own a sale's resources
SKU = re.compile(r"^SKU-\d{6}$")
UNRESERVED = 100  # Lambda keeps 100 of the account's concurrency unreserved
LAMBDA_QUOTA = "Lambda concurrent executions (L-B99A9384)"
DEFAULT_LEAD_MINUTES = 15
READERS_LEAD_MINUTES = 30
MAX_READERS = 15
MAX_ACU = 256.0
MAX_SHARDS = 64
# A window longer than a week is a typo (a date a year off), not a flash sale.
MAX_WINDOW = timedelta(days=7)
PC_SURGE = 1.5
WARM_MARGIN = 1.2  # pre-warm 20% above the model's rate


@dataclass(frozen=True)
class SaleRequest:
    start: datetime
    end: datetime
    users: int
    skus: tuple[str, ...] = ()
    lead_minutes: int | None = None  # None: from the plan (15, or 30 when readers are added)
    waiting_room: tuple[str, ...] = ()  # SKUs (among `skus`) shoppers queue for


@dataclass(frozen=True)
class Change:
    layer: str
    what: str
    steady: str
    during: str
    when: str


@dataclass(frozen=True)
class SalePlan:
    request: SaleRequest
    lead_minutes: int
    windows: Mapping[str, SaleWindow]  # layer -> the window with that layer's numbers
    changes: tuple[Change, ...]
    capacity: Capacity
    notes: tuple[str, ...] = field(default_factory=tuple)
    room: Mapping[str, str] = field(default_factory=dict)  # catalog-app:waitingRoom* (empty: no room planned)

    @property
    def scale_out_at(self) -> datetime:
        return self.request.start - timedelta(minutes=self.lead_minutes)


def _half_up(value: float) -> float:
    return math.ceil(value * 2) / 2


def _refuse(problem: str, fix: str) -> CatalogError:
    return CatalogError(problem, fix)


def check_skus(skus: tuple[str, ...], api: str = "", fetch: Callable[[str], int] | None = None) -> None:
    """Refuse a SKU that is not `SKU-` and 6 digits; with an API URL, one the API does not know (HTTP 404)."""
    for sku in skus:
        if not SKU.match(sku):
            raise _refuse(f"SKU {sku!r} is not a catalog SKU", "SKU- and 6 digits, e.g. SKU-000123")
    if len(set(skus)) != len(skus):
        raise _refuse("a SKU is listed twice", "each --sku once")
    if not api:
        return
    get = fetch or http_status
    for sku in skus:
        url = f"{api.rstrip('/')}/api/products/{sku}"
        status = get(url)
        if status == 404:
            raise _refuse(f"unknown SKU {sku}: GET {url} answered 404", "check the SKU against the catalog")
        if status != 200:
            raise _refuse(f"cannot check SKU {sku}: GET {url} answered {status}", "check --api (or leave it out)")


def http_status(url: str) -> int:
    """The HTTP status of a GET (0 when unreachable)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0


def check_request(request: SaleRequest, now: datetime | None = None) -> None:
    """What can be judged from the arguments alone, before any stack or tool is reached: the window, the user
    count, the SKUs. Each problem is one CatalogError."""
    moment = now or datetime.now(UTC)
    start, end = request.start, request.end
    if end <= start:
        raise _refuse(f"the sale ends {iso(end)}, not after its start {iso(start)}", "an --end after --start")
    if start <= moment:
        raise _refuse(f"the sale starts {iso(start)}, in the past (now {iso(moment)})", "a --start in the future")
    if end - start > MAX_WINDOW:
        raise _refuse(f"the sale lasts {end - start}, longer than {MAX_WINDOW.days} days",
                      "a flash sale window of hours; declare longer events as several windows")
    if not 1 <= request.users <= MAX_USERS:
        raise _refuse(f"--users {request.users:,} is outside 1-{MAX_USERS:,}",
                      f"the concurrent shoppers of one sale, at most {MAX_USERS:,} (about {MAX_USERS // 50_000:,} "
                      "times the mission's 50,000)")
    lead = request.lead_minutes
    if lead is not None and not MIN_LEAD_MINUTES <= lead <= MAX_LEAD_MINUTES:
        raise _refuse(f"--lead-minutes {lead} is outside {MIN_LEAD_MINUTES}-{MAX_LEAD_MINUTES}",
                      "15 covers provisioned concurrency and ACU; 30 when readers are added")
    check_skus(request.skus)
    sale_room.check_room(request.waiting_room, request.skus)


def plan_sale(request: SaleRequest, stack: StackConfig, times: ServiceTimes, *, lambda_quota: int,
              now: datetime | None = None, suffix: str = "<suffix>") -> SalePlan:
    """The sale's numbers per layer, or a CatalogError naming the one problem (nothing is stored either way)."""
    check_request(request, now)
    moment = now or datetime.now(UTC)
    start, end = request.start, request.end
    aws = AwsAssumptions(account_concurrency=lambda_quota)
    c = model(Workload(users=request.users), stack, times, aws, SaleCommand(suffix, iso(start), iso(end)))

    usable = lambda_quota - UNRESERVED
    pc_min = max(stack.provisioned_min, c.lambda_concurrency_with_headroom)
    if pc_min > usable:
        raise _refuse(
            f"{request.users:,} users need {pc_min:,} provisioned concurrency on alias live; {LAMBDA_QUOTA} is "
            f"{lambda_quota:,}, which leaves {usable:,} ({UNRESERVED} stay unreserved): {pc_min - usable:,} short",
            f"request a quota increase to at least {pc_min + UNRESERVED:,} in us-east-1 (Service Quotas), then plan "
            "again with --lambda-quota")
    notes: list[str] = list(c.actions)
    pc_max = max(stack.provisioned_max, math.ceil(pc_min * PC_SURGE))
    if pc_max > usable:
        notes.append(f"provisioned concurrency max capped at {usable:,} by {LAMBDA_QUOTA} {lambda_quota:,}")
        pc_max = usable
    readers_min = max(stack.reader_min_count, c.readers_needed)
    if readers_min > MAX_READERS:
        raise _refuse(f"{request.users:,} users need {readers_min} Aurora readers; a cluster holds at most "
                      f"{MAX_READERS}", "cache more at the edge (microCacheTtlSeconds) or raise maxAcu")
    readers_max = max(stack.reader_max_count, readers_min)
    min_acu = max(stack.min_acu, _half_up(c.writer_acu))
    if min_acu > MAX_ACU:
        raise _refuse(f"the writer needs ~{c.writer_acu:.0f} ACU, above Serverless v2's {MAX_ACU:g}",
                      "split the sale (fewer users per window) or shard the stock")
    max_acu = max(stack.max_acu, min_acu)
    warm: dict[str, dict[str, int]] = {}
    if c.dynamodb_reads_rps > aws.dynamodb_new_table_reads or c.dynamodb_writes_rps > aws.dynamodb_new_table_writes:
        warm["cache"] = {
            "reads": max(aws.dynamodb_new_table_reads, math.ceil(c.dynamodb_reads_rps * WARM_MARGIN)),
            "writes": max(aws.dynamodb_new_table_writes, math.ceil(c.dynamodb_writes_rps * WARM_MARGIN))}
    shards = c.shards_needed  # the capacity model's count: each row's lock planned at 70 %, as `invoke capacity` says

    adds_readers = readers_min > stack.reader_min_count
    lead = request.lead_minutes or (READERS_LEAD_MINUTES if adds_readers else DEFAULT_LEAD_MINUTES)
    if not MIN_LEAD_MINUTES <= lead <= MAX_LEAD_MINUTES:
        raise _refuse(f"--lead-minutes {lead} is outside {MIN_LEAD_MINUTES}-{MAX_LEAD_MINUTES}",
                      "15 covers provisioned concurrency and ACU; 30 when readers are added")
    if end - start <= timedelta(minutes=lead):
        raise _refuse(f"the sale lasts {(end - start).total_seconds() / 60:g} min, not longer than its {lead} min "
                      "lead time", f"a window longer than {lead} minutes")
    if start - timedelta(minutes=lead) <= moment:
        raise _refuse(f"the scale-out for {iso(start)} would be at {iso(start - timedelta(minutes=lead))} "
                      f"({lead} min lead time), already past (now {iso(moment)})",
                      "a later --start (or a shorter --lead-minutes)")

    sku_shards = {sku: shards for sku in request.skus}
    base = {"start": start, "end": end, "lead_minutes": lead}
    windows = {
        "app": SaleWindow(**base, numbers={"pcMin": pc_min, "pcMax": pc_max, "skus": sku_shards}),
        "data": SaleWindow(**base, numbers={"readersMin": readers_min, "readersMax": readers_max, "minAcu": min_acu,
                                            "maxAcu": max_acu, **({"warmThroughput": warm} if warm else {})}),
        "observability": SaleWindow(**base, numbers={"pcMin": pc_min}),
    }
    out, back = iso(start - timedelta(minutes=lead)), iso(end)
    when = f"{out} -> {back}"
    changes = [
        Change("app", "provisioned concurrency min-max, alias live (scheduled actions)",
               f"{stack.provisioned_min}-{stack.provisioned_max}", f"{pc_min}-{pc_max}", when),
        Change("data", "Aurora readers min-max (scheduled actions)",
               f"{stack.reader_min_count}-{stack.reader_max_count}", f"{readers_min}-{readers_max}", when),
        Change("data", "Aurora Serverless v2 ACU min-max (EventBridge Scheduler, rds:ModifyDBCluster)",
               f"{stack.min_acu:g}-{stack.max_acu:g}", f"{min_acu:g}-{max_acu:g}", when),
        Change("data", "DynamoDB cache warm throughput reads/writes per s",
               f"{aws.dynamodb_new_table_reads}/{aws.dynamodb_new_table_writes} (new on-demand table)",
               f"{warm['cache']['reads']}/{warm['cache']['writes']}" if warm else "default is enough",
               "at the next `invoke up --layer data` (kept)" if warm else "-"),
        Change("observability", "dashboard row + alarm: provisioned concurrency below plan", "-", f"< {pc_min}",
               f"{iso(start)} -> {back}"),
    ]
    for sku, n in sku_shards.items():
        changes.append(Change("api", f"{sku} stock shards (PUT /api/products/{sku}/inventory)", "-", str(n),
                              f"before {out}"))
    room = sale_room.room_config(c, request.waiting_room, iso(start), back)
    if room:
        changes.append(Change("app", "waiting room (catalog-app:waitingRoom*): SKUs, admissions/s, passes held",
                              "no room", sale_room.describe(room),
                              f"joins from the next `invoke up --layer app` (pre-queue), admits {iso(start)} -> "
                              f"{back}, then the SKUs sell without a pass"))
        admit = int(room[ADMIT_KEY])
        notes.append(f"waiting room: {admit}/s = half the model's one-SKU selling rate "
                     f"({min(c.sku_selling_rps, c.proxy_writes_capacity / len(request.waiting_room)):.0f}/s with "
                     f"{shards} shard(s) of {c.hot_row_tps:.0f}/s measured)")
        notes.extend(sale_room.assess(c, len(request.waiting_room), admit))
    notes.append(f"model: {c.throughput_rps:,.0f} rps, {c.reserve_rps:,.0f} reservations/s, "
                 f"{c.lambda_concurrency} concurrent executions ({c.lambda_concurrency_with_headroom} at the target), "
                 f"writer ~{c.writer_acu:.1f} ACU, {c.readers_needed} readers")
    return SalePlan(request, lead, windows, tuple(changes), c, tuple(notes), room)


def changes_table(plan: SalePlan) -> str:
    header = ("layer", "change", "steady", "during the sale", "when (UTC)")
    rows = [header, *[(c.layer, c.what, c.steady, c.during, c.when) for c in plan.changes]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- the stacks ----------------------------------------------------------------------------------------------
class NoStacks:
    """The settings source when no stack can be read (no Pulumi CLI, no passphrase, nothing deployed): every layer
    reads as its settings defaults, as the offline plan does. Read-only: nothing can be stored through it."""

    url = "offline (the layers' default settings)"

    def resource_count(self, layer: Layer, suffix: str) -> int | None:
        return None

    def get_config(self, layer: Layer, suffix: str) -> dict[str, ConfigEntry]:
        return {}


def deployed_layers(backend: StackBackend, suffix: str) -> list[str]:
    return [layer for layer in SALE_LAYERS if backend.resource_count(get_layer(layer), suffix) is not None]


def _namespace(layer: str) -> str:
    return get_layer(layer).project


def plain_config(backend: StackBackend, layer: str, suffix: str) -> dict[str, str]:
    """The stack's non-secret `catalog-<layer>:*` values, keys without the namespace; {} when it has no stack."""
    spec = get_layer(layer)
    if backend.resource_count(spec, suffix) is None:
        return {}
    prefix = f"{spec.project}:"
    return {k[len(prefix):]: e.value for k, e in backend.get_config(spec, suffix).items()
            if k.startswith(prefix) and not e.secret}


def stack_settings(backend: StackBackend, suffix: str) -> StackConfig:
    """The capacity model's StackConfig from the stacks' config over the settings defaults."""
    def defaults_of(layer: str) -> dict[str, Any]:
        infos = describe(settings_class(layer))
        values: dict[str, Any] = {i.key: i.default for i in infos}
        given = plain_config(backend, layer, suffix)
        for info in infos:
            if info.key in given and not info.secret:
                values[info.key] = parse_value(info, given[info.key], _namespace(layer))
        return values

    return stack_config(defaults_of)


def lambda_quota_from_stacks(backend: StackBackend, suffix: str, default: int) -> int:
    """The quota the observability stack was told (`accountConcurrencyLimit`), else `default`."""
    raw = plain_config(backend, "observability", suffix).get("accountConcurrencyLimit")
    return int(raw) if raw else default


def _parse(layer: str, raw: str) -> tuple[SaleWindow, ...]:
    """The layer's windows, checked as its settings.validate() checks them."""
    parse = {"app": parse_app_windows, "data": parse_data_windows, "observability": parse_observability_windows}
    return parse[layer](raw, _namespace(layer))


def stored_windows(backend: StackBackend, suffix: str, layer: str) -> tuple[SaleWindow, ...]:
    return _parse(layer, plain_config(backend, layer, suffix).get(SALE_WINDOWS_KEY, "[]"))


def _require_stacks(backend: StackBackend, suffix: str) -> None:
    for layer in SALE_LAYERS:
        spec = get_layer(layer)
        if backend.resource_count(spec, suffix) is None:
            raise _refuse(f"stack {spec.project}/{suffix} does not exist", "deploy it first: invoke up-all --suffix "
                          f"{suffix}")


def _check_all(backend: StackBackend, suffix: str, values: Mapping[str, str],
               room: Mapping[str, str] | None = None) -> None:
    """Every layer's whole settings with its new values (the app's room keys too), as `invoke up` would load them."""
    for layer, value in values.items():
        base = plain_config(backend, layer, suffix)
        extra = dict(room or {}) if layer == "app" else {}
        check_overrides(settings_class(layer), _namespace(layer), {SALE_WINDOWS_KEY: value, **extra}, base=base)


def write_windows(backend: StackBackend, suffix: str, values: Mapping[str, str],
                  room: Mapping[str, str] | None = None) -> None:
    """Each layer's `saleWindows`, and the app's `waitingRoom*` keys when a room was planned (or cancelled)."""
    for layer, value in values.items():
        backend.set_config(get_layer(layer), suffix, f"{_namespace(layer)}:{SALE_WINDOWS_KEY}", value)
    for key, value in (room or {}).items():
        backend.set_config(get_layer("app"), suffix, f"{_namespace('app')}:{key}", value)


def prepare_plan(backend: StackBackend, suffix: str, plan: SalePlan, now: datetime | None = None) -> dict[str, str]:
    """Each owning layer's `saleWindows` with the plan's window added, every layer's settings checked with it
    (an overlap is refused here); nothing is written."""
    validate_suffix(suffix)
    _require_stacks(backend, suffix)
    values: dict[str, str] = {}
    for layer in SALE_LAYERS:
        existing = stored_windows(backend, suffix, layer)
        try:
            values[layer] = windows_json(_parse(layer, windows_json([*existing, plan.windows[layer]])))
        except ConfigError as exc:
            raise _refuse(f"the sale {iso(plan.request.start)}-{iso(plan.request.end)} cannot be added: "
                          f"{exc.problem}", "cancel the other window or choose other times") from None
    _check_all(backend, suffix, values, room_to_store(backend, suffix, plan, now))
    return values


def room_to_store(backend: StackBackend, suffix: str, plan: SalePlan, now: datetime | None = None) -> dict[str, str]:
    """The app's `waitingRoom*` keys this plan writes: its room, or cleared keys, over a room whose sale is over;
    refused over another sale's room still ahead (shared/ops/sale_room.py `to_store`)."""
    return sale_room.to_store(plain_config(backend, "app", suffix), plan.room,
                              stored_windows(backend, suffix, "app"), now or datetime.now(UTC))


def apply_plan(backend: StackBackend, suffix: str, plan: SalePlan, now: datetime | None = None) -> dict[str, str]:
    """Add the plan's window to each owning layer's `saleWindows` and its room (or the end of an old one) to the
    app's config (all or nothing); returns the new `saleWindows` values."""
    values = prepare_plan(backend, suffix, plan, now)
    write_windows(backend, suffix, values, room_to_store(backend, suffix, plan, now))
    return values


def cancel_window(backend: StackBackend, suffix: str, start: datetime, now: datetime | None = None) -> list[str]:
    """Remove the window starting at `start` from every layer; refused once its scale-out time has passed."""
    validate_suffix(suffix)
    moment = now or datetime.now(UTC)
    values: dict[str, str] = {}
    for layer in SALE_LAYERS:
        windows = stored_windows(backend, suffix, layer)
        found = [w for w in windows if w.start == start]
        if not found:
            continue
        if found[0].scale_out_at <= moment:
            raise _refuse(
                f"the sale {iso(start)} already started: its scale-out ran at {iso(found[0].scale_out_at)} "
                f"(now {iso(moment)})", "it cannot be cancelled; its restore at the end scales back down, or run "
                "`invoke up` with lower settings")
        values[layer] = windows_json([w for w in windows if w.start != start])
    if not values:
        raise _refuse(f"no sale window starts at {iso(start)} in stacks {suffix}",
                      f"`invoke sale check --suffix {suffix}` lists the declared windows")
    # The room planned with this sale goes with it (a room planned for another sale stays).
    room = sale_room.cleared() if sale_room.belongs_to(plain_config(backend, "app", suffix), start) else {}
    _check_all(backend, suffix, values, room)
    write_windows(backend, suffix, values, room)
    return sorted(values)


def request_from_text(start: str, end: str, users: int, skus: list[str] | tuple[str, ...],
                      lead_minutes: int = 0, waiting_room: str = "") -> SaleRequest:
    try:
        begin, finish = parse_utc(start), parse_utc(end)
    except ValueError as exc:
        raise _refuse(f"sale time {exc}", "ISO 8601 UTC, e.g. --start 2030-05-01T18:00:00Z") from None
    return replace(SaleRequest(begin, finish, users, tuple(skus)), lead_minutes=lead_minutes or None,
                   waiting_room=sale_room.parse_room(waiting_room))


def windows_text(windows: Mapping[str, tuple[SaleWindow, ...]]) -> str:
    """The declared windows per layer, for messages."""
    return json.dumps({layer: [w.to_json() for w in ws] for layer, ws in windows.items()}, indent=2)
