"""A sale's waiting room, planned: which SKUs shoppers queue for, how fast the room admits them and how many may
hold a pass at once, stored in the app stack's config (`catalog-app:waitingRoom*`) by `invoke sale plan
--waiting-room SKU-1,SKU-2`. Pure logic; `shared/ops/sale.py` calls it.

The admission rate comes from the capacity model (`shared/ops/capacity.py`): half of `Capacity.sku_selling_rps`,
the rate one SKU sells at with the stock shards the plan sets (shards x the measured one-row rate `hot_row_tps`
from the bench's pgbench on ONE SKU, capped by what the proxy's connections carry, `proxy_writes_capacity`), and
with several SKUs behind the room each gets at most half of its share of those connections. Half leaves room for
what the model does not see (retries, other SKUs' reservations, a slower day); the API lowers it further on live
congestion (its AIMD). Max active: 20 s of admissions (the API's defaults' ratio, 1000 at 50/s): shoppers admitted
but not yet buying never hold more than that.

Lifecycle: the room opens for joins at the next `invoke up --layer app` (a pre-queue, admitted in random order at
the start), admits from the sale's start (`waitingRoomStartsAt`) and ends with the window (`waitingRoomEndsAt`):
from then the API sells its SKUs without a pass, and the controller's schedule stops one pass lifetime later. One
room at a time: a later plan replaces a room whose sale is over (a plan without --waiting-room clears it) and
refuses to replace one still ahead or under way.

Warranted or not: the room is for arrivals the rows cannot sell. `assess` compares the model's reservation
arrivals with the selling rate and the admission rate and says when the room would only slow a SKU down.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

from shared.ops.capacity import Capacity
from shared.runtime import waiting_room as room
from shared.runtime.errors import CatalogError
from shared.runtime.sale_windows import SaleWindow, iso, parse_utc

HEADROOM = 0.5  # admit at half the modelled selling rate
ACTIVE_SECONDS = 20  # max active = this many seconds of admissions


def parse_room(text: str) -> tuple[str, ...]:
    return room.parse_skus(text)


def check_room(skus_in_room: tuple[str, ...], sale_skus: tuple[str, ...]) -> None:
    """Every room SKU is one of the sale's --sku (its shards are planned there), listed once."""
    if len(set(skus_in_room)) != len(skus_in_room):
        raise CatalogError("--waiting-room lists a SKU twice", "each SKU once: --waiting-room SKU-000123,SKU-000456")
    outside = [s for s in skus_in_room if s not in sale_skus]
    if outside:
        raise CatalogError(
            f"--waiting-room {outside[0]} is not a --sku of this sale",
            f"add --sku {outside[0]} (its stock shards are planned with it) or leave it out of the room",
        )


def admit_per_second(c: Capacity, skus_in_room: int) -> int:
    """Half the modelled one-SKU selling rate, each room SKU within its share of the proxy's write capacity."""
    per_sku = min(c.sku_selling_rps, c.proxy_writes_capacity / max(1, skus_in_room))
    lo, hi = room.ADMIT_RANGE
    return max(lo, min(hi, math.floor(per_sku * HEADROOM)))


def room_config(c: Capacity, skus_in_room: tuple[str, ...], start_iso: str, end_iso: str) -> dict[str, str]:
    """The app stack's `waitingRoom*` keys for this sale (empty when no SKU is behind the room)."""
    if not skus_in_room:
        return {}
    rate = admit_per_second(c, len(skus_in_room))
    max_active = max(room.MAX_ACTIVE_RANGE[0], min(room.MAX_ACTIVE_RANGE[1], rate * ACTIVE_SECONDS))
    return {
        room.SKUS_KEY: ",".join(skus_in_room),
        room.ADMIT_KEY: str(rate),
        room.MAX_ACTIVE_KEY: str(max_active),
        room.STARTS_AT_KEY: start_iso,
        room.ENDS_AT_KEY: end_iso,
    }


