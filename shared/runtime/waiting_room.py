"""The waiting room's deploy-time rules, in one place: what the app layer gives the API and the controller
(containers/catalog-api/src/waiting-room-config.mjs reads the same ranges), what the guardrails hold the controller
function to, and what `invoke sale plan --waiting-room` may store. The API owns the behaviour; this owns the numbers
the platform passes it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.runtime.sale_windows import iso, parse_utc
from shared.runtime.settings import require

# The controller: the API's image with another command. EventBridge Scheduler starts it once a minute; each run
# advances the room for about 55 s, so one run at a time (two during a hand-over) is all it ever needs.
CONTROLLER_HANDLER = "src/waiting-room-controller.handler"
CONTROLLER_SCHEDULE = "rate(1 minute)"
CONTROLLER_TIMEOUT_S = 60
CONTROLLER_RUN_S = 55  # how long each run loops (RUN_MS in src/waiting-room-controller.mjs): what it bills
CONTROLLER_RESERVED_CONCURRENCY = 2
# A DynamoDB loop, not the request path: 512 MB instead of the API's 3 GB. It runs ~55 s of every minute, so at 3 GB
# it would bill six times the GB-seconds for CPU it never uses.
CONTROLLER_MEMORY_MB = 512

SKUS_KEY = "waitingRoomSkus"
ADMIT_KEY = "waitingRoomAdmitPerSecond"
MAX_ACTIVE_KEY = "waitingRoomMaxActive"
PASS_KEY = "waitingRoomPassSeconds"
STARTS_AT_KEY = "waitingRoomStartsAt"
ENDS_AT_KEY = "waitingRoomEndsAt"
# The controller's schedule runs from this long before the start (the pre-queue's state is current when the doors
# open) until the last pass handed out at the end has expired.
CONTROLLER_LEAD = timedelta(minutes=5)
# EventBridge Scheduler refuses a StartDate more than 5 minutes in the past ("The StartDate you specify cannot be
# earlier than 5 minutes ago"): a date closer to now than this margin is left out (the schedule runs at once).
START_DATE_MARGIN = timedelta(minutes=1)
# As the API validates them (waiting-room-config.mjs): the defaults and the accepted ranges.
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
DEFAULT_ADMIT_PER_SECOND = 50
DEFAULT_MAX_ACTIVE = 1000
DEFAULT_PASS_SECONDS = 120
ADMIT_RANGE = (1, 100_000)
MAX_ACTIVE_RANGE = (1, 1_000_000)
PASS_RANGE = (5, 3600)


def parse_skus(raw: str) -> tuple[str, ...]:
    """`SKU-1,SKU-2` -> ("SKU-1", "SKU-2"); blanks dropped, as the API splits WAITING_ROOM_SKUS."""
    return tuple(s.strip() for s in raw.split(",") if s.strip())


@dataclass(frozen=True)
class ControllerWindow:
    """When the controller's schedule runs: enabled or not, and its StartDate/EndDate (None: not set)."""

    enabled: bool
    start_date: str | None
    end_date: str | None


def controller_window(
    skus: tuple[str, ...], starts_at: str | None, ends_at: str | None, pass_seconds: int, now: datetime | None = None
) -> ControllerWindow:
    """Enabled while a SKU is listed and the room has not closed (its end + one pass lifetime); StartDate the start
    less CONTROLLER_LEAD while that is still ahead, EndDate that close. A closed room deploys as no room."""
    moment = now or datetime.now(UTC)
    begin = parse_utc(starts_at) - CONTROLLER_LEAD if starts_at else None
    close = parse_utc(ends_at) + timedelta(seconds=pass_seconds) if ends_at else None
    if not skus or (close is not None and close <= moment):
        return ControllerWindow(False, None, None)
    start = iso(begin) if begin is not None and begin > moment + START_DATE_MARGIN else None
    return ControllerWindow(True, start, iso(close) if close is not None else None)


def check_settings(
    namespace: str,
    skus: str,
    admit: int,
    max_active: int,
    pass_seconds: int,
    starts_at: str | None,
    ends_at: str | None = None,
) -> None:
    """The app layer's waiting-room keys, each refused in one line naming the key (settings.validate())."""
    listed = parse_skus(skus)
    bad = [s for s in listed if not SKU.match(s)]
    require(
        not bad,
        namespace,
        SKUS_KEY,
        f"{bad[0] if bad else ''!r} is not a SKU",
        "comma-separated SKUs: 1-64 letters, digits, - or _, starting with a letter or digit",
    )
    require(len(set(listed)) == len(listed), namespace, SKUS_KEY, "a SKU is listed twice", "each SKU once")
    for key, value, (lo, hi) in (
        (ADMIT_KEY, admit, ADMIT_RANGE),
        (MAX_ACTIVE_KEY, max_active, MAX_ACTIVE_RANGE),
        (PASS_KEY, pass_seconds, PASS_RANGE),
    ):
        require(lo <= value <= hi, namespace, key, f"{value} is outside what the API accepts", f"{lo}-{hi}")
    if starts_at:  # "" (what `invoke sale cancel` leaves) and unset both mean: admit at once
        try:
            parse_utc(starts_at)
        except ValueError as exc:
            require(False, namespace, STARTS_AT_KEY, str(exc), "an ISO 8601 UTC instant, e.g. 2030-05-01T18:00:00Z")
    if ends_at:  # "" and unset: no end (the room stays until waitingRoomSkus is emptied)
        try:
            end = parse_utc(ends_at)
        except ValueError as exc:
            require(False, namespace, ENDS_AT_KEY, str(exc), "an ISO 8601 UTC instant, e.g. 2030-05-01T20:00:00Z")
        if starts_at:
            require(
                end > parse_utc(starts_at),
                namespace,
                ENDS_AT_KEY,
                f"{ends_at} is not after {STARTS_AT_KEY} {starts_at}",
                "the sale window's end (invoke sale plan --waiting-room stores both)",
            )
