"""Operations tools: the capacity model, the benchmark report, sale windows (plan, cancel, check).

What other products may use (their only way in): the capacity model's workload and the texts the docs embed.
See README.md beside this file.
"""

from shared.ops.capacity import Workload
from shared.ops.perf_report import bench_report, capacity_text

__all__ = ["Workload", "bench_report", "capacity_text"]
