"""Operations tools: the capacity model, the benchmark report, sale windows (plan, cancel, check), the cost.

What other products may use (their only way in): the capacity model's workload and the texts the docs embed.
See README.md beside this file.
"""

from shared.ops.capacity import Workload
from shared.ops.perf_report import bench_report, capacity_text


def readme_costs() -> str:
    """The README's cost table (qa's idle day, a 2-hour 50,000-user sale): plans offline, so imported on use."""
    from shared.ops.cost_plan import readme_costs as costs

    return costs()


__all__ = ["Workload", "bench_report", "capacity_text", "readme_costs"]
