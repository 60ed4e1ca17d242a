"""The waiting room on the dashboard and in alarms (the API's WaitingRoom* metrics, containers/catalog-api
src/metrics-contract.json, written by the controller function and the reservation gate).

- Row: queue length (largest queued SKU, and one line per SKU), admitted per second, wait p50/p90 (one value per
  admitted shopper), admission passes refused at the reservation gate, the controller's invocations and errors.
- Alarm "queue stops draining": for 3 consecutive minutes some SKU has shoppers waiting (WaitingRoomQueued maximum
  > 0) and nobody is admitted (WaitingRoomAdmitted sum == 0). The expression returns the minute's time (EPOCH) when
  that holds and 0 otherwise, and the threshold is the room's start instant (0 without one): before
  `waitingRoomStartsAt` the room holds a pre-queue and admits nobody by design, so those minutes never breach.
  Missing data (no room, no controller run) is not breaching: the controller's own errors alarm covers a failing
  controller, the dashboard row an absent one.
- Alarm "controller errors": the controller function failed (it throws only when every step of its run failed).
"""

from __future__ import annotations

from typing import Any

from projects.observability.metrics import Metric, MetricContract
from projects.observability.widgets import Expression, Line, MetricWidget, Row, Search
from shared.runtime.sale_windows import parse_utc

QUEUED, ADMITTED, WAIT, REFUSED = (
    "WaitingRoomQueued",
    "WaitingRoomAdmitted",
    "WaitingRoomWaitSeconds",
    "WaitingRoomPassRefused",
)
METRICS = (QUEUED, ADMITTED, WAIT, REFUSED)
NOT_DRAINING = "IF(m0 > 0 AND FILL(m1, 0) == 0, EPOCH(m0), 0)"
STUCK_MINUTES = 3


def in_contract(contract: MetricContract) -> bool:
    return all(m in contract.metrics for m in METRICS)


def start_epoch(starts_at: str) -> int:
    """The room's start as epoch seconds (the alarm's threshold); 0 when no start is set (admitting at once)."""
    return int(parse_utc(starts_at).timestamp()) if starts_at else 0


def not_draining_inputs(contract: MetricContract, service: Any) -> tuple[Metric, Metric]:
    svc = {contract.service_dimension: service}
    return (Metric(contract.namespace, QUEUED, svc, "Maximum"), Metric(contract.namespace, ADMITTED, svc, "Sum"))


def waiting_room_row(contract: MetricContract, service: str, controller_function: str) -> Row:
    ns, svc = contract.namespace, {contract.service_dimension: service}
    sku_dim = "sku"
    fn = {"FunctionName": controller_function}
    return Row(
        "Waiting room",
        "Queued SKUs only (catalog-app:waitingRoomSkus). Admission runs once a minute in the "
        f"controller `{controller_function}`; alarm: queue stops draining ({STUCK_MINUTES} min).",
        (
            MetricWidget(
                "Queue length (shoppers waiting)",
                (
                    Line(Metric(ns, QUEUED, svc, "Maximum", label="largest SKU queue")),
                    Search(Metric(ns, QUEUED, svc, "Maximum"), (contract.service_dimension, sku_dim), "q1"),
                ),
            ),
            MetricWidget(
                "Admitted per second",
                (
                    Line(Metric(ns, ADMITTED, svc), id="a", visible=False),
                    Expression("a / PERIOD(a)", "admitted/s", "e1"),
                ),
            ),
            MetricWidget(
                "Wait before admission (s): p50 / p90",
                tuple(Line(Metric(ns, WAIT, svc, p, label=p)) for p in ("p50", "p90")),
                y_label="s",
            ),
            MetricWidget(
                "Passes refused at the reservation (per minute)", (Line(Metric(ns, REFUSED, svc, label="refused")),)
            ),
            MetricWidget(
                "Controller runs and errors (per minute)",
                (
                    Line(Metric("AWS/Lambda", "Invocations", fn, label="invocations")),
                    Line(Metric("AWS/Lambda", "Errors", fn, label="errors")),
                ),
            ),
        ),
    )
