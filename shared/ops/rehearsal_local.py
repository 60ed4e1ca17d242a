"""`invoke rehearse --local`: the rehearsal end to end on this machine.

The local API (scripts/dev.mjs: PostgreSQL, moto, migrations, seed) in its own database and tables, trusting a
throw-away RSA key made for this run; the sale SKU restocked to `--stock` with an admin token signed by that key;
Locust as one master and N worker processes on loopback driving the capacity model's shopper; then the report and a
chart from Locust's CSV. Everything it starts is stopped, the key file removed, whatever happens.

With `--faults` (local names, shared/ops/rehearsal_faults.py) the API runs on a private PostgreSQL
(scripts/fault-postgres.mjs over scripts/killable-postgres.mjs: its own data directory and port; the shared server
on 5432 is never signalled) and a moto server this module starts, so a fault can kill -9 or SIGSTOP the one and
SIGSTOP the other on schedule; each fault's start and end are recorded and read against Locust's history.

With `--waiting-room` the API puts the sale SKU behind its waiting room (WAITING_ROOM_SKUS; scripts/dev.mjs creates
the room's table in the run's moto server, makes the HMAC key in its own process and runs the controller there);
the shoppers find it by its 428 and go through it as its clients do (bench/rehearsal_locustfile.py).

While Locust runs, a progress line every 10 s from the CSVs it writes each second: seconds on the run clock (from
Locust's first history row: the fault table's and the fault lines' clock), users, req/s, p99 so far, failures.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.ops.rehearsal import (
    Outcome,
    Rehearsal,
    parse_history,
    parse_stats,
    room_figures,
    statuses_by_type,
    worker_cpu_seconds,
)
from shared.ops.rehearsal_faults import FaultWindow, Injection, fault_windows, history_origin
from shared.ops.rehearsal_local_faults import FaultTargets, Schedule, free_port, start_targets
from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

LOCUSTFILE = REPO_ROOT / "bench" / "rehearsal_locustfile.py"
DEV_SCRIPT = REPO_ROOT / "containers" / "catalog-api" / "scripts" / "dev.mjs"
ISSUER = "http://localhost/catalog-rehearsal"
AUDIENCE = "catalog-api"
SALE_SKU = "SKU-000001"
READY = "Catalog API ready at "
PROGRESS_EVERY_S = 10.0
ROOM_DECIDED = ("WAITING_ROOM_SKUS", "WAITING_ROOM_TABLE", "WAITING_ROOM_SECRET", "WAITING_ROOM_SECRET_ARN",
                "WAITING_ROOM_STARTS_AT", "WAITING_ROOM_CONTROLLER_MS")


@dataclass(frozen=True)
class LocalRun:
    outcome: Outcome
    out_dir: Path
    chart: Path | None
    faults: tuple[FaultWindow, ...] = ()


def _test_key(directory: Path) -> tuple[Path, str]:
    """A throw-away RSA key for this run: private PEM in a 0600 file, public PEM returned for the API to trust."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = directory / "rehearsal-key.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return path, public


def _admin_token(key_file: Path) -> str:
    # The shopper module signs; loading it here keeps one signer (it only needs the key file in the environment).
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "rehearsal-admin", "role": "admin", "iat": now, "exp": now + 600}
    head = f"{b64(json.dumps({'alg': 'RS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{head}.{b64(key.sign(head.encode(), padding.PKCS1v15(), hashes.SHA256()))}"


def _call(url: str, token: str, method: str = "GET", body: dict[str, object] | None = None) -> dict[str, object]:
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as res:
        return dict(json.loads(res.read()))


