"""Printing for the performance tasks: the benchmark table (Markdown, also readable in a terminal), the capacity
report, and the latency-vs-load chart. Pure functions over the results document and the model's numbers, except
`render_chart`, which writes a PNG."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shared.ops.capacity import (
    DEFAULT_SERVICE_TIMES,
    SHARD_UTILIZATION,
    AwsAssumptions,
    Capacity,
    ServiceTimes,
    StackConfig,
    Workload,
    model,
    reservations_line,
    service_times_from_results,
    stack_config,
)
from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

RESULTS_DIR = REPO_ROOT / "bench" / "results"


def _get(data: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(data, Mapping):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return None
    return data


def _n(value: Any, fmt: str = ",.0f", unit: str = "") -> str:
    return "-" if not isinstance(value, (int, float)) else f"{value:{fmt}}{unit}"


def _lat(lat: Any) -> str:
    if not isinstance(lat, Mapping):
        return "-"
    return " / ".join(_n(lat.get(p), ".1f") for p in ("p50", "p95", "p99")) + " ms"


def _pct(ratio: Any) -> str:
    return "-" if not isinstance(ratio, (int, float)) else f"{ratio:.0%}"


def bench_rows(results: Mapping[str, Any]) -> list[list[str]]:
    """One row per case: case, API, API p50/p95/p99, baseline, baseline p50/p95/p99, ratio."""
    rows: list[list[str]] = []
    cases = results.get("cases", {})
    for level in _get(cases, "hotRead", "levels") or []:
        c = level["connections"]
        rows.append([f"hot product read, {c} connections", f"{_n(level['api']['rps'])} rps",
                     _lat(level["api"]["latencyMs"]), f"bare node:http {_n(level['bare']['rps'])} rps",
                     _lat(level["bare"]["latencyMs"]), _pct(level["ratio"])])
    db = cases.get("dbRead")
    if db:
        rows.append([f"product read from PostgreSQL, {db['connections']} connections", f"{_n(db['api']['rps'])} rps",
                     _lat(db["api"]["latencyMs"]), f"pgbench same SELECT -c {db['pgbench']['clients']}: "
                     f"{_n(db['pgbench']['tps'])} tps", _lat(db["pgbench"].get("latencyMs")), _pct(db["ratio"])])
    fs = cases.get("flashSale")
    # "closed loop" once a run also has the open-loop case (older reference runs render as before)
    loop = ", closed loop" if "openLoop" in cases else ""
    if fs:
        sale, sus = fs["sale"], fs["sustained"]
        rows.append([f"flash sale{loop}: {fs['clients']} clients, 1 SKU, stock {fs['stock']}, "
                     f"{fs['requests']:,} attempts",
                     _answers(sale["api"], "decidedRps", "decided"), _lat(sale["api"]["latencyMs"]),
                     f"pgbench reserve_stock() -c {sale['pgbench']['clients']}: {_n(sale['pgbench']['tps'])} tps",
                     _lat(sale["pgbench"].get("latencyMs")), _pct(sale["ratio"])])
        rows.append([f"reservations{loop}, 1 SKU never sold out, {fs['clients']} clients",
                     _answers(sus["api"], "grantedRps", "granted"),
                     _lat(sus["api"]["latencyMs"]),
                     f"pgbench reserve_stock() -c {sus['pgbench']['clients']}: {_n(sus['pgbench']['tps'])} tps "
                     f"(bare UPDATE {_n(sus['bareUpdate']['tps'])} tps)", _lat(sus["pgbench"].get("latencyMs")),
                     _pct(sus["ratio"])])
    cold = cases.get("coldStart")
    if cold:
        rows.append([f"cold start, process start to first ALB answer (median of {cold['runs']})",
                     f"{_n(cold['wallMs']['median'], '.0f')} ms",
                     f"import {_n(cold['importMs']['median'], '.0f')} ms, first event "
                     f"{_n(cold['firstEventMs']['median'], '.0f')} ms", "-", "-", "-"])
    deps = cases.get("dependencies")
    if deps and "bytes" in deps:
        rows.append(["production dependencies (npm ci --omit=dev)", f"{deps['bytes'] / 1e6:.1f} MB",
                     f"{deps['packages']} top-level packages", "-", "-", "-"])
    return rows


def _answers(api: Mapping[str, Any], key: str, label: str) -> str:
    """A closed-loop write run: what the ratio compares (decided or granted per second), then all answers."""
    if key not in api:  # runs before 503 shedding recorded only the answer rate
        return f"{_n(api['rps'])} rps"
    shed = api.get("status", {}).get("503", 0)
    return f"{_n(api[key])} {label}/s ({_n(api['rps'])} answers/s, {shed:,} x 503)"


def open_loop_rows(results: Mapping[str, Any]) -> list[list[str]]:
    """Open-loop flash sale (cases.openLoop): one row per variant and offered rate; sell-out steps marked."""
    rows: list[list[str]] = []
    for v in _get(results, "cases", "openLoop", "variants") or []:
        steps = [(s, "") for s in v.get("steps", [])] + ([(v["sellOut"], " (sells out)")] if v.get("sellOut") else [])
        for s, note in steps:
            st, cpu = s.get("status", {}), s.get("cpuPercent", {})
            rows.append([f"{v['label']}{note}", _n(s["offeredRps"]), _n(s["achievedRps"]), _n(s.get("takenRps")),
                         _lat(s["latencyMs"]),
                         " / ".join(_n(st.get(c, 0)) for c in ("201", "409", "429", "503")) + f" / {s['timeouts']:,}"
                         f" / {s['errors']:,}", _n(_get(s, "generator", "scheduleLagMs", "p99"), ".1f", " ms"),
                         f"{_n(cpu.get('api'))} / {_n(cpu.get('moto'))} / {_n(cpu.get('postgres'))} %",
                         "ok" if _get(s, "proof", "ok") else "FAILED"])
    return rows


def waiting_room_rows(results: Mapping[str, Any]) -> list[list[str]]:
    """The waiting room's crowd (cases.waitingRoom): the run through the room, then the same arrivals without it."""
    wr = _get(results, "cases", "waitingRoom")
    if not isinstance(wr, Mapping) or not isinstance(wr.get("room"), Mapping):
        return []
    r, d = wr["room"], wr.get("direct") or {}
    lat_r, lat_d = r.get("latencyMs", {}), d.get("latencyMs", {})

    def p50_99(lat: Any) -> str:
        return "-" if not isinstance(lat, Mapping) else f"{_n(lat.get('p50'), '.1f')} / {_n(lat.get('p99'), '.1f')} ms"

    def statuses(run: Mapping[str, Any]) -> str:
        other = run.get("otherServerErrors", run.get("serverErrors"))
        return f"{_n(run.get('timeouts'))} / {_n(run.get('shed', 0))} / {_n(other)}"

    def sold(run: Mapping[str, Any]) -> str:
        return f"{_n(run.get('soldRps'), ',.1f')}/s (busiest 10 s {_n(run.get('peakSoldRps10s'), ',.1f')}/s)"

    rows = [["with the room", sold(r),
             p50_99(lat_r.get("join")), p50_99(lat_r.get("status")), p50_99(lat_r.get("reserve")),
             statuses(r), _n(r.get("inversionsOver1s")), _pct(r.get("estimateWithin20pct")),
             _n(r.get("originRequestsPerWaitingShopperMinute"), ".1f")]]
    if d:
        rows.append(["without (503 + Retry-After)", sold(d), "-", "-", p50_99(lat_d.get("reserve")), statuses(d),
                     _n(d.get("inversionsOver1s")), "-", "-"])
    return rows


