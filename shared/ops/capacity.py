"""Capacity model for the flash sale: 50,000 concurrent users under 200 ms, from measured service times.

Pure and typed: numbers in, numbers out (`model()`); reading files and printing live in `shared/ops/perf_tasks.py`.

1. Little's law for a closed population: throughput X = users / (think time + response time).
2. The request mix (browse, view, reserve: the Locust scenario's weights) splits X. GETs may be answered by the
   CloudFront micro-cache; with Origin Shield each cacheable URL costs at most one origin fetch per TTL.
3. Little's law again per service: concurrency = arrival rate x time in service. Lambda runs one request per
   execution environment; an RDS Proxy connection is borrowed for one statement; a hot inventory row is held
   for one transaction, so one SKU sells at most 1 / (lock hold time) units per second whatever the pool.
Service times come from `invoke bench` on this machine (1-connection latencies, pgbench on the same SQL) plus
documented allowances for AWS network hops (`AwsAssumptions`): an estimate to size settings, not a promise.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from shared.runtime import mission
from shared.runtime.aws_rules import API_GATEWAY_ACCOUNT_RPS
from shared.runtime.errors import ConfigError


@dataclass(frozen=True)
class ServiceTimes:
    """Measured on the bench machine (ms unless named otherwise)."""

    hot_read_ms: float  # API, product from the in-process cache, 1 connection, p50
    db_read_ms: float  # API, both caches off (a PostgreSQL read), 1 connection, p50
    reserve_ms: float  # API, one reservation, 1 connection, p50
    reserve_txn_ms: float  # pgbench reserve_stock(), 1 client, p50: the database's time per reservation
    hot_row_tps: float  # pgbench reserve_stock() on ONE SKU at the pool's concurrency: the row-lock bound
    db_read_tps_per_vcpu: float  # pgbench product SELECT tps / cores of the bench machine
    sale_tps_per_vcpu: float  # pgbench flash-sale mix (stock 500, 10,000 attempts) tps / cores
    cold_start_ms: float  # process start to first answered ALB event, median
    # PostgreSQL CPU per granted reservation (ms of one core), open loop on one sharded SKU within capacity, median
    reserve_db_cpu_ms: float = 0.425
    source: str = "defaults"


# `invoke bench` on the 2-core development machine (bench/reference-run.json, the run in docs/performance.md);
# used when bench/results/ holds no run.
DEFAULT_SERVICE_TIMES = ServiceTimes(
    hot_read_ms=0.11, db_read_ms=0.33, reserve_ms=0.90, reserve_txn_ms=0.41, hot_row_tps=1500.0,
    db_read_tps_per_vcpu=21600.0, sale_tps_per_vcpu=5896.0, cold_start_ms=203.0, reserve_db_cpu_ms=0.425,
    source="defaults",
)


# ServiceTimes field -> path in a bench/results/*.json file (written by bench/run.mjs).
RESULT_PATHS: dict[str, tuple[str, ...]] = {
    "hot_read_ms": ("cases", "hotRead", "serviceTime", "latencyMs", "p50"),
    "db_read_ms": ("cases", "dbRead", "serviceTime", "latencyMs", "p50"),
    "reserve_ms": ("cases", "flashSale", "serviceTime", "latencyMs", "p50"),
    "reserve_txn_ms": ("cases", "flashSale", "pgServiceTime", "latencyMs", "p50"),
    "hot_row_tps": ("cases", "flashSale", "sustained", "pgbench", "tps"),
    "db_read_tps_per_vcpu": ("cases", "dbRead", "pgbench", "tps"),  # divided by machine.cpus
    "sale_tps_per_vcpu": ("cases", "flashSale", "sale", "pgbench", "tps"),  # divided by machine.cpus
    "cold_start_ms": ("cases", "coldStart", "wallMs", "median"),
}


def _finite_positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def reserve_db_cpu_ms(data: Mapping[str, Any]) -> float | None:
    """Median PostgreSQL CPU per unit sold over the open loop's default-shard steps within capacity: what the
    writer spends while a sale is selling (a sold-out answer costs far less and is priced by the sale mix).
    Anything malformed counts as not measured (None), never as an error."""
    variants = _mapping(_mapping(_mapping(data).get("cases")).get("openLoop")).get("variants")
    first = variants[0] if isinstance(variants, list) and variants else None
    steps = _mapping(first).get("steps")
    per_unit: list[float] = []
    for step in steps if isinstance(steps, list) else []:
        step = _mapping(step)
        granted = _mapping(step.get("status")).get("201")
        sold, scheduled = step.get("takenRps"), step.get("scheduled")
        postgres = _mapping(step.get("cpuPercent")).get("postgres")
        p99 = _mapping(step.get("latencyMs")).get("p99")
        if not all(_finite_positive(v) for v in (granted, sold, scheduled, postgres, p99)):
            continue
        if step.get("timeouts") or step.get("errors") or p99 > 200 or granted < 0.99 * scheduled:
            continue  # beyond capacity: the database's CPU then also pays for contention and refusals
        per_unit.append(postgres / 100 / sold * 1000)
    return round(statistics.median(per_unit), 3) if per_unit else None


def service_times_from_results(data: Mapping[str, Any], source: str) -> tuple[ServiceTimes, tuple[str, ...]]:
    """Service times from a bench results document; a missing or non-positive value keeps its default (noted)."""
    values: dict[str, float] = {}
    notes: list[str] = []
    db_cpu = reserve_db_cpu_ms(data)
    if db_cpu is None:
        notes.append(f"cases.openLoop (steps within capacity) missing in {source}: using the default "
                     f"{DEFAULT_SERVICE_TIMES.reserve_db_cpu_ms}")
    else:
        values["reserve_db_cpu_ms"] = db_cpu
    for name, path in RESULT_PATHS.items():
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if name.endswith("_per_vcpu") and isinstance(value, (int, float)):
            cpus = data.get("machine", {}).get("cpus") if isinstance(data.get("machine"), Mapping) else None
            value = value / cpus if isinstance(cpus, int) and cpus > 0 else None
        if _finite_positive(value):
            values[name] = float(value)
        else:
            default = getattr(DEFAULT_SERVICE_TIMES, name)
            notes.append(f"{'.'.join(path)} missing in {source}: using the default {default}")
    return replace(DEFAULT_SERVICE_TIMES, **values, source=source), tuple(notes)


@dataclass(frozen=True)
class StackConfig:
    """The stacks' settings that bound capacity (defaults = the mission's numbers)."""

    provisioned_min: int = mission.PROVISIONED_CONCURRENCY_MIN
    provisioned_max: int = mission.PROVISIONED_CONCURRENCY_MAX
    provisioned_target: float = mission.SCALE_OUT_UTILIZATION
    proxy_max_connections: int = mission.PROXY_MAX_CONNECTIONS
    min_acu: float = 0.5
    max_acu: float = 16.0
    reader_min_count: int = 2  # the mission's two readers (auto scaling minimum)
    reader_max_count: int = 5
    micro_cache_ttl_s: float = 2.0
    origin_shield: bool = True
    api_throttle_rps: int = mission.API_RATE_LIMIT_RPS
    notes: tuple[str, ...] = ()


# (layer, key, StackConfig field): what `stack_config()` reads from each layer's settings defaults.
STACK_KEYS: tuple[tuple[str, str, str], ...] = (
    ("app", "provisionedConcurrencyMin", "provisioned_min"),
    ("app", "provisionedConcurrencyMax", "provisioned_max"),
    ("app", "provisionedConcurrencyTarget", "provisioned_target"),
    ("app", "apiThrottleRateLimit", "api_throttle_rps"),
    ("data", "proxyMaxConnections", "proxy_max_connections"),
    ("data", "minAcu", "min_acu"),
    ("data", "maxAcu", "max_acu"),
    ("data", "readerMaxCount", "reader_max_count"),
    ("edge", "microCacheTtlSeconds", "micro_cache_ttl_s"),
    ("edge", "originShield", "origin_shield"),
)


def stack_config(defaults_of: Callable[[str], Mapping[str, Any] | None]) -> StackConfig:
    """Build StackConfig from `defaults_of(layer) -> {key: default}` (None: the layer has no settings yet).

    A key that is absent keeps the mission's number, with a note saying so.
    """
    values: dict[str, Any] = {}
    notes: list[str] = []
    cache: dict[str, Mapping[str, Any] | None] = {}
    for layer, key, attr in STACK_KEYS:
        if layer not in cache:
            cache[layer] = defaults_of(layer)
        found = cache[layer]
        if found is None or key not in found or found[key] is None:
            notes.append(f"catalog-{layer}:{key} not found: using the mission's {getattr(StackConfig(), attr)}")
            continue
        values[attr] = found[key]
    return replace(StackConfig(**values), notes=tuple(notes))


@dataclass(frozen=True)
class AwsAssumptions:
    """Documented AWS numbers and allowances (not measured here)."""

    proxy_hop_ms: float = 2.0  # RDS Proxy in the path: a little latency per statement
    dynamodb_ms: float = 5.0  # DynamoDB: single-digit ms per request
    acu_per_vcpu: float = 4.0  # 1 ACU ~ 2 GiB with proportional CPU; r-family instances have 8 GiB per vCPU
    account_concurrency: int = 1000  # Lambda default regional concurrency quota
    unreserved_concurrency: int = 100  # Lambda always keeps this much of the quota unreserved
    aurora_max_acu: float = 256.0  # Aurora Serverless v2's largest instance (maxAcu ceiling)
    aurora_max_readers: int = 15  # readers one Aurora cluster holds
    api_gateway_account_rps: int = API_GATEWAY_ACCOUNT_RPS  # the account's regional default (a quota)
    lambda_scale_per_10s: int = 1000  # execution environments added per function every 10 s
    dynamodb_new_table_reads: int = 12_000  # on-demand: a new table sustains these reads/s...
    dynamodb_new_table_writes: int = 4_000  # ...and writes/s, then up to 2x its previous peak
    dynamodb_item_reads: int = 6_000  # one partition: 3,000 RCU = 6,000 eventually consistent reads/s of <= 4 KB
    dynamodb_item_writes: int = 1_000  # one partition: 1,000 WCU
    regional_edge_caches: int = 13  # without Origin Shield, each regional edge cache fetches on its own
    latency_budget_ms: float = 200.0


MAX_SHARDS = 64  # the API's restock range for a SKU's stock rows
# The largest sale the model takes (200 times the mission's 50,000): past it a typo (an extra zero) is far likelier
# than a real sale, and every AWS ceiling the advice names is long exceeded.
MAX_USERS = 10_000_000
SHARD_UTILIZATION = 0.7  # plan each shard's lock at 70 %: queues on a lock grow without bound as it nears 100 %


@dataclass(frozen=True)
class Workload:
    users: int = 50_000
    think_time_s: float = 5.0  # a shopper acts every 5 s during the sale
    browse: float = 0.3  # GET /api/products?category=...: the Locust weights 3:5:2
    view: float = 0.5  # GET /api/products/{sku}
    reserve: float = 0.2  # POST /api/products/{sku}/reservations
    cacheable_urls: int = 1_000  # distinct GET URLs during the sale (sale products, list pages)
    edge_hit_ratio: float | None = None  # None: derived from the TTL and cacheable_urls
    stock: int = 500  # units of the flash SKU
    shards: int | None = None  # stock rows of the flash SKU (restock `shards`, 1-64); None: what the sale needs

    def validate(self) -> None:
        def check(ok: bool, what: str, allowed: str) -> None:
            if not ok:
                raise ConfigError(f"capacity: {what}", f"allowed: {allowed}")

        check(isinstance(self.users, int) and 1 <= self.users <= MAX_USERS, f"users = {self.users!r}",
              f"a whole number from 1 to {MAX_USERS:,}")
        check(math.isfinite(self.think_time_s) and self.think_time_s > 0, f"think time = {self.think_time_s!r}",
              "seconds > 0 (a user population thinks between requests)")
        shares = (self.browse, self.view, self.reserve)
        check(all(math.isfinite(s) and s >= 0 for s in shares) and abs(sum(shares) - 1) < 1e-9,
              f"request mix {shares}", "three shares >= 0 that add up to 1")
        check(self.cacheable_urls >= 1, f"cacheable URLs = {self.cacheable_urls!r}", ">= 1")
        check(self.edge_hit_ratio is None or 0 <= self.edge_hit_ratio < 1, f"edge hit ratio = {self.edge_hit_ratio!r}",
              "0 <= ratio < 1 (writes and misses always reach the origin)")
        check(self.stock >= 1, f"stock = {self.stock!r}", ">= 1")
        check(self.shards is None or 1 <= self.shards <= MAX_SHARDS, f"shards = {self.shards!r}",
              f"1-{MAX_SHARDS} (the API's restock range)")


@dataclass(frozen=True)
class SaleCommand:
    """The commands the model's advice prints, runnable as printed: placeholders where the caller knows no stack
    or window (`invoke capacity`), the real values in `invoke sale plan`."""

    suffix: str = "<suffix>"
    start: str = "<UTC>"
    end: str = "<UTC>"

    def plan(self, users: int, *extra: str) -> str:
        return " ".join(("invoke sale plan", f"--suffix {self.suffix} --start {self.start} --end {self.end}",
                         f"--users {users}", *extra))

    def up(self, layer: str, *extra: str) -> str:
        return " ".join(("invoke up", f"--layer {layer} --suffix {self.suffix}", *extra))


ROOM_FLAGS = "--sku <SKU> --waiting-room <SKU>"  # a room SKU is also one of the sale's --sku


@dataclass(frozen=True)
class Capacity:
    """Every number the report prints; `actions` say what to configure where a mission number is not enough."""

    throughput_rps: float
    get_rps: float
    reserve_rps: float
    edge_hit_ratio: float
    edge_served_rps: float
    origin_get_rps: float
    origin_fetch_bound_rps: float
    origin_rps: float
    get_duration_ms: float
    reserve_duration_ms: float
    lambda_concurrency: int
    lambda_concurrency_with_headroom: int
    lambda_concurrency_at_budget: int
    provisioned_share: float
    scale_out_seconds: float
    proxy_writes_capacity: float
    writer_connections_needed: float
    hot_row_tps: float
    shards_needed: int  # stock rows for the sale SKU to sell at the arrival rate within the latency budget
    shards: int  # the stock rows the model ran with (Workload.shards, else shards_needed)
    sku_selling_rps: float  # what that SKU sells per second with those rows
    sell_out_seconds: float
    reservation_queue_wait_ms: float
    writer_acu: float  # the larger of selling_acu and the sale mix's
    selling_acu: float  # the writer while the SKU sells: every attempt a granted reservation
    reader_acu: float
    readers_needed: int
    dynamodb_reads_rps: float
    dynamodb_writes_rps: float
    hot_item_reads_rps: float
    hot_item_writes_rps: float
    api_gateway_share: float
    actions: tuple[str, ...] = field(default_factory=tuple)


def reservations_line(c: Capacity, users: int, commands: SaleCommand = SaleCommand()) -> str:
    """Arrivals vs what the sale SKU's rows sell, always printed (the README's rule for the waiting room quotes it)."""
    verdict = ("the rows sell them all" if c.reserve_rps <= c.sku_selling_rps else
               f"more arrive than the rows sell: `{commands.plan(users, ROOM_FLAGS)}` admits them in arrival order")
    return (f"Reservations: {c.reserve_rps:,.0f}/s arrive for one SKU whose {c.shards} stock row(s) sell "
            f"{c.sku_selling_rps:,.0f}/s: {verdict}")


def model(w: Workload, stack: StackConfig, t: ServiceTimes, aws: AwsAssumptions | None = None,
          commands: SaleCommand = SaleCommand()) -> Capacity:
    w.validate()
    aws = aws or AwsAssumptions()
    actions: list[str] = []
    get_ms = t.db_read_ms + aws.proxy_hop_ms  # conservative: every origin GET reads PostgreSQL (see docs)
    reserve_ms = t.reserve_ms + aws.proxy_hop_ms + aws.dynamodb_ms  # + the cache entry's DeleteItem
    share_get = w.browse + w.view
    fetchers = 1 if stack.origin_shield else aws.regional_edge_caches
    fetch_bound = w.cacheable_urls * fetchers / stack.micro_cache_ttl_s  # one fetch per URL per TTL per fetcher

    def edge_ratio(get_rps: float) -> float:
        if w.edge_hit_ratio is not None:
            return w.edge_hit_ratio
        return max(0.0, 1 - fetch_bound / get_rps) if get_rps > 0 else 0.0

    # Little's law; the response time depends (a little) on the edge ratio, which depends on X: two passes.
    x = w.users / w.think_time_s
    for _ in range(2):
        h = edge_ratio(x * share_get)
        response_s = (share_get * (1 - h) * get_ms + w.reserve * reserve_ms) / 1000  # edge hits: ~0 at the origin
        x = w.users / (w.think_time_s + response_s)
    get_rps, reserve_rps = x * share_get, x * w.reserve
    h = edge_ratio(get_rps)
    origin_get = get_rps * (1 - h)

    concurrency = math.ceil((origin_get * get_ms + reserve_rps * reserve_ms) / 1000)
    with_headroom = math.ceil(concurrency / stack.provisioned_target)
    at_budget = math.ceil((origin_get + reserve_rps) * aws.latency_budget_ms / 1000)  # if each took 200 ms
    provisioned_share = min(1.0, stack.provisioned_max / concurrency) if concurrency else 1.0
    # Past the account quota there is no scale-out to wait for: the excess is throttled.
    scale_out_s = 10.0 * math.ceil(max(0, min(concurrency, aws.account_concurrency) - stack.provisioned_max)
                                   / aws.lambda_scale_per_10s)
    usable = aws.account_concurrency - aws.unreserved_concurrency
    if concurrency > stack.provisioned_max:
        actions.append(
            f"Lambda: {concurrency} concurrent executions needed ({with_headroom} at the "
            f"{stack.provisioned_target:.0%} target) vs provisioned {stack.provisioned_min}-{stack.provisioned_max}: "
            "the rest runs on on-demand concurrency, each new environment a cold start "
            f"(~{t.cold_start_ms:.0f} ms measured). Provision ~{min(with_headroom, usable):,} on alias live for the "
            f"sale window (above provisionedConcurrencyMax {stack.provisioned_max}): `{commands.plan(w.users)}` "
            "schedules it")
    if with_headroom > usable:
        actions.append(
            f"Lambda: {with_headroom:,} concurrent executions exceed the {usable:,} that the account quota of "
            f"{aws.account_concurrency:,} leaves ({aws.unreserved_concurrency} stay unreserved): request at least "
            f"{with_headroom + aws.unreserved_concurrency:,} for 'Concurrent executions' (L-B99A9384) in us-east-1 "
            f"Service Quotas before the sale, then plan with `{commands.plan(w.users, '--lambda-quota <quota>')}`")

    # One SKU: a reservation takes one stock row's lock, so one row sells at most hot_row_tps units/s and N rows
    # (shards; the API spreads reservations over them with SKIP LOCKED) N times that, up to what the proxy's
    # connections carry.
    txn_ms = t.reserve_txn_ms + aws.proxy_hop_ms
    writes_capacity = stack.proxy_max_connections * 1000 / txn_ms  # spread over many rows
    shards_needed = min(MAX_SHARDS, max(1, math.ceil(reserve_rps / (SHARD_UTILIZATION * t.hot_row_tps))))
    shards = w.shards or shards_needed
    sku_rate = min(shards * t.hot_row_tps, writes_capacity)
    selling_rate = min(reserve_rps, sku_rate)
    sell_out_s = w.stock / selling_rate if selling_rate else math.inf
    # FIFO on the locks; when the last unit sells every waiter fails fast (409, no lock): the longest wait is
    # sell_out x (1 - rate/arrivals), the average half of it.
    queue_wait_ms = sell_out_s * 1000 * max(0.0, 1 - sku_rate / reserve_rps) if reserve_rps else 0.0
    writer_connections = reserve_rps * (txn_ms + queue_wait_ms / 2) / 1000
    planned_max = MAX_SHARDS * SHARD_UTILIZATION * t.hot_row_tps  # what 64 rows sell with each lock at 70 %
    if reserve_rps > planned_max:
        actions.append(f"Reservations: {reserve_rps:.0f}/s arrive for one SKU; even {MAX_SHARDS} stock rows sell "
                       f"{planned_max:.0f}/s at {SHARD_UTILIZATION:.0%} of each row's lock "
                       f"({MAX_SHARDS * t.hot_row_tps:.0f}/s at 100 %): admit buyers through the waiting room, "
                       f"`{commands.plan(w.users, ROOM_FLAGS)}`")
    elif reserve_rps > sku_rate:
        actions.append(
            f"Reservations: {reserve_rps:.0f}/s arrive for one SKU whose {shards} stock row(s) sell "
            f"{sku_rate:.0f}/s: the {w.stock} units sell out in {sell_out_s:.1f} s; meanwhile requests queue on "
            f"the locks up to {queue_wait_ms:.0f} ms (the API sheds them with 503 past its lock timeout). Restock "
            f"the sale SKU with shards={shards_needed} (the API's restock `shards`, 1-{MAX_SHARDS}) before the sale, "
            f"or admit buyers through the waiting room, `{commands.plan(w.users, ROOM_FLAGS)}`")
    elif writer_connections > stack.proxy_max_connections:
        actions.append(f"RDS Proxy: ~{writer_connections:.0f} writer connections busy > proxyMaxConnections "
                       f"{stack.proxy_max_connections}: `"
                       + commands.up("data", f"--config data:proxyMaxConnections={math.ceil(writer_connections)}")
                       + "` (with maxConnections to match)")
    if reserve_rps > writes_capacity:
        actions.append(f"RDS Proxy: {reserve_rps:,.0f} writes/s exceed the {writes_capacity:,.0f}/s that "
                       f"{stack.proxy_max_connections} connections carry: admit buyers through a queue, or "
                       "`" + commands.up("data", "--config data:proxyMaxConnections="
                                          f"{math.ceil(stack.proxy_max_connections * reserve_rps / writes_capacity)}")
                       + "` where maxAcu supports it")

    # The writer carries the larger of: the sale's own mix (pgbench: mostly cheap sold-out answers once the stock is
    # gone) and the selling phase, every attempt a granted reservation at its measured database CPU.
    mix_acu = reserve_rps / t.sale_tps_per_vcpu * aws.acu_per_vcpu
    selling_acu = selling_rate * t.reserve_db_cpu_ms / 1000 * aws.acu_per_vcpu
    writer_acu = max(mix_acu, selling_acu)
    db_reads = origin_get  # conservative: each sale invalidates the product's cache entry
    reader_acu = db_reads / t.db_read_tps_per_vcpu * aws.acu_per_vcpu
    readers = max(stack.reader_min_count, math.ceil(reader_acu / stack.max_acu))
    if writer_acu > aws.aurora_max_acu:
        actions.append(f"Aurora writer: ~{writer_acu:,.1f} ACU needed > {aws.aurora_max_acu:g} ACU, Aurora "
                       "Serverless v2's largest instance: no maxAcu serves it; admit buyers through a queue (fewer "
                       "reservations/s) or plan fewer users")
    elif writer_acu > stack.max_acu:
        actions.append(f"Aurora writer: ~{writer_acu:.1f} ACU needed > maxAcu {stack.max_acu:g}: set maxAcu "
                       f"{math.ceil(writer_acu):g} (at most {aws.aurora_max_acu:g}): `"
                       + commands.up("data", f"--config data:maxAcu={math.ceil(writer_acu):g}") + "`")
    if readers > aws.aurora_max_readers:
        actions.append(f"Aurora readers: {readers:,} needed > {aws.aurora_max_readers}, the most one cluster holds: "
                       "cache more at the edge (microCacheTtlSeconds) or plan fewer users")
    elif readers > stack.reader_max_count:
        actions.append(f"Aurora readers: {readers} needed > readerMaxCount {stack.reader_max_count}: "
                       f"`{commands.plan(w.users)}` schedules {readers} for the window")
    if stack.min_acu < writer_acu <= aws.aurora_max_acu:
        actions.append(f"Aurora: minAcu {stack.min_acu:g} is below the sale's ~{writer_acu:.1f} ACU: "
                       f"`{commands.plan(w.users)}` raises it to {math.ceil(writer_acu * 2) / 2:g} for the "
                       "window (Serverless v2 scales in seconds, but from a small base)")

    ddb_reads = origin_get  # each origin GET that misses the environment's 1 s in-process cache
    # The API coalesces the product-cache invalidation: each environment deletes the sale SKU's item at most twice a
    # second (CACHE_INVALIDATE_INTERVAL_MS), whatever the selling rate; each delete is followed by one re-put.
    invalidations = min(selling_rate, 2.0 * concurrency)
    ddb_writes = db_reads + invalidations  # PutItem after each database load, the coalesced DeleteItems
    hot_reads = origin_get * w.view / share_get if share_get else 0.0
    hot_writes = invalidations + min(hot_reads, invalidations)
    if ddb_reads > aws.dynamodb_new_table_reads or ddb_writes > aws.dynamodb_new_table_writes:
        actions.append(
            f"DynamoDB: {ddb_reads:.0f} reads/s, {ddb_writes:.0f} writes/s exceed a new on-demand table's "
            f"{aws.dynamodb_new_table_reads}/{aws.dynamodb_new_table_writes}: pre-warm the cache table "
            "(warm throughput)")
    if hot_writes > aws.dynamodb_item_writes:
        actions.append(
            f"DynamoDB: while it sells, the sale SKU's cache item takes ~{hot_writes:.0f} writes/s (coalesced "
            f"deletes, then re-puts) on one partition ({aws.dynamodb_item_writes} WCU/s): some invalidations are "
            "throttled; the API tolerates that (stock shown stale for at most cacheTtlSeconds)")
    if hot_reads > aws.dynamodb_item_reads:
        actions.append(f"DynamoDB: {hot_reads:.0f} reads/s of one cache item exceed a partition's "
                       f"{aws.dynamodb_item_reads}/s: raise localCacheTtlMs or the edge micro-cache TTL")
    api_share = x / stack.api_throttle_rps
    if api_share > 1:
        actions.append(f"API Gateway: {x:,.0f} rps if every shopper came through it vs its {stack.api_throttle_rps:,} "
                       f"rps limit (the account default is {aws.api_gateway_account_rps:,} rps per region, raised by "
                       "a quota request): shoppers go CloudFront -> ALB; API Gateway stays for API-key clients")
    if max(get_ms, reserve_ms) > aws.latency_budget_ms:
        actions.append("Latency: one request's service time alone exceeds the budget")
    return Capacity(
        throughput_rps=x, get_rps=get_rps, reserve_rps=reserve_rps, edge_hit_ratio=h, edge_served_rps=get_rps * h,
        origin_get_rps=origin_get, origin_fetch_bound_rps=fetch_bound, origin_rps=origin_get + reserve_rps,
        get_duration_ms=get_ms, reserve_duration_ms=reserve_ms, lambda_concurrency=concurrency,
        lambda_concurrency_with_headroom=with_headroom, lambda_concurrency_at_budget=at_budget,
        provisioned_share=provisioned_share, scale_out_seconds=scale_out_s, proxy_writes_capacity=writes_capacity,
        writer_connections_needed=writer_connections, hot_row_tps=t.hot_row_tps, shards_needed=shards_needed,
        shards=shards, sku_selling_rps=sku_rate, sell_out_seconds=sell_out_s,
        reservation_queue_wait_ms=queue_wait_ms, writer_acu=writer_acu, selling_acu=selling_acu, reader_acu=reader_acu,
        readers_needed=readers, dynamodb_reads_rps=ddb_reads, dynamodb_writes_rps=ddb_writes,
        hot_item_reads_rps=hot_reads, hot_item_writes_rps=hot_writes, api_gateway_share=api_share,
        actions=tuple(actions),
    )
