"""The mission's fixed numbers, each defined once.

Settings defaults and their checks, the guardrails, the capacity model and the generated docs all read them
here, so changing one value here changes every consumer (tests/runtime/test_mission.py proves it).
"""

from __future__ import annotations

# The API function: Graviton2, 3 GB.
API_MEMORY_MB = 3072
API_ARCHITECTURE = "arm64"
# Provisioned concurrency on alias `live` scales between these, tracking utilization at SCALE_OUT_UTILIZATION.
PROVISIONED_CONCURRENCY_MIN = 2
PROVISIONED_CONCURRENCY_MAX = 10
# Scale out at 70 %: Lambda's provisioned-concurrency utilization is a fraction, RDS reader CPU a percentage.
SCALE_OUT_UTILIZATION = 0.7
SCALE_OUT_CPU_PERCENT = SCALE_OUT_UTILIZATION * 100
# RDS Proxy opens at most this many connections to the database.
PROXY_MAX_CONNECTIONS = 100
# API Gateway stage throttle (requests per second), the account's regional default.
API_RATE_LIMIT_RPS = 10_000
# ALB target health checks.
HEALTH_CHECK_INTERVAL_S = 5
HEALTH_CHECK_TIMEOUT_S = 2
# Logs and bucket objects (logs, artifacts) are kept this many days.
RETENTION_DAYS = 30
