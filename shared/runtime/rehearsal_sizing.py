"""How big the sale rehearsal's Locust fleet is: one rule for the ops task and the rehearsal stack.

Users per worker were measured with `invoke rehearse --local` on the 2-core development machine (FastHttpUser, the
capacity model's 5 s think time, the API on the same cores): at 1,000 shoppers per worker process the busiest
worker used about 15 % of a core over the run (shared/ops/README.md). Locally a worker takes 1,000 shoppers (the
machine also runs the API and PostgreSQL); a Fargate worker task (1 vCPU) takes 2,000, about 30 % of its vCPU by
that measurement, leaving room for TLS to CloudFront, which loopback does not pay. AWS's own distributed load
testing solution plans about 200 users per 4 GB task, for heavier (browser-like) scripts.
"""

from __future__ import annotations

import math

USERS_PER_WORKER = 2_000  # Fargate
USERS_PER_WORKER_LOCAL = 1_000
WORKER_CPU_UNITS = 1024  # 1 vCPU
WORKER_MEMORY_MIB = 2048
MASTER_CPU_UNITS = 1024
MASTER_MEMORY_MIB = 2048
MASTER_PORT = 5557  # Locust's master port: workers connect to it (ZeroMQ)


def workers_for(users: int, users_per_worker: int | None = None) -> int:
    """Locust workers for `users` shoppers (at least one); Fargate's share per worker unless told."""
    return max(1, math.ceil(users / (users_per_worker or USERS_PER_WORKER)))


def fargate_vcpu(users: int) -> float:
    """vCPU the rehearsal stack runs on at once: the master and its workers."""
    return (MASTER_CPU_UNITS + WORKER_CPU_UNITS * workers_for(users)) / 1024