def assess(c: Capacity, skus_in_room: int, admit: int) -> tuple[str, ...]:
    """The numbers that say whether the room is warranted, and a warning when it only slows the SKU down.
    Arrivals: the model's reservations/s for one SKU (each sale SKU is sized as if it took them all)."""
    arrivals, selling = c.reserve_rps, min(c.sku_selling_rps, c.proxy_writes_capacity / max(1, skus_in_room))
    lines = [
        f"waiting room: {arrivals:,.0f} reservations/s arrive per SKU (capacity model, steady state), its "
        f"rows sell {selling:,.0f}/s, the room admits {admit:,}/s"
    ]
    if selling >= arrivals and admit < arrivals:
        lines.append(
            f"the room slows this SKU: its rows sell all {arrivals:,.0f}/s that arrive, the room admits "
            f"{admit:,}/s; keep it only for a burst at the doors opening above the steady-state model "
            "(else leave --waiting-room out)"
        )
    elif admit >= arrivals:
        lines.append(f"the room is not needed: it admits {admit:,}/s, at least the {arrivals:,.0f}/s that arrive")
    return tuple(lines)


def describe(config: Mapping[str, str]) -> str:
    return (
        f"{config[room.SKUS_KEY]}: {config[room.ADMIT_KEY]}/s per SKU, at most {config[room.MAX_ACTIVE_KEY]} "
        f"holding a pass, until {config[room.ENDS_AT_KEY]}"
    )


def steady(current: Mapping[str, str]) -> str:
    skus = current.get(room.SKUS_KEY, "")
    return f"{skus} (started {current.get(room.STARTS_AT_KEY) or 'at once'})" if skus else "no room"


def cleared() -> dict[str, str]:
    """What a cancel (or a plan after the room's sale) stores: no SKU, no start, no end."""
    return {room.SKUS_KEY: "", room.STARTS_AT_KEY: "", room.ENDS_AT_KEY: ""}


def over(current: Mapping[str, str], app_windows: tuple[SaleWindow, ...], now: datetime) -> bool:
    """The stored room's sale is over: its end has passed, or (a room stored without an end) no declared window
    that has not ended starts at its start. A room set by hand (no start, no end) is never over."""
    if not current.get(room.SKUS_KEY):
        return True
    ends_at, starts_at = current.get(room.ENDS_AT_KEY), current.get(room.STARTS_AT_KEY)
    if ends_at:
        return parse_utc(ends_at) <= now
    if starts_at:
        return not any(w.start == parse_utc(starts_at) and not w.ended(now) for w in app_windows)
    return False


def to_store(
    current: Mapping[str, str], planned: Mapping[str, str], app_windows: tuple[SaleWindow, ...], now: datetime
) -> dict[str, str]:
    """The `waitingRoom*` keys a new plan writes: its room (or cleared keys) over a room whose sale is over; nothing
    over another sale's room still ahead or under way (refused when the plan brings a room of its own)."""
    if over(current, app_windows, now):
        return dict(planned) or (cleared() if current.get(room.SKUS_KEY) else {})
    if planned:
        raise CatalogError(
            f"the waiting room for {current.get(room.SKUS_KEY)} (from {current.get(room.STARTS_AT_KEY) or 'now'} to "
            f"{current.get(room.ENDS_AT_KEY) or 'no end'}) is still ahead or under way; one room at a time",
            "plan this sale's room after that one ends, or remove it first (`invoke sale cancel --suffix <suffix> "
            '--start <UTC>` for its sale, or set catalog-app:waitingRoomSkus to "" and `invoke up --layer app '
            '--suffix <suffix>`)',
        )
    return {}


def belongs_to(current: Mapping[str, str], start: datetime) -> bool:
    """The stored room is the one planned for the sale starting at `start`."""
    return bool(current.get(room.SKUS_KEY)) and current.get(room.STARTS_AT_KEY) == iso(start)
