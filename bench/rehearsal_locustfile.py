"""The rehearsal's shopper (`invoke rehearse`): the capacity model's shopper, for Locust in distributed mode.

Each shopper thinks `REHEARSAL_THINK_S` seconds on average between actions (uniform 0.5x-1.5x), picks browse, view
or reserve by the model's mix (`REHEARSAL_MIX`, e.g. "0.3,0.5,0.2") and carries its own bearer token: an RS256 JWT
with its own subject, signed with the rehearsal's test key (`REHEARSAL_KEY_FILE`, a PEM the task generated for this
run, or `REHEARSAL_KEY_PEM` on Fargate; never a production signing key). Every answer's status is counted; workers
send their counts to the master with their stats, and the master writes the totals to `REHEARSAL_STATUS_FILE` when
it quits.

`REHEARSAL_STATUS_FILE=-` (on Fargate, where the task reads the master's CloudWatch Logs stream back): the master
writes everything to its output instead of files, one tagged line each: `rehearsal-history` rows every second
(Locust's stats-history CSV columns, current percentiles, as `--csv-full-history` writes them),
`rehearsal-workers N` when the connected worker count changes, and when it quits `rehearsal-stats <i> <row>` (the
`_stats.csv` rows, numbered) and `rehearsal-statuses {...}`.

409 sold_out is the sale saying "gone", an expected answer. A 503 whose error is `overloaded` is load shed (one of
the API's bounds refused, Retry-After), counted under `<name>-shed`; any other 503 (`service_unavailable`: the
database or a dependency is not reachable) is a failure, counted under the request's own name.

The waiting room: when the sale SKU answers 428 `admission_pass_required` (or `REHEARSAL_QUEUED=1` says it is
queued) the shopper does what a client of the room does: joins (`POST .../queue`, counted `queue-join`), polls
(`GET .../queue` with `x-queue-ticket`, `queue-poll`) when Retry-After says, and only polls while it waits; once
admitted it reserves with `x-admission-pass`. One admission buys once: after a reservation with the pass (or the
room's sold out) its reserve actions become views. The discovering 428 is counted `reserve-queued`, not an error.
The room's own figures are flat counters without a space (`room:admitted`, `room:pass-refused`,
`room:wait-ds:<tenths of a second from join to the admitting answer>`), so they travel with the status counts.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import random
import resource
import sys
import time
import uuid
from collections import Counter
from typing import Any

import gevent
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from locust import FastHttpUser, events, runners, task
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV, get_readable_percentiles, sort_stats

# Workers send their stats to the master every second (Locust's default: 3 s), so the master's history, which the
# fault table reads (shared/ops/rehearsal_faults.py), places failures to the second.
runners.WORKER_REPORT_INTERVAL = 1.0

CATEGORIES = ("electronics", "books", "home", "toys", "garden", "sports", "fashion", "grocery")
SALE_SKU = os.environ.get("REHEARSAL_SALE_SKU", "SKU-000001")
THINK_S = float(os.environ.get("REHEARSAL_THINK_S", "5"))
BROWSE, VIEW, RESERVE = (float(x) for x in os.environ.get("REHEARSAL_MIX", "0.3,0.5,0.2").split(","))
ISSUER = os.environ.get("REHEARSAL_ISSUER", "http://localhost/catalog-rehearsal")
AUDIENCE = os.environ.get("REHEARSAL_AUDIENCE", "catalog-api")
QUEUED = os.environ.get("REHEARSAL_QUEUED", "") not in ("", "0")  # told: the sale SKU is behind the waiting room

_counts: Counter[str] = Counter()  # "<request name> <status>" -> answers (this process)
_totals: Counter[str] = Counter()  # master only: every worker's counts
_key: rsa.RSAPrivateKey | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(subject: str) -> str:
    global _key
    if _key is None:
        # On Fargate the key arrives as REHEARSAL_KEY_PEM (ECS injects it from Secrets Manager); locally as a file.
        pem = os.environ.get("REHEARSAL_KEY_PEM", "").encode()
        if not pem:
            with open(os.environ["REHEARSAL_KEY_FILE"], "rb") as f:
                pem = f.read()
        loaded = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(loaded, rsa.RSAPrivateKey)
        _key = loaded
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + 3600}
    signing_input = f"{_b64(json.dumps({'alg': 'RS256', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = _key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


@events.report_to_master.add_listener
def _send_counts(client_id: str, data: dict[str, Any]) -> None:
    data["rehearsal_status"] = dict(_counts)
    _counts.clear()


@events.worker_report.add_listener
def _receive_counts(client_id: str, data: dict[str, Any]) -> None:
    _totals.update(data.get("rehearsal_status", {}))


TO_LOG = os.environ.get("REHEARSAL_STATUS_FILE") == "-"
HISTORY_COLUMNS = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s",
                   *get_readable_percentiles(PERCENTILES_TO_REPORT), "Total Request Count", "Total Failure Count"]


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


def _history_rows(environment: Any, now: float) -> list[str]:
    """One row per request name and the aggregate, with the last seconds' percentiles (what the chart plots)."""
    stats, users = environment.stats, environment.runner.user_count
    return [_csv_line([int(now), users, entry.method or "", entry.name, f"{entry.current_rps:2f}",
                       f"{entry.current_fail_per_sec:2f}",
                       *(int(entry.get_current_response_time_percentile(p) or 0) for p in PERCENTILES_TO_REPORT),
                       entry.num_requests, entry.num_failures])
            for entry in [*sort_stats(stats.entries), stats.total]]