def cpu_per_request(results: Mapping[str, Any]) -> dict[str, float]:
    """Server CPU microseconds per request = CPU share / throughput, where the run recorded both."""
    out: dict[str, float] = {}

    def add(name: str, run: Any) -> None:
        server, rps = _get(run, "cpuPercent", "server"), _get(run, "rps")
        if isinstance(server, (int, float)) and isinstance(rps, (int, float)) and rps > 0:
            out[name] = server / 100 / rps * 1e6

    levels = _get(results, "cases", "hotRead", "levels") or []
    if levels:
        add("bare node:http", levels[-1].get("bare"))
        add("API hot read", levels[-1].get("api"))
    add("API database read", _get(results, "cases", "dbRead", "api"))
    add("API flash sale", _get(results, "cases", "flashSale", "sale", "api"))
    return out


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def bench_report(results: Mapping[str, Any]) -> str:
    m = results.get("machine", {})
    out = [f"Run {results.get('startedAt', '?')} on {m.get('cpus', '?')} cores ({m.get('cpuModel', '?')}), "
           f"{m.get('node', '?')}, {m.get('postgres', '?')}; load average at start "
           f"{_get(m, 'loadAvgAtStart', 0)}, at end {_get(m, 'loadAvgAtEnd', 0)}; {results.get('durationS', '?')} s",
           "",
           markdown_table(["case", "API", "API p50 / p95 / p99", "baseline (same run)", "baseline p50 / p95 / p99",
                           "API / baseline"], bench_rows(results))]
    proof = _get(results, "cases", "flashSale", "sale", "proof")
    if proof:
        a, p = proof["api"], proof["pgbench"]
        out += ["", f"Flash-sale proof (database after the run): API {a['succeeded']} x 201, {a['soldOut']} x 409, "
                f"{a['reservations']} reservation rows ({a['reserved_units']} units), stock {a['available']}, "
                f"{a['negative_rows']} rows with negative stock; pgbench {p['reservations']} rows, stock "
                f"{p['available']}."]
    ol = _get(results, "cases", "openLoop")
    if ol:
        pg = ol.get("pgbench") or {}
        caps = ", ".join(f"{v['label']} {_n(v.get('capacityRps'))}/s" for v in ol.get("variants", []))
        out += ["", f"Open-loop flash sale (fixed arrival rate on one SKU, {ol.get('durationS')} s per rate, latency "
                f"from the scheduled send time, client timeout {ol.get('timeoutMs')} ms, API default config with the "
                f"DynamoDB cache tier on): capacity at p99 <= 200 ms: {caps}; baseline pgbench reserve_stock() one "
                f"SKU -c {pg.get('clients', '?')}: {_n(pg.get('tps'))} tps."
                + (f" {_get(ol, 'shards', 'note')}." if _get(ol, "shards", "note") else ""), "",
                markdown_table(["variant", "offered/s", "answered/s", "sold/s", "p50 / p95 / p99",
                                "201 / 409 / 429 / 503 / timeouts / errors", "generator lag p99",
                                "CPU API / moto / postgres", "stock proof"], open_loop_rows(results))]
    wr = _get(results, "cases", "waitingRoom")
    if waiting_room_rows(results):
        setup = wr.get("setup") or {}
        out += ["", f"Waiting room: {_n(wr.get('shoppers'))} shoppers arriving within {wr.get('arrivalS')} s for one "
                f"SKU, admission {_n(wr.get('ratePerSecond'))}/s ({wr.get('rateSource')}); table on "
                f"{setup.get('emulator', '?')}, {setup.get('queueProcesses', '?')} API processes for joins and polls, "
                "one for reservations, one controller.",
                "", markdown_table(["run", "sold/s", "join p50 / p99", "status p50 / p99", "reserve p50 / p99",
                                    "timeouts / 503 / other 5xx", "inversions > 1 s", "estimate within 20 %",
                                    "origin requests per waiting shopper per minute"], waiting_room_rows(results))]
    cpu = cpu_per_request(results)
    if cpu:
        out += ["", "CPU per request (server process, from /proc at the highest level): " + ", ".join(
            f"{name} {us:.0f} us" for name, us in cpu.items())]
    micro = _get(results, "cases", "hotRead", "micro", "usPerRequest")
    if isinstance(micro, Mapping):
        out += [f"In-process cached read (no HTTP): router {micro.get('router')} us, + EMF metrics line "
                f"{micro.get('withMetrics')} us, + Powertools log line {micro.get('withLog')} us, both (the API) "
                f"{micro.get('api')} us."]
    verdicts = {v["id"]: v for v in results.get("verdicts", [])}
    goal_rows = [[g["text"], verdicts[g["id"]]["detail"], "met" if verdicts[g["id"]]["met"] else "MISSED"]
                 for g in results.get("goals", []) if g["id"] in verdicts]
    if goal_rows:
        out += ["", markdown_table(["goal", "measured", "verdict"], goal_rows)]
    return "\n".join(out)


