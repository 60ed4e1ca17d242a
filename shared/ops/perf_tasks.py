"""Performance tasks: `bench` (API vs same-run baselines on loopback), `capacity` (the flash-sale model),
`loadtest` (Locust, headless) and `bench-synth` (how long planning every layer takes)."""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from invoke import Context, Exit

from shared.console import documented_task, refuse_clearly
from shared.dev import NODE_VERSION, installed_version, node_env
from shared.ops.capacity import Workload
from shared.ops.perf_report import RESULTS_DIR, capacity_text
from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

BENCH_DIR = REPO_ROOT / "bench"
CHART = REPO_ROOT / "docs" / "latency-vs-load.png"
INSTALL_BENCH = "pip install -e '.[bench]'"


def _missing(what: str, fix: str) -> Exit:
    return Exit(f"{what} is not installed: {fix}", code=2)


def _require_python(module: str, name: str | None = None) -> None:
    if importlib.util.find_spec(module) is None:
        raise _missing(name or module, INSTALL_BENCH)


@documented_task(
    help={
        "duration": "seconds per measured load run (default 6)",
        "chart": "also sweep 10-400 connections and render docs/latency-vs-load.png",
        "cases": "comma-separated subset of hot,db,flash,openloop,cold,deps (default all); "
                 "faults, waitingroom: on request only",
        "quick": "short runs (2 s, 3 cold starts): a smoke test of the harness, not numbers to publish",
        "profile": "write V8 CPU profiles of the API server (hot read, database read, flash sales) and summarise "
                   "where the time goes",
        "write_dynamo_cache": "flash sale with the DynamoDB cache tier on (moto: a Python emulator on the same cores)",
    }
)
def bench(c: Context, duration: int = 6, chart: bool = False, cases: str = "", quick: bool = False,
          profile: bool = False, write_dynamo_cache: bool = False) -> None:
    """Benchmark the API on loopback against same-run baselines (bare node:http, pgbench); JSON in bench/results/."""
    if installed_version() != NODE_VERSION:
        raise _missing(f"Node.js {NODE_VERSION}", "invoke install")
    if not (BENCH_DIR / "node_modules" / "autocannon").exists():
        raise _missing("autocannon", "cd bench && npm ci (or `invoke install`)")
    if not (REPO_ROOT / "containers" / "catalog-api" / "node_modules").exists():
        raise _missing("the API's dependencies", "cd containers/catalog-api && npm ci (or `invoke install`)")
    if not Path(os.environ.get("PGBENCH", "/usr/bin/pgbench")).exists() and shutil.which("pgbench") is None:
        raise _missing("pgbench", "apt-get install postgresql-contrib (or set PGBENCH)")
    _require_python("moto", "moto (DynamoDB stand-in)")
    if chart:
        _require_python("matplotlib")
    args = ["node", str(BENCH_DIR / "run.mjs"), "--duration", str(2 if quick else duration)]
    if quick:
        args += ["--cold-runs", "3", "--sale-requests", "5000", "--sweep-duration", "2"]
    if cases:
        args += ["--cases", cases]
    if chart:
        args.append("--chart")
    if write_dynamo_cache:
        args.append("--write-dynamo-cache")
    profile_dir = RESULTS_DIR / "profiles" / time.strftime("%Y%m%dT%H%M%S")
    if profile:
        profile_dir.mkdir(parents=True, exist_ok=True)
        args += ["--cpu-prof-dir", str(profile_dir)]
    env = {**node_env(), "MOTO_PYTHON": sys.executable}
    proc = subprocess.run(args, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise Exit(f"bench failed (exit {proc.returncode}); see the output above", code=1)
    path = Path(proc.stdout.strip().splitlines()[-1])
    results = json.loads(path.read_text())
    from shared.ops.perf_report import bench_report, render_chart

    print()
    print(bench_report(results))
    print(f"\nresults: {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
    if chart:
        print(f"chart: {render_chart(results, CHART).relative_to(REPO_ROOT)}")
    if profile:
        for prof in sorted(profile_dir.glob("*.cpuprofile")):
            print(f"\nCPU profile {prof.relative_to(REPO_ROOT)}:")
            subprocess.run(["node", str(BENCH_DIR / "profile-summary.mjs"), str(prof), "--top", "15"], env=env,
                           check=False)


@documented_task(
    help={
        "users": "concurrent users (default 50000)",
        "think_time": "seconds each user waits between requests (default 5)",
        "edge_hit_ratio": "share of GETs CloudFront answers (0-0.99); default: derived from the micro-cache TTL",
        "cacheable_urls": "distinct GET URLs during the sale (default 1000)",
        "stock": "units of the flash SKU (default 500)",
        "results": "bench results JSON (default: the latest in bench/results/)",
    }
)
@refuse_clearly
def capacity(c: Context, users: int = 50_000, think_time: float = 5.0, edge_hit_ratio: str = "",
             cacheable_urls: int = 1_000, stock: int = 500, results: str = "") -> None:
    """Capacity model for the flash sale (Little's law) from measured service times and the stacks' settings."""
    try:
        ratio = float(edge_hit_ratio) if edge_hit_ratio.strip() else None
    except ValueError:
        raise CatalogError(f"--edge-hit-ratio {edge_hit_ratio!r} is not a number", "e.g. 0.9") from None
    print(capacity_text(Workload(users=users, think_time_s=think_time, cacheable_urls=cacheable_urls, stock=stock,
                                 edge_hit_ratio=ratio), results))


def _loopback(host_url: str) -> bool:
    hostname = urlparse(host_url).hostname or ""
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


@documented_task(
    help={
        "host": "base URL, e.g. http://127.0.0.1:3000 (a remote URL needs --allow-remote)",
        "users": "simulated users (default 50)",
        "spawn_rate": "users started per second (default 10)",
        "run_time": "how long, e.g. 30s, 5m (default 30s; at most 1h)",
        "api_key": "x-api-key header (API Gateway usage plans)",
        "token": "bearer token for writes through CloudFront (JWT checked at the edge)",
        "sale_sku": "SKU the flash sale reserves (default SKU-000001)",
        "max_requests": "stop after this many requests (default users x 600)",
        "allow_remote": "allow a non-loopback host: only for your own deployment",
    }
)
def loadtest(c: Context, host: str, users: int = 50, spawn_rate: float = 10, run_time: str = "30s",
             api_key: str = "", token: str = "", sale_sku: str = "SKU-000001", max_requests: int = 0,
             allow_remote: bool = False) -> None:
    """Locust flash-sale scenario (browse, view, reserve), headless, bounded in time and requests."""
    if not host.startswith(("http://", "https://")):
        raise Exit(f"--host {host!r}: expected http(s)://host[:port]", code=2)
    if not _loopback(host) and not allow_remote:
        raise Exit(f"--host {host}: not a loopback address; pass --allow-remote for your own deployment", code=2)
    if users < 1 or spawn_rate <= 0:
        raise Exit("--users must be >= 1 and --spawn-rate > 0", code=2)
    seconds = _duration_seconds(run_time)
    _require_python("locust")
    env = {**os.environ, "CATALOG_API_KEY": api_key, "CATALOG_TOKEN": token, "CATALOG_SALE_SKU": sale_sku,
           "CATALOG_MAX_REQUESTS": str(max_requests or users * 600)}
    args = [sys.executable, "-m", "locust", "-f", str(BENCH_DIR / "locustfile.py"), "--headless", "--host", host,
            "--users", str(users), "--spawn-rate", str(spawn_rate), "--run-time", f"{seconds}s", "--stop-timeout",
            "10", "--only-summary"]
    code = subprocess.run(args, env=env, check=False, timeout=seconds + 120).returncode
    if code not in (0, 1):  # locust exits 1 when some requests failed: the summary shows them
        raise Exit(f"locust exited {code}", code=code)


def _duration_seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        seconds = int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
    except (ValueError, IndexError, KeyError):
        raise Exit(f"--run-time {text!r}: expected e.g. 30s, 5m, 1h", code=2) from None
    if not 1 <= seconds <= 3600:
        raise Exit(f"--run-time {text!r}: between 1 s and 1 h", code=2)
    return seconds


@documented_task(help={"runs": "how many full plans to time (default 3)", "suffix": "suffix planned (default perf)"})
@refuse_clearly
def bench_synth(c: Context, runs: int = 3, suffix: str = "perf") -> None:
    """Time `invoke synth`'s planning of every existing layer (plan_chain), a few times: min and median."""
    from shared.plan import offline_config, plan_chain
    from shared.runtime.naming import validate_suffix

    validate_suffix(suffix)
    config, secret_keys = offline_config({})
    times: list[float] = []
    for run in range(1, max(1, runs) + 1):
        started = time.perf_counter()
        plans = plan_chain(suffix, config, secret_keys=secret_keys)
        times.append(time.perf_counter() - started)
        per_layer = ", ".join(f"{name} {plan.seconds:.1f} s" for name, plan in plans.items())
        print(f"run {run}: {times[-1]:.1f} s ({per_layer})")
    goal = 20.0
    print(f"full plan of {len(plans)} layers: min {min(times):.1f} s, median {statistics.median(times):.1f} s "
          f"(goal < {goal:.0f} s on 2 cores: {'met' if statistics.median(times) < goal else 'MISSED'})")
