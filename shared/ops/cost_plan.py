"""Plan offline and price it: the one step of `invoke cost` that runs the planner (a few seconds, no AWS, no
Pulumi CLI). Every argument is checked before planning. Used by the task and by the generated README table."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.ops.cost import (
    PRICES_PATH,
    Assumptions,
    Line,
    PriceTable,
    SaleNumbers,
    _gb_s,
    idle_day,
    load_prices,
    plan_facts,
    report,
    sale_numbers,
    sale_window,
    summary_table,
)
from shared.ops.cost_room import RoomUse, room_lines, room_numbers
from shared.runtime.errors import CatalogError

DEFAULT_LAMBDA_QUOTA = 1000  # AWS's default concurrent executions per Region
# plan_sale() wants a future window; the cost does not depend on the date, so a fixed one keeps the output stable.
_NOW = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Costed:
    source: str
    idle: list[Line]
    sale: SaleNumbers
    window: list[Line]
    report: str


def _defaults_with(overrides: Mapping[str, Mapping[str, str]]) -> Callable[[str], Mapping[str, Any]]:
    """`defaults_of(layer)` for the capacity model: the settings defaults with the --config overrides applied."""
    from shared.declarations import settings_class
    from shared.runtime.layers import get_layer
    from shared.runtime.settings import describe, parse_value

    def defaults_of(layer: str) -> dict[str, Any]:
        infos = describe(settings_class(layer))
        values: dict[str, Any] = {i.key: i.default for i in infos}
        given = overrides.get(layer, {})
        for info in infos:
            if info.key in given and not info.secret:
                values[info.key] = parse_value(info, given[info.key], get_layer(layer).project)
        return values

    return defaults_of


def _sale_refusal(exc: CatalogError, users: int, hours: float) -> CatalogError:
    """`sale plan`'s refusal, with the fix said in this task's arguments."""
    fix = exc.fix or ""
    if "--lambda-quota" in fix:
        fix = fix.replace("plan again with --lambda-quota",
                          "price it with --config observability:accountConcurrencyLimit=<the new quota>")
    elif "lead time" in exc.problem:
        fix = "a longer --hours: the scale-out starts before the doors open"
    return CatalogError(f"{users:,} users for {hours:g} h: {exc.problem}", fix or None)


def costed(suffix: str, users: int, hours: float, overrides: Mapping[str, dict[str, str]], results: str = "",
           prices: PriceTable | None = None, assumptions: Assumptions | None = None, waiting_room: int = 1) -> Costed:
    """Check everything, then plan offline and price it (used by the task and by the generated README table).
    `waiting_room`: how many sale SKUs shoppers queue for (0: no room), priced as `sale plan --waiting-room` sets
    it up."""
    from shared.ops.capacity import stack_config
    from shared.ops.perf_report import load_service_times
    from shared.ops.sale import SaleRequest, plan_sale
    from shared.plan import offline_config, plan_chain
    from shared.runtime.naming import validate_suffix

    validate_suffix(suffix)
    prices = prices or load_prices()
    a = assumptions or Assumptions()
    config, secret_keys = offline_config(dict(overrides))  # unknown keys and bad values are refused here
    stack = stack_config(_defaults_with(overrides))
    quota_text = overrides.get("observability", {}).get("accountConcurrencyLimit")
    quota = int(quota_text) if quota_text else DEFAULT_LAMBDA_QUOTA
    times, notes = load_service_times(results)
    start = _NOW + timedelta(days=1)
    try:
        skus = tuple(f"SKU-{i:06d}" for i in range(1, waiting_room + 1))
        request = SaleRequest(start, start + timedelta(hours=hours), users, skus, waiting_room=skus)
        sale = plan_sale(request, stack, times, lambda_quota=quota, now=_NOW)
    except CatalogError as exc:
        raise _sale_refusal(exc, users, hours) from None
    plans = plan_chain(suffix, config, secret_keys=secret_keys)
    facts = plan_facts(plans)
    idle = idle_day(facts, prices, a)
    numbers = sale_numbers(sale, hours)
    window = sale_window(facts, numbers, prices, a)
    room = room_numbers(sale.room, users, hours, numbers.pc_min, numbers.get_ms,
                        facts.api.memory_gb if facts.api else 0.0, _gb_s(facts.api, prices, "on_pc") if facts.api
                        else "lambdaArmProvisionedDurationGbSecond")
    window += room_lines(room, prices) if room else []
    given = [f"{layer}:{key}={value}" for layer, keys in overrides.items() for key, value in keys.items()]
    source = "settings: offline plan defaults" + (f" with --config {', '.join(given)}" if given else "")
    source += f"; service times: {times.source}"
    room_notes = ([*RoomUse().lines(), *(n for n in sale.notes if n.startswith(("waiting room", "the room")))]
                  if room else ["no waiting room priced (--waiting-room 0)"])
    text = report(suffix, source, facts, idle, numbers, window, prices, a, (*notes, *stack.notes, *room_notes))
    return Costed(source, idle, numbers, window, text)




README_SUFFIX, README_USERS, README_HOURS = "qa", 50_000, 2.0
REFERENCE_RUN = "bench/reference-run.json"


def readme_costs() -> str:
    """The README's cost table: qa's idle day and a 2-hour 50,000-user sale, from the reference bench run."""
    result = costed(README_SUFFIX, README_USERS, README_HOURS, {}, REFERENCE_RUN)
    prices = load_prices()
    text = (f"us-east-1 on-demand list prices as of {prices.as_of.isoformat()} (`shared/ops/{PRICES_PATH.name}`, "
            f"each line with its AWS pricing page). `invoke cost --suffix {README_SUFFIX} --users {README_USERS} "
            f"--hours {README_HOURS:g} --results {REFERENCE_RUN}` prints every line (quantity, unit, unit price), "
            "the sizes it assumes and what it cannot price (storage, free tiers).")
    return f"{summary_table(result.idle, result.window, README_USERS, README_HOURS)}\n\n{textwrap.fill(text, 115)}"
