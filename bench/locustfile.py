"""Flash-sale scenario for Locust (`invoke loadtest`): shoppers browse a category, view products (the sale SKU
half of the time) and try to reserve the sale SKU. 409 sold_out is an expected answer, not a failure.

Environment (set by the task): CATALOG_SALE_SKU, CATALOG_API_KEY (x-api-key, API Gateway usage plans),
CATALOG_TOKEN (bearer token: CloudFront's edge function checks it on writes), CATALOG_MAX_REQUESTS (the run
stops itself after that many requests, whatever --run-time says).
"""

from __future__ import annotations

import itertools
import os
import random
import uuid

import gevent
from locust import HttpUser, between, events, task

CATEGORIES = ("electronics", "books", "home", "toys", "garden", "sports", "fashion", "grocery")
SALE_SKU = os.environ.get("CATALOG_SALE_SKU", "SKU-000001")
MAX_REQUESTS = int(os.environ.get("CATALOG_MAX_REQUESTS", "30000"))
_sent = itertools.count(1)
_environment = None


@events.request.add_listener
def _stop_after_max_requests(**_kwargs: object) -> None:
    if next(_sent) == MAX_REQUESTS:
        runner = _environment.runner if _environment else None
        if runner is not None:
            print(f"loadtest: {MAX_REQUESTS} requests sent, stopping")
            gevent.spawn(runner.quit)  # not from this user's greenlet, which quit() kills


@events.init.add_listener
def _keep_environment(environment, **_kwargs: object) -> None:  # type: ignore[no-untyped-def]
    global _environment
    _environment = environment


class Shopper(HttpUser):
    wait_time = between(1, 5)  # think time; the capacity model's default is 5 s

    def on_start(self) -> None:
        self.client.headers["accept"] = "application/json"
        if os.environ.get("CATALOG_API_KEY"):
            self.client.headers["x-api-key"] = os.environ["CATALOG_API_KEY"]
        if os.environ.get("CATALOG_TOKEN"):
            self.client.headers["authorization"] = f"Bearer {os.environ['CATALOG_TOKEN']}"
        self.seen: list[str] = [SALE_SKU]

    @task(3)
    def browse(self) -> None:
        category = random.choice(CATEGORIES)
        with self.client.get(f"/api/products?category={category}&limit=20", name="/api/products?category",
                             catch_response=True) as res:
            if res.status_code == 200:
                self.seen = [SALE_SKU, *(item["sku"] for item in res.json().get("items", [])[:20])]
                res.success()

    @task(5)
    def view(self) -> None:
        sku = SALE_SKU if random.random() < 0.5 else random.choice(self.seen)
        self.client.get(f"/api/products/{sku}", name="/api/products/{sku}")

    @task(2)
    def reserve(self) -> None:
        body = {"quantity": 1, "idempotencyKey": f"lt-{uuid.uuid4().hex}"}
        with self.client.post(f"/api/products/{SALE_SKU}/reservations", json=body,
                              name="/api/products/{sku}/reservations", catch_response=True) as res:
            if res.status_code in (200, 201, 409):  # 409 sold_out: the sale is over, the API said so
                res.success()
            else:
                res.failure(f"status {res.status_code}")
