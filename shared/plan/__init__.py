"""The offline plan: each layer's real program under Pulumi mocks, with no AWS account and no Pulumi CLI.

What other products may use (their only way in): the plan itself, the config it runs with, and the computed
values the mocks stand in for AWS. See README.md beside this file.
"""

from shared.plan.computed import computed_state
from shared.plan.offline import offline_config
from shared.plan.planner import (
    Plan,
    PlanError,
    Resource,
    plan_chain,
    plan_from,
    plan_layer,
    run_planner,
    unwrap,
)

__all__ = ["Plan", "PlanError", "Resource", "computed_state", "offline_config", "plan_chain", "plan_from", "plan_layer",
           "run_planner", "unwrap"]
