"""`invoke cost`: what an environment costs for an idle day and for a sale window, priced from the offline plan.

Arguments and printing only; the arithmetic is in `shared/ops/cost.py`. Offline: no Pulumi CLI, no AWS account,
no stacks. Every argument is checked before the (few seconds of) planning; bad input is one line, exit 2.
"""

from __future__ import annotations

from invoke import Context

from shared.console import documented_task, parse_config_pairs, refuse_clearly
from shared.ops.cost import parse_hours, parse_room_skus, parse_users
from shared.ops.cost_plan import costed


@documented_task(
    help={
        "suffix": "environment suffix, e.g. qa (2-16 lowercase letters, digits, single hyphens)",
        "users": "concurrent shoppers during the sale window (the capacity model's input; default 50000)",
        "hours": "how long the sale window lasts, in hours (default 2; at most 168)",
        "config": "override a setting, repeatable: --config network:natGateways=single",
        "results": "bench results JSON for the service times (default: the latest bench/results/*.json)",
        "waiting_room": "sale SKUs behind the waiting room, priced as `sale plan --waiting-room` sets it up "
                        "(default 1; 0: no room)",
    },
    iterable=["config"],
)
@refuse_clearly
def cost(c: Context, suffix: str = "", users: str = "50000", hours: str = "2", config: list[str] | None = None,
         results: str = "", waiting_room: str = "1") -> None:
    """What an environment costs in us-east-1: an idle day and a sale window, priced from the offline plan
    (no AWS account, no Pulumi CLI) and the dated price table shared/ops/prices-us-east-1.json."""
    from shared.runtime.naming import validate_suffix

    validate_suffix(suffix)
    count, duration = parse_users(users), parse_hours(hours)
    skus = parse_room_skus(waiting_room)
    print(costed(suffix, count, duration, parse_config_pairs(config), results, waiting_room=skus).report)
