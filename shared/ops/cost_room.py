"""What a sale's waiting room costs, on top of the sale window: priced from the sale plan's room (`invoke sale plan
--waiting-room`, the same numbers) and the dated price table. Pure; `shared/ops/cost_plan.py` calls it.

- The controller: EventBridge Scheduler invokes it once a minute while its schedule runs (from the start less
  `CONTROLLER_LEAD` to the end plus one pass lifetime, the schedule's StartDate/EndDate), and each run loops for
  about `CONTROLLER_RUN_S` at `CONTROLLER_MEMORY_MB` (on demand, arm64): invocations, requests, GB-seconds, and its
  DynamoDB reads and writes per step.
- The shoppers (the capacity model's users, split over the room's SKUs): one ticket write each (the item and its
  `queue` index entry), one admission (a consistent read of the ticket, a transactional update), and their polls
  of `GET .../queue` through CloudFront to the API, each answered with `Retry-After` = half the estimated wait
  (1-30 s); the room's state each poll needs is read at most once a second per API environment and SKU, and
  `GET .../queue/state` is served from CloudFront's cache (one origin fetch a second per regional edge cache).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.ops.cost import EVENTUALLY_CONSISTENT_RRU, Line, PriceTable, priced
from shared.runtime import waiting_room as room

CONTROLLER_STEPS_PER_S = 4.0  # the controller's default step, 250 ms (src/waiting-room-controller.mjs)
REGIONAL_EDGE_CACHES = 13  # without Origin Shield each fetches the cached state on its own (capacity.py's count)


@dataclass(frozen=True)
class RoomUse:
    """DynamoDB units per operation, counted from src/waiting-room.mjs (each item <= 1 KB, reads <= 4 KB)."""

    step_read_units: float = 2 + 32 * EVENTUALLY_CONSISTENT_RRU  # sold-out mark + state (consistent), 16 load
    # items and 16 queue partitions (eventually consistent, one page each)
    step_write_units: float = 2.0  # the state item under its version check (milestones make it ~2 KB)
    join_write_units: float = 2.0  # the ticket and its `queue` index entry
    admission_read_units: float = 1.0  # the pass's ticket, read consistently
    admission_write_units: float = 3.0  # a transactional update (2 units) and its index entry

    def lines(self) -> list[str]:
        return [
            f"waiting room: a controller step reads {self.step_read_units:g} and writes {self.step_write_units:g} "
            f"DynamoDB units per SKU; a shopper's join writes {self.join_write_units:g}, an admission reads "
            f"{self.admission_read_units:g} and writes {self.admission_write_units:g}"
        ]


def polls_per_shopper(wait_s: float) -> int:
    """Polls of `GET .../queue` until admitted: each answer's Retry-After is half the estimated wait, 1-30 s."""
    left, polls = wait_s, 1
    while left > 1:
        left -= min(30.0, max(1.0, left / 2))
        polls += 1
    return polls


@dataclass(frozen=True)
class RoomNumbers:
    skus: int
    admit_per_s: int
    pass_seconds: int
    users: int
    hours: float
    environments: int  # API execution environments reading the state (the window's provisioned concurrency)
    poll_ms: float  # one poll's Lambda duration (the capacity model's GET)
    api_memory_gb: float
    api_duration_key: str  # the price line of the API's duration on provisioned concurrency

    @property
    def schedule_s(self) -> float:
        return self.hours * 3600 + room.CONTROLLER_LEAD.total_seconds() + self.pass_seconds

    @property
    def mean_wait_s(self) -> float:
        """The middle of each SKU's line: its shoppers admitted in order at the rate, within the window."""
        return min(self.hours * 3600, self.users / self.skus / self.admit_per_s / 2)


def room_numbers(
    room_keys: Mapping[str, str],
    users: int,
    hours: float,
    environments: int,
    poll_ms: float,
    api_memory_gb: float,
    api_duration_key: str,
) -> RoomNumbers | None:
    """The priced room from the plan's `waitingRoom*` keys; None without a room."""
    skus = room.parse_skus(room_keys.get(room.SKUS_KEY, ""))
    if not skus:
        return None
    return RoomNumbers(
        len(skus),
        int(room_keys[room.ADMIT_KEY]),
        int(room_keys.get(room.PASS_KEY) or room.DEFAULT_PASS_SECONDS),
        users,
        hours,
        environments,
        poll_ms,
        api_memory_gb,
        api_duration_key,
    )


def room_lines(n: RoomNumbers, prices: PriceTable, use: RoomUse | None = None) -> list[Line]:
    use = use or RoomUse()
    runs = n.schedule_s / 60
    gb = room.CONTROLLER_MEMORY_MB / 1024
    window_s = n.hours * 3600
    polls = n.users * polls_per_shopper(n.mean_wait_s)
    admitted = min(n.users, n.admit_per_s * n.skus * window_s)
    state_reads = min(polls, n.environments * n.skus * window_s)
    lines = [
        priced(
            prices,
            "schedulerInvocations",
            "Waiting room",
            f"controller schedule, once a minute for {n.schedule_s / 3600:.2f} h (StartDate to EndDate)",
            runs / 1e6,
            "1M invocations",
        ),
        priced(prices, "lambdaRequests", "Waiting room", "controller invocations", runs / 1e6, "1M requests"),
        priced(
            prices,
            "lambdaArmGbSecond",
            "Waiting room",
            f"controller duration ({room.CONTROLLER_RUN_S} s of each minute x {room.CONTROLLER_MEMORY_MB} MB)",
            runs * room.CONTROLLER_RUN_S * gb,
            "GB-s",
        ),
        priced(
            prices,
            "dynamodbReadUnits",
            "Waiting room",
            f"controller reads ({CONTROLLER_STEPS_PER_S:g} steps/s x "
            f"{n.skus} SKU(s)) and the state per API environment ({n.environments}, once a second per SKU) and "
            "admissions",
            (
                runs * 60 * CONTROLLER_STEPS_PER_S * n.skus * use.step_read_units
                + state_reads * EVENTUALLY_CONSISTENT_RRU
                + admitted * use.admission_read_units
            )
            / 1e6,
            "1M read units",
        ),
        priced(
            prices,
            "dynamodbWriteUnits",
            "Waiting room",
            f"tickets ({n.users:,} shoppers), admissions ({admitted:,.0f}) and the controller's state",
            (
                n.users * use.join_write_units
                + admitted * use.admission_write_units
                + runs * 60 * CONTROLLER_STEPS_PER_S * n.skus * use.step_write_units
            )
            / 1e6,
            "1M write units",
        ),
        priced(
            prices,
            "cloudfrontHttpsRequests",
            "Waiting room",
            f"queue polls ({polls / n.users:.0f} a shopper, "
            f"mean wait {n.mean_wait_s:,.0f} s) and as many cached state reads",
            2 * polls / 10_000,
            "10,000 requests",
        ),
        priced(
            prices,
            "lambdaRequests",
            "Waiting room",
            "queue polls at the API, state fetches from the edge caches",
            (polls + REGIONAL_EDGE_CACHES * n.skus * window_s) / 1e6,
            "1M requests",
        ),
        priced(
            prices,
            n.api_duration_key,
            "Waiting room",
            f"queue polls' duration ({n.poll_ms:.1f} ms each)",
            polls * n.poll_ms / 1000 * n.api_memory_gb,
            "GB-s",
        ),
    ]
    return [line for line in lines if line.quantity > 0]
