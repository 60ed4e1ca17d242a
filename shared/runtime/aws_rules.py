"""AWS facts the code relies on, written once (docs/aws-rules.md says where each comes from)."""

from __future__ import annotations

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS: tuple[int, ...] = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                                       2192, 2557, 2922, 3288, 3653)

# API Gateway's default account-level throttle per region (requests/s), raised only by a quota request.
API_GATEWAY_ACCOUNT_RPS = 10_000
