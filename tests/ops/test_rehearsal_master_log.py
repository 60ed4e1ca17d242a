"""The contract between the Fargate master and the task that reads its log: the real locustfile, run as Locust
master + worker processes with `REHEARSAL_STATUS_FILE=-` (as projects/rehearsal starts them) against a small HTTP
stand-in of the API, writes lines that `MasterLog` turns back into the CSVs a local run reads from files."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.ops.rehearsal import parse_stats, statuses_by_type
from shared.ops.rehearsal_local import LOCUSTFILE, _test_key
from shared.ops.rehearsal_log import MasterLog


class Api(BaseHTTPRequestHandler):
    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._send(200, {"items": [{"sku": "SKU-000002"}]} if "?" in self.path else {"sku": "SKU-000001"})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self._send(201, {"reservationId": "r"})

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_master_writes_its_csvs_and_totals_to_its_log(api: str, tmp_path: Path) -> None:
    key_file, _public = _test_key(tmp_path)
    port = _port()
    env = {"PATH": "/usr/bin:/bin", "REHEARSAL_KEY_FILE": str(key_file), "REHEARSAL_THINK_S": "0.2",
           "REHEARSAL_STATUS_FILE": "-", "LOCUST_MASTER_NODE_HOST": "127.0.0.1"}
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING"]
    master = subprocess.Popen([*locust, "--master", "--headless", "--expect-workers", "1", "--expect-workers-max-wait",
                               "60", "--users", "4", "--spawn-rate", "4", "--run-time", "4s", "--stop-timeout", "2",
                               "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port), "--only-summary",
                               "--json", "--host", api], env=env, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    worker = subprocess.Popen([*locust, "--worker", "--master-port", str(port)], env=env, text=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out, _ = master.communicate(timeout=90)
    finally:
        for proc in (master, worker):
            if proc.poll() is None:
                proc.kill()
        worker.wait(10)
    log = MasterLog()
    for line in out.splitlines():
        log.feed(line)
    assert log.finished and "rehearsal-workers 1" in log.lines, out[-2000:]
    stats = parse_stats(log.stats_csv())
    assert {"browse", "view", "reserve", "Aggregated"} <= set(stats), log.stats_csv()
    assert stats["Aggregated"].count == sum(s.count for n, s in stats.items() if n != "Aggregated") > 10
    history = log.history()
    assert len(history) >= 2 and history[0].t_s == 0 and history[-1].users == 4, log.history_csv()
    assert log.started_at() is not None
    # The shoppers' own counts reached the master and came out in its last line.
    statuses = statuses_by_type(log.statuses or {})
    assert sum(sum(by.values()) for by in statuses.values()) == stats["Aggregated"].count
    assert set(statuses["reserve"]) == {201}