def _stream_to_log(environment: Any) -> None:
    """The master's side of `REHEARSAL_STATUS_FILE=-`: history rows each second, the worker count when it moves."""
    print(f"rehearsal-history-header {_csv_line(HISTORY_COLUMNS)}", flush=True)
    workers = -1
    while True:
        runner = environment.runner
        if runner.worker_count != workers:
            workers = runner.worker_count
            print(f"rehearsal-workers {workers}", flush=True)
        if runner.state in (STATE_SPAWNING, STATE_RUNNING):
            for row in _history_rows(environment, time.time()):
                print(f"rehearsal-history {row}", flush=True)
        gevent.sleep(1)


@events.init.add_listener
def _start_streaming(environment: Any, **_kwargs: Any) -> None:
    if TO_LOG and isinstance(environment.runner, MasterRunner):
        gevent.spawn(_stream_to_log, environment)


@events.quitting.add_listener
def _write_counts(environment: Any, **_kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        # What one worker spent driving its users: the task reads it to size workers (users per worker).
        usage = resource.getrusage(resource.RUSAGE_SELF)
        print(f"rehearsal-worker-cpu-seconds {usage.ru_utime + usage.ru_stime:.2f}", file=sys.stderr, flush=True)
    path = os.environ.get("REHEARSAL_STATUS_FILE")
    if path and not isinstance(environment.runner, WorkerRunner):
        totals = _totals if isinstance(environment.runner, MasterRunner) else _counts
        if path == "-":  # on Fargate: lines in the master's log, which the task reads back
            table = io.StringIO()
            StatsCSV(environment, PERCENTILES_TO_REPORT).requests_csv(csv.writer(table, lineterminator="\n"))
            for i, row in enumerate(table.getvalue().splitlines()):
                print(f"rehearsal-stats {i} {row}", flush=True)
            print(f"rehearsal-statuses {json.dumps(dict(totals))}", flush=True)
            return
        with open(path, "w") as f:
            json.dump(dict(totals), f)


def _error_code(res: Any) -> str:
    """The API's error code (`{"error": ...}`), or "" (no answer, not JSON)."""
    try:
        body = res.json()
    except Exception:  # no body, or not JSON: no code
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _retry_after(res: Any, body: dict[str, Any] | None = None) -> float:
    """When to ask again: the Retry-After header, else the body's retryAfterSeconds, else 1 s."""
    for value in (res.headers.get("retry-after") if res.headers else None, (body or {}).get("retryAfterSeconds")):
        try:
            return max(0.0, float(value))
        except (TypeError, ValueError):
            continue  # absent or not a number of seconds: the next source
    return 1.0


class Shopper(FastHttpUser):
    def wait_time(self) -> float:
        if self.waiting:  # in the queue: the next action is the poll Retry-After asked for
            return max(0.0, self.next_poll - time.monotonic())
        return random.uniform(0.5 * THINK_S, 1.5 * THINK_S)  # mean THINK_S, the capacity model's think time

    def on_start(self) -> None:
        self.auth = {"accept": "application/json", "authorization": f"Bearer {_token(f'shopper-{uuid.uuid4().hex}')}"}
        self.seen: list[str] = [SALE_SKU]
        self.queued = QUEUED  # the sale SKU is behind the waiting room (told, or learnt from a 428)
        self.ticket: str | None = None
        self.admission_pass: str | None = None
        self.joined_at = 0.0
        self.next_poll = 0.0
        self.room_done = False  # bought with its admission, or the room is closed: no more reservations

    @property
    def waiting(self) -> bool:
        return self.ticket is not None and self.admission_pass is None and not self.room_done

    def _count(self, name: str, status: int) -> None:
        _counts[f"{name} {status}"] += 1

    def _judge(self, name: str, res: Any, ok: tuple[int, ...]) -> str:
        """Count the answer (a 503 shed apart from a 503 failure), mark it in Locust; its error code."""
        code = _error_code(res) if res.status_code >= 400 else ""
        self._count(f"{name}-shed" if res.status_code == 503 and code == "overloaded" else name, res.status_code)
        if res.status_code in ok:
            res.success()
        else:
            res.failure(f"status {res.status_code}" + (f" {code}" if code else "")
                        + (f" ({res.error!r})" if not res.status_code else ""))
        return code

    @task
    def shop(self) -> None:
        if self.waiting:
            self.poll()
            return
        if self.admission_pass is not None and not self.room_done:
            self.reserve()  # admitted: buy (after the think time a shopper takes to click)
            return
        roll = random.random()
        if roll < BROWSE:
            self.browse()
        elif roll < BROWSE + VIEW:
            self.view()
        else:
            self.reserve()

    def browse(self) -> None:
        path = f"/api/products?category={random.choice(CATEGORIES)}&limit=20"
        with self.client.get(path, name="browse", headers=self.auth, catch_response=True) as res:
            self._judge("browse", res, (200,))
            if res.status_code == 200:
                items = (res.json() or {}).get("items", [])[:20]
                self.seen = [SALE_SKU, *(item["sku"] for item in items)]

    def view(self) -> None:
        sku = SALE_SKU if random.random() < 0.5 else random.choice(self.seen)
        with self.client.get(f"/api/products/{sku}", name="view", headers=self.auth, catch_response=True) as res:
            self._judge("view", res, (200,))

    def _standing(self, res: Any) -> None:
        """A join's or poll's 200/201: keep the ticket; admitted, keep the pass; else poll when told."""
        body = res.json() or {}
        self.ticket = body.get("ticket") or self.ticket
        if body.get("admitted") and body.get("pass"):
            self.admission_pass = str(body["pass"])
            _counts["room:admitted"] += 1
            _counts[f"room:wait-ds:{round((time.monotonic() - self.joined_at) * 10)}"] += 1
        else:
            self.next_poll = time.monotonic() + _retry_after(res, body)

    def join(self) -> None:
        with self.client.post(f"/api/products/{SALE_SKU}/queue", json={}, name="queue-join", headers=self.auth,
                              catch_response=True) as res:
            if self.ticket is None:
                self.joined_at = time.monotonic()
            code = self._judge("queue-join", res, (200, 201, 410))
            if res.status_code in (200, 201):
                self._standing(res)
            elif res.status_code == 410:  # sold out (the room is closed), or this shopper's turn is over
                self.room_done = True
            elif code == "not_queued":
                self.queued = False  # the room was taken off the SKU: reserve directly

    def poll(self) -> None:
        headers = {**self.auth, "x-queue-ticket": self.ticket or ""}
        with self.client.get(f"/api/products/{SALE_SKU}/queue", name="queue-poll", headers=headers,
                             catch_response=True) as res:
            code = self._judge("queue-poll", res, (200, 410))
            if res.status_code == 200:
                self._standing(res)
            elif res.status_code == 410:
                self.room_done = True
            elif code.startswith("queue_ticket"):
                self.ticket = None  # join again: the room answers the same ticket
            else:
                self.next_poll = time.monotonic() + _retry_after(res)

    def reserve(self) -> None:
        if self.room_done:
            self.view()  # bought with its admission, or the room is closed: a shopper looks on
            return
        if self.queued and self.admission_pass is None:
            if self.ticket is None:
                self.join()
            return
        body = {"quantity": 1, "idempotencyKey": f"rh-{uuid.uuid4().hex}"}
        headers = self.auth if self.admission_pass is None else {**self.auth, "x-admission-pass": self.admission_pass}
        for attempt in (1, 2):
            with self.client.post(f"/api/products/{SALE_SKU}/reservations", json=body, name="reserve",
                                  headers=headers, catch_response=True) as res:
                if res.status_code == 0 and attempt == 1:
                    # No answer (a kept-alive connection closed under us): retry once with the same idempotency
                    # key, as a shop's client does; the API grants it once whatever happened to the first try.
                    self._count("reserve-retried", 0)
                    res.success()
                    continue
                if res.status_code == 428 and self.admission_pass is None:
                    # The SKU is behind the waiting room: join it, as its client would (not an error).
                    self._count("reserve-queued", 428)
                    res.success()
                    self.queued = True
                    break
                code = self._judge("reserve", res, (200, 201, 409))
                if code.startswith("admission_pass"):
                    _counts["room:pass-refused"] += 1
                    self.room_done = True  # one ticket per shopper and SKU: there is no second admission
                elif self.admission_pass is not None and res.status_code in (200, 201, 409):
                    self.room_done = True  # the pass is spent (or nothing is left): one admission buys once
                return
        if self.queued and self.ticket is None:
            self.join()