def capacity_report(w: Workload, stack: StackConfig, t: ServiceTimes, c: Capacity, aws: AwsAssumptions,
                    notes: Sequence[str] = ()) -> str:
    get_share = w.browse + w.view
    lines = [
        f"Flash sale: {w.users:,} users, think time {w.think_time_s:g} s, mix browse {w.browse:.0%} / view "
        f"{w.view:.0%} / reserve {w.reserve:.0%}; service times from {t.source}",
        "",
        "Load (Little's law: X = users / (think time + response time))",
        f"  requests/s            {c.throughput_rps:10,.0f}   GET {c.get_rps:,.0f} ({get_share:.0%}), "
        f"reservations {c.reserve_rps:,.0f}",
        f"  CloudFront absorbs    {c.edge_served_rps:10,.0f}   GETs/s = {c.edge_hit_ratio:.1%} of GETs "
        f"(micro-cache {stack.micro_cache_ttl_s:g} s, Origin Shield {'on' if stack.origin_shield else 'off'}: "
        f"{w.cacheable_urls:,} URLs -> at most {c.origin_fetch_bound_rps:,.0f} origin fetches/s)",
        f"  reaches the origin    {c.origin_rps:10,.0f}   /s (GET {c.origin_get_rps:,.0f}, reservations "
        f"{c.reserve_rps:,.0f})",
        f"  API Gateway           {c.api_gateway_share:10.0%}   of its {stack.api_throttle_rps:,} rps limit if all "
        "shoppers used it (they go CloudFront -> ALB)",
        "",
        f"Lambda (one request per environment; GET {c.get_duration_ms:.1f} ms, reservation "
        f"{c.reserve_duration_ms:.1f} ms incl. AWS hop allowances)",
        f"  concurrency needed    {c.lambda_concurrency:10,}   ({c.lambda_concurrency_with_headroom:,} at the "
        f"{stack.provisioned_target:.0%} utilization target; {c.lambda_concurrency_at_budget:,} if every origin "
        f"request took the whole {aws.latency_budget_ms:.0f} ms)",
        f"  provisioned           {stack.provisioned_min:>4} - {stack.provisioned_max:<3}   covers "
        f"{c.provisioned_share:.0%} of it; the rest on demand, scale-out within ~{c.scale_out_seconds:.0f} s "
        f"({aws.lambda_scale_per_10s:,} environments / 10 s / function), cold start ~{t.cold_start_ms:.0f} ms each",
        f"  account limit         {aws.account_concurrency:10,}   default regional concurrency (100 stay unreserved)",
        "",
        "Database (RDS Proxy -> Aurora Serverless v2)",
        f"  proxy connections     {stack.proxy_max_connections:10,}   carry {c.proxy_writes_capacity:,.0f} writes/s "
        f"across rows (connections x 1 / {t.reserve_txn_ms + aws.proxy_hop_ms:.1f} ms per reservation)",
        f"  one stock row         {c.hot_row_tps:10,.0f}   reservations/s (row lock, measured with pgbench)",
        f"  sale SKU shards       {c.shards_needed:10,}   stock rows needed for {c.reserve_rps:,.0f} reservations/s at "
        f"{SHARD_UTILIZATION:.0%} of each row's lock (restock `shards`)",
        f"  with {c.shards:2} shard(s)        {c.sku_selling_rps:10,.0f}   reservations/s: stock {w.stock} sells out "
        f"in {c.sell_out_seconds:.1f} s, queue wait up to {c.reservation_queue_wait_ms:,.0f} ms, "
        f"~{c.writer_connections_needed:,.0f} connections in flight",
        f"  {reservations_line(c, w.users)}",
        f"  writer                {c.writer_acu:10.1f}   ACU for {c.reserve_rps:,.0f} reservation attempts/s: "
        + (f"selling {min(c.sku_selling_rps, c.reserve_rps):,.0f}/s x {t.reserve_db_cpu_ms:.2f} ms database CPU each"
           if c.writer_acu == c.selling_acu else f"the sale's mix at {t.sale_tps_per_vcpu:,.0f} attempts/s per vCPU")
        + f" (min {stack.min_acu:g} / max {stack.max_acu:g}; {aws.acu_per_vcpu:g} ACU per vCPU)",
        f"  readers               {c.readers_needed:10}   needed for {c.origin_get_rps:,.0f} reads/s = "
        f"{c.reader_acu:.1f} ACU (auto scaling {stack.reader_min_count}-{stack.reader_max_count})",
        "",
        "DynamoDB (on demand, the cache table)",
        f"  table                 {c.dynamodb_reads_rps:10,.0f}   reads/s, {c.dynamodb_writes_rps:,.0f} writes/s "
        f"(a new on-demand table sustains {aws.dynamodb_new_table_reads:,} / {aws.dynamodb_new_table_writes:,}, "
        "then up to 2x its previous peak; warm throughput pre-warms it)",
        f"  sale SKU's item       {c.hot_item_reads_rps:10,.0f}   reads/s, {c.hot_item_writes_rps:,.0f} writes/s "
        f"(one partition: {aws.dynamodb_item_reads:,} / {aws.dynamodb_item_writes:,})",
    ]
    lines += ["", "What to configure where a mission number is not enough:"]
    lines += [f"  - {a}" for a in c.actions] or ["  - nothing: every number above fits"]
    if notes:
        lines += ["", "Notes on inputs:"] + [f"  - {n}" for n in notes]
    return "\n".join(lines)