def _start_api(env: dict[str, str], port: int, log: Path) -> tuple[subprocess.Popen[str], str]:
    node = shutil.which("node", path=env.get("PATH"))
    if node is None:
        raise CatalogError("node is not on PATH", "invoke install (Node.js 24)")
    proc = subprocess.Popen([node, str(DEV_SCRIPT), "--port", str(port), "--count", "200"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=log.open("w"), start_new_session=True)
    url: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(READY):
                url.append(line[len(READY):].split()[0])
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(180) or not url:
        _stop(proc)
        raise CatalogError(f"the local API did not start (log: {log})", "check `invoke dev` runs on this machine")
    return proc, url[0]


def _fresh_database(env: dict[str, str], say: Callable[[str], None]) -> None:
    """Drop the rehearsal's database so the run starts from the seed: holds left by an earlier run would expire
    and go back on sale after the restock, and the units sold would no longer add up to the stock."""
    psql = shutil.which("psql", path=env.get("PATH"))
    if psql is None:
        say("rehearse: psql not found: the database is reused (an earlier run's holds may add to the stock)")
        return
    name = env["DB_NAME"]
    host, port = env.get("DB_WRITER_HOST", "127.0.0.1"), env.get("DB_PORT", "5432")
    user = env.get("DB_MASTER_USER", "postgres")
    proc = subprocess.run([psql, "-h", host, "-p", port, "-U", user, "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                           "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
                          env={**env, "PGCONNECT_TIMEOUT": "5"}, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        say(f"rehearse: could not drop {name} ({proc.stderr.strip()[:200]}): the database is reused")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""  # not written yet


def progress_line(prefix: Path) -> str | None:
    """What Locust's CSVs say so far (it rewrites them every second): run-clock seconds, users, req/s now, p99 of
    the run so far, failures so far. None before the first history row."""
    history = parse_history(_read(Path(f"{prefix}_stats_history.csv")))
    if not history:
        return None
    now = history[-1]
    total = parse_stats(_read(Path(f"{prefix}_stats.csv"))).get("Aggregated")
    p99 = f"{total.p99_ms:,.0f} ms" if total is not None and total.count else "-"
    failures = total.failures if total is not None else now.failures_total
    return (f"rehearse: {now.t_s:5.0f} s  users {now.users:,}  {now.rps:,.0f} req/s  p99 so far {p99}  "
            f"failures {failures:,}")


def _wait_with_progress(master: subprocess.Popen[str], prefix: Path, timeout_s: float,
                        say: Callable[[str], None]) -> int:
    """Wait for the Locust master, saying how the run goes every PROGRESS_EVERY_S; its exit code."""
    deadline = time.time() + timeout_s
    next_line = time.time() + PROGRESS_EVERY_S
    while True:
        try:
            return master.wait(max(0.1, min(next_line, deadline) - time.time()))
        except subprocess.TimeoutExpired:
            if time.time() >= deadline:
                raise CatalogError("the Locust master did not finish in time",
                                   f"see {prefix.parent / 'master.log'}") from None
            line = progress_line(prefix)
            if line is not None:
                say(line)
            next_line += PROGRESS_EVERY_S


def _stop(proc: subprocess.Popen[str] | None, wait_s: float = 20) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: the API with the moto server it started
        proc.wait(wait_s)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def run_local(r: Rehearsal, out_dir: Path, say: Callable[[str], None] = print) -> LocalRun:
    """Run the rehearsal on loopback; return what the report needs (and where the CSVs and chart are)."""
    from shared.dev import node_env

    out_dir.mkdir(parents=True, exist_ok=True)
    secrets_dir = Path(tempfile.mkdtemp(prefix="rehearsal-"))
    api: subprocess.Popen[str] | None = None
    locusts: list[subprocess.Popen[str]] = []
    targets: FaultTargets | None = None
    schedule: Schedule | None = None
    try:
        key_file, public_pem = _test_key(secrets_dir)
        names = f"rehearsal-{r.suffix}"
        env = {**node_env(), "DB_NAME": f"catalog_{r.suffix.replace('-', '_')}_rehearsal",
               "SESSIONS_TABLE": f"catalog-sessions-{names}", "CACHE_TABLE": f"catalog-cache-{names}",
               "AUTH_ISSUER": ISSUER, "AUTH_AUDIENCE": AUDIENCE, "AUTH_PUBLIC_KEY_PEM": public_pem,
               "LOG_LEVEL": "WARN"}
        env.pop("AUTH_JWKS_URL", None)
        # The run decides whether and where the room is (--waiting-room), not the caller's shell; the room's tuning
        # (WAITING_ROOM_ADMIT_PER_SECOND, _MAX_ACTIVE, _PASS_SECONDS, _SLOW_MS) passes through to a room run.
        for name in [k for k in env if k.startswith("WAITING_ROOM_")]:
            if not r.waiting_room or name in ROOM_DECIDED:
                env.pop(name)
        if r.waiting_room:
            # dev.mjs creates this table in the run's moto server and makes the room's HMAC key in its own process.
            env.update({"WAITING_ROOM_SKUS": SALE_SKU, "WAITING_ROOM_TABLE": f"catalog-waiting-room-{names}"})
        if r.faults:
            targets = start_targets(env, out_dir)
            env.update(targets.env)
            say(f"rehearse: faults target a private PostgreSQL on 127.0.0.1:{targets.db_port} and a moto server on "
                f"127.0.0.1:{targets.moto_port}")
        else:
            _fresh_database(env, say)  # a faulted run's private server starts empty
        say(f"rehearse: starting the local API (log {out_dir / 'api.log'})")
        api, url = _start_api(env, free_port(), out_dir / "api.log")
        admin = _admin_token(key_file)
        _call(f"{url}/api/products/{SALE_SKU}/inventory", admin, "PUT",
              {"available": r.stock, "reason": "rehearsal restock"})
        say(f"rehearse: API at {url}, {SALE_SKU} restocked to {r.stock}"
            + (" and behind the waiting room" if r.waiting_room else ""))

        prefix = out_dir / "locust"
        status_file = out_dir / "statuses.json"
        w = r.workload
        shopper_env = {**os.environ, "REHEARSAL_KEY_FILE": str(key_file), "REHEARSAL_SALE_SKU": SALE_SKU,
                       "REHEARSAL_THINK_S": str(w.think_time_s), "REHEARSAL_MIX": f"{w.browse},{w.view},{w.reserve}",
                       "REHEARSAL_ISSUER": ISSUER, "REHEARSAL_AUDIENCE": AUDIENCE,
                       "REHEARSAL_STATUS_FILE": str(status_file)}
        master_port = free_port()
        locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING"]
        master = subprocess.Popen(
            [*locust, "--master", "--headless", "--master-bind-host", "127.0.0.1", "--master-bind-port",
             str(master_port), "--expect-workers", str(r.worker_count), "--expect-workers-max-wait", "60",
             "--host", url, "--users", str(r.users), "--spawn-rate", str(r.spawn_rate), "--run-time",
             f"{r.duration_s}s", "--stop-timeout", "5", "--csv", str(prefix), "--csv-full-history",
             "--only-summary"], env=shopper_env, text=True, stdout=(out_dir / "master.log").open("w"),
            stderr=subprocess.STDOUT, start_new_session=True)
        started = time.time()
        locusts.append(master)
        history_file = Path(f"{prefix}_stats_history.csv")
        if targets is not None:
            schedule = Schedule(targets, r.faults, say)
            schedule.start(started, lambda: history_origin(_read(history_file)))
        for i in range(r.worker_count):
            locusts.append(subprocess.Popen(
                [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port)],
                env=shopper_env, text=True, stdout=(out_dir / f"worker-{i}.log").open("w"), stderr=subprocess.STDOUT,
                start_new_session=True))
        say(f"rehearse: Locust master + {r.worker_count} worker(s), {r.users} users at {r.spawn_rate}/s for "
            f"{r.duration_s} s")
        code = _wait_with_progress(master, prefix, r.duration_s + 120, say)
        if code not in (0, 1):  # 1: some requests failed, which the report shows
            raise CatalogError(f"the Locust master exited {code}", f"see {out_dir / 'master.log'}")
        if schedule is not None:
            schedule.finish()
            if schedule.failed:
                raise CatalogError(f"a fault could not be played: {schedule.failed[0]}",
                                   f"see {out_dir / 'fault-postgres.log'}")
        for proc in locusts[1:]:  # workers quit with their master; their last line is the CPU they used
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(15)
        cpu = [worker_cpu_seconds((out_dir / f"worker-{i}.log").read_text()) for i in range(r.worker_count)]
        inventory = _call(f"{url}/api/products/{SALE_SKU}/inventory", admin)
        available = inventory.get("available")
        stats = parse_stats(Path(f"{prefix}_stats.csv").read_text())
        counts = json.loads(status_file.read_text()) if status_file.exists() else {}
        outcome = Outcome(stats=stats, statuses=statuses_by_type(counts), stock=r.stock,
                          available_after=available if isinstance(available, int) else None, users=r.users,
                          workers=r.worker_count, duration_s=r.duration_s,
                          worker_cpu_s=tuple(c for c in cpu if c is not None), room=room_figures(counts))
        chart = None
        history_text = history_file.read_text()
        history = parse_history(history_text)
        windows: tuple[FaultWindow, ...] = ()
        origin = history_origin(history_text)
        if schedule is not None and origin is not None:
            windows = tuple(fault_windows(history, [Injection(name, start - origin, end - origin)
                                                    for name, start, end in schedule.played]))
        if history:
            from shared.ops.rehearsal_chart import render

            chart = render(history, out_dir / "rehearsal.png", title=f"rehearsal {r.suffix}: {r.users:,} users")
        return LocalRun(outcome=outcome, out_dir=out_dir, chart=chart, faults=windows)
    finally:
        if schedule is not None:
            schedule.finish()
        for proc in locusts:
            _stop(proc, 10)
        _stop(api)
        if targets is not None:
            targets.stop()
        shutil.rmtree(secrets_dir, ignore_errors=True)
