"""The mission's numbers are defined once (shared/runtime/mission.py): change one there and every consumer —
settings defaults and checks, guardrails, the capacity model, generated docs — follows."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from shared.runtime import mission
from shared.runtime.layers import REPO_ROOT

# Runs in a fresh interpreter: the mission module is changed before any consumer is imported.
PROBE = r"""
import json
from shared.runtime import mission
mission.API_MEMORY_MB = 4096
mission.PROVISIONED_CONCURRENCY_MAX = 12
mission.SCALE_OUT_UTILIZATION = 0.6
mission.SCALE_OUT_CPU_PERCENT = 60.0
mission.PROXY_MAX_CONNECTIONS = 80
mission.API_RATE_LIMIT_RPS = 8000
mission.HEALTH_CHECK_INTERVAL_S = 6
mission.HEALTH_CHECK_TIMEOUT_S = 3
mission.RETENTION_DAYS = 60

from projects.app import alb
from projects.app.settings import Settings as App
from projects.data.settings import Settings as Data
from projects.network.settings import Settings as Network
from projects.edge.settings import Settings as Edge
from shared.ops.capacity import StackConfig
from shared.policy import BY_NAME
from shared.policy import compute_rules, database_rules, edge_rules, network_rules, storage_rules
from shared.runtime import s3_baseline
from shared.runtime.settings import describe

app, data, stack = App(), Data(), StackConfig()
docs = {info.key: info.default for info in describe(App)}
print(json.dumps({
    "app.memory": app.memory_mb, "app.max": app.provisioned_concurrency_max,
    "app.target": app.provisioned_concurrency_target, "app.retention": app.log_retention_days,
    "app.throttle": app.api_throttle_rate_limit, "docs.memoryMb": docs["memoryMb"],
    "data.proxy": data.proxy_max_connections, "data.cpu": data.reader_cpu_target,
    "data.retention": data.log_retention_days, "network.retention": Network().flow_log_retention_days,
    "edge.retention": Edge().log_retention_days,
    "alb.health": [alb.HEALTH_INTERVAL_S, alb.HEALTH_TIMEOUT_S], "s3.retention": s3_baseline.RETENTION_DAYS,
    "policy.memory": compute_rules.API_MEMORY_MB, "policy.pool": database_rules.POOL_CONNECTIONS,
    "policy.rate": edge_rules.RATE_LIMIT,
    "policy.health": [network_rules.HEALTH_INTERVAL, network_rules.HEALTH_TIMEOUT],
    "policy.retention": storage_rules.RETENTION_DAYS,
    "policy.text": BY_NAME["lambda-api-shape"].description + BY_NAME["autoscaling-mission-values"].description,
    "capacity": [stack.provisioned_max, stack.provisioned_target, stack.proxy_max_connections, stack.api_throttle_rps],
}))
"""


def test_every_consumer_follows_a_changed_mission_number() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout)
    assert seen.pop("policy.text").count("4096 MB") == 1
    assert seen == {
        "app.memory": 4096, "app.max": 12, "app.target": 0.6, "app.retention": 60, "app.throttle": 8000,
        "docs.memoryMb": 4096, "data.proxy": 80, "data.cpu": 60.0, "data.retention": 60, "network.retention": 60,
        "edge.retention": 60, "alb.health": [6, 3], "s3.retention": 60, "policy.memory": 4096, "policy.pool": 80,
        "policy.rate": 8000, "policy.health": [6, 3], "policy.retention": 60,
        "capacity": [12, 0.6, 80, 8000],
    }


def test_the_defaults_are_the_missions_numbers() -> None:
    assert (mission.API_MEMORY_MB, mission.API_ARCHITECTURE) == (3072, "arm64")
    assert (mission.PROVISIONED_CONCURRENCY_MIN, mission.PROVISIONED_CONCURRENCY_MAX) == (2, 10)
    assert (mission.SCALE_OUT_UTILIZATION, mission.SCALE_OUT_CPU_PERCENT) == (0.7, 70.0)
    assert (mission.PROXY_MAX_CONNECTIONS, mission.API_RATE_LIMIT_RPS) == (100, 10_000)
    assert (mission.HEALTH_CHECK_INTERVAL_S, mission.HEALTH_CHECK_TIMEOUT_S, mission.RETENTION_DAYS) == (5, 2, 30)


def test_no_consumer_writes_the_distinctive_numbers_again() -> None:
    # 3072 and 10,000 are unmistakable where settings, guardrails and the capacity model would repeat them;
    # smaller numbers (2, 10, 30, 100) are too common to scan for. AWS's own 10,000 (the account default) lives in
    # aws_rules.py; the cost model's "per 10,000 requests" price unit is not the throttle.
    consumers = [*(REPO_ROOT / "projects").rglob("*.py"), *(REPO_ROOT / "shared" / "policy").rglob("*.py"),
                 REPO_ROOT / "shared" / "ops" / "capacity.py", *(REPO_ROOT / "shared" / "runtime").glob("*.py")]
    offenders = []
    for path in consumers:
        if path.name in ("mission.py", "aws_rules.py") or "node_modules" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in (3072, 10_000) and type(node.value) is int:
                offenders.append(f"{Path(path).relative_to(REPO_ROOT)}:{node.lineno} {node.value}")
    assert offenders == []
