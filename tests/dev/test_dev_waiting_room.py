"""`invoke dev` with the waiting room: scripts/dev.mjs creates the room's table in its moto server, makes the HMAC
key in its own process (never in argv nor a child's environment), runs the controller in the API's process, and
prints how to try it; the printed protocol works (join, poll with x-queue-ticket, reserve with x-admission-pass).
A bad room setting is one line and nothing is left running."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import shared.dev.tasks as dev_tasks
from shared.dev import node_env
from shared.runtime.layers import REPO_ROOT
from tests.support.tasks import run_invoke

API = REPO_ROOT / "containers" / "catalog-api"
SKU = "SKU-000002"

needs_api = pytest.mark.skipif(not (API / "node_modules").exists() or shutil.which("psql") is None,
                               reason="the API's dependencies (npm ci) and the local PostgreSQL")


def _call(url: str, token: str, method: str = "GET", body: dict[str, object] | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], dict[str, object]]:
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"authorization": f"Bearer {token}", "content-type": "application/json",
                                          "accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, dict(res.headers), json.loads(res.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


@contextlib.contextmanager
def dev_server(*args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    db = f"catalog_devroom_{os.getpid()}"
    env = {**node_env(), "MOTO_PYTHON": sys.executable, "DB_NAME": db, "LOG_LEVEL": "WARN"}
    for name in [k for k in env if k.startswith(("WAITING_ROOM_", "AUTH_", "DYNAMODB_"))]:
        env.pop(name)
    proc = subprocess.Popen(["node", "scripts/dev.mjs", "--port", "0", "--count", "20", *args], cwd=API, env=env,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("  reserve:"):
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        ready.wait(180)
        yield proc, lines
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c",
                        f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'], capture_output=True, check=False)


def _secret_nowhere_visible(pid: int) -> None:
    """The HMAC key is made inside dev.mjs: not in its argv nor environment, nor any child's (moto)."""
    children = subprocess.run(["pgrep", "-g", str(pid)], capture_output=True, text=True).stdout.split()
    for p in {str(pid), *children}:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            assert b"WAITING_ROOM_SECRET" not in Path(f"/proc/{p}/environ").read_bytes()
            assert b"WAITING_ROOM_SECRET" not in Path(f"/proc/{p}/cmdline").read_bytes()


@needs_api
def test_dev_serves_the_waiting_room_and_says_how_to_try_it() -> None:
    with dev_server("--waiting-room", SKU) as (proc, lines):
        assert proc.poll() is None, (lines, proc.stderr.read() if proc.stderr else "")
        url = next(line for line in lines if line.startswith("Catalog API ready at ")).split()[4]
        shopper = next(line for line in lines if line.startswith("export SHOPPER_TOKEN=")).split("=", 1)[1]
        assert f"export API={url}" in lines and any(line.startswith("export ADMIN_TOKEN=ey") for line in lines)
        said = "\n".join(lines)
        assert f"waiting room: {SKU} (table catalog-waiting-room-dev; the controller admits up to 50/s" in said
        assert f'-H "x-queue-ticket: $TICKET" {url}/api/products/{SKU}/queue' in said
        assert '-H "x-admission-pass: $PASS"' in said and f"{url}/api/products/{SKU}/reservations" in said
        _secret_nowhere_visible(proc.pid)

        base = f"{url}/api/products/{SKU}"
        order = {"quantity": 1, "idempotencyKey": "try-dev-room-1"}
        status, _, body = _call(f"{base}/reservations", shopper, "POST", order)
        assert (status, body["error"]) == (428, "admission_pass_required")
        status, headers, standing = _call(f"{base}/queue", shopper, "POST", {})
        assert status == 201 and standing["ticket"], standing
        deadline = time.time() + 30
        while not standing.get("admitted"):  # poll as Retry-After says: the controller runs in dev's API process
            assert time.time() < deadline, standing
            time.sleep(min(float(headers.get("Retry-After") or headers.get("retry-after") or 1), 2))
            ticket = {"x-queue-ticket": str(standing["ticket"])}
            status, headers, standing = _call(f"{base}/queue", shopper, headers=ticket)
            assert status == 200, standing
        status, _, reservation = _call(f"{base}/reservations", shopper, "POST", order,
                                       {"x-admission-pass": str(standing["pass"])})
        assert status == 201, reservation
        # A SKU not behind the room still sells directly.
        status, _, _ = _call(f"{url}/api/products/SKU-000003/reservations", shopper, "POST",
                             {"quantity": 1, "idempotencyKey": "try-dev-direct-1"})
        assert status == 201


@needs_api
def test_a_bad_room_setting_is_one_line_and_nothing_runs() -> None:
    with dev_server("--waiting-room", "not a sku!") as (proc, _lines):
        assert proc.wait(60) == 1
        assert proc.stderr is not None
        err = proc.stderr.read().strip().splitlines()
        assert err[0] == '[dev] Configuration error: WAITING_ROOM_SKUS holds "not a sku!", not a SKU', err
        assert not any("moto server on" in line or "Traceback" in line for line in err)


def test_the_task_passes_the_room_to_dev_mjs(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, str]] = []

    def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        env = kwargs["env"]
        assert isinstance(env, dict)
        seen.append(env)
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setattr(dev_tasks.subprocess, "run", run)  # node itself is not started
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert run_invoke("dev", "--port", str(port), "--waiting-room", SKU) == 0
    assert seen and seen[0]["WAITING_ROOM_SKUS"] == SKU and seen[0]["PORT"] == str(port)