def render_chart(results: Mapping[str, Any], path: Path) -> Path:
    """Latency (p50, p99) and throughput vs connections from the sweep; needs matplotlib (Agg, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweep = results.get("sweep")
    if not sweep:
        raise ValueError("these results have no sweep: run `invoke bench --chart`")
    fig, (ax_lat, ax_rps) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"hotRead": ("hot read (in-process cache)", "tab:blue"), "dbRead": ("read from PostgreSQL", "tab:orange")}
    for key, (label, color) in styles.items():
        points = sweep["points"].get(key) or []
        conns = [p["connections"] for p in points]
        ax_lat.plot(conns, [p["p50"] for p in points], "o-", color=color, label=f"{label} p50")
        ax_lat.plot(conns, [p["p99"] for p in points], "s--", color=color, label=f"{label} p99")
        ax_rps.plot(conns, [p["rps"] for p in points], "o-", color=color, label=label)
    ax_lat.axhline(200, color="tab:red", linewidth=1, linestyle=":", label="200 ms objective")
    ax_lat.set(xscale="log", yscale="log", xlabel="concurrent connections", ylabel="latency (ms)",
               title="API latency vs load (local server)")
    ax_rps.set(xscale="log", xlabel="concurrent connections", ylabel="requests/s", title="API throughput vs load")
    for ax in (ax_lat, ax_rps):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    m = results.get("machine", {})
    fig.suptitle(f"catalog-api, {m.get('cpus', '?')} cores, {sweep.get('durationS')} s per point, "
                 f"run {results.get('startedAt', '')[:19]}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def latest_results(directory: Path = RESULTS_DIR) -> Path | None:
    files = sorted(directory.glob("*.json"))
    return files[-1] if files else None


def settings_defaults(layer: str) -> dict[str, Any]:
    """A layer's settings defaults by key."""
    from shared.declarations import settings_class
    from shared.runtime.settings import describe

    return {info.key: info.default for info in describe(settings_class(layer))}


def load_service_times(results: str = "") -> tuple[ServiceTimes, tuple[str, ...]]:
    path = Path(results) if results else latest_results()
    if path is None:
        return DEFAULT_SERVICE_TIMES, ("warning: no bench/results/*.json yet (run `invoke bench`): using the "
                                       "documented defaults measured on the 2-core development machine",)
    if not path.exists():
        raise CatalogError(f"--results {path}: no such file", "omit it to use the latest bench/results/*.json")
    full = path.resolve()
    shown = str(full.relative_to(REPO_ROOT)) if full.is_relative_to(REPO_ROOT) else str(path)
    return service_times_from_results(json.loads(path.read_text()), shown)


def capacity_text(workload: Workload, results: str = "") -> str:
    """The capacity model's report for `workload`, from a bench results file and the stacks' settings."""
    times, notes = load_service_times(results)
    stack = stack_config(settings_defaults)
    aws = AwsAssumptions()
    return capacity_report(workload, stack, times, model(workload, stack, times, aws), aws, (*notes, *stack.notes))
