"""What AWS would refuse or run wrong, checked on the offline plan of every layer."""

from __future__ import annotations

import json
import re
from typing import Any

from shared.plan.planner import Plan
from shared.runtime.layers import LAYERS

# The character set every tagging service accepts (IAM and ELBv2 are the strictest): letters, digits, spaces
# and _ . : / = + - @; key 1-128, value 0-256 characters, `aws:` reserved.
# https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html
TAG_SAFE = re.compile(r"[A-Za-z0-9 _.:/=+\-@]*")


def tag_problem(key: Any, value: Any) -> str | None:
    if not isinstance(key, str) or not isinstance(value, str):
        return f"non-string tag {key!r}={value!r}"
    if not 1 <= len(key) <= 128 or not TAG_SAFE.fullmatch(key) or key.lower().startswith("aws:"):
        return f"tag key {key!r}"
    if len(value) > 256 or not TAG_SAFE.fullmatch(value):
        return f"tag value {key}={value!r}"
    return None


def tags_of(inputs: Any) -> list[tuple[Any, Any]]:
    """Every tag set an input carries: a `tags` map, or a list of {key, value} (autoscaling style)."""
    found: list[tuple[Any, Any]] = []
    if isinstance(inputs, dict):
        for name, value in inputs.items():
            if name in ("tags", "tagsAll") and isinstance(value, dict):
                found.extend(value.items())
            elif name in ("tags", "tagsAll") and isinstance(value, list):
                found.extend((t.get("key"), t.get("value")) for t in value if isinstance(t, dict))
            else:
                found.extend(tags_of(value))
    elif isinstance(inputs, list):
        for value in inputs:
            found.extend(tags_of(value))
    return found


def test_layer_owners_are_tag_safe() -> None:
    assert {layer.name: layer.owner for layer in LAYERS}["app"] == "product API team"
    assert {layer.name: layer.owner for layer in LAYERS}["edge"] == "marketing CDN team"
    assert [layer.owner for layer in LAYERS if tag_problem("Owner", layer.owner)] == []
    assert tag_problem("Owner", "product (API) team") and tag_problem("aws:x", "y")


def test_every_tag_in_the_plan_is_accepted_by_every_service(chain: dict[str, Plan]) -> None:
    problems = []
    tagged = 0
    for layer, plan in chain.items():
        for resource in plan.custom_resources():
            pairs = tags_of(resource.get())
            tagged += bool(pairs)
            problems += [f"{layer} {resource.type} {resource.name}: {p}"
                         for p in (tag_problem(k, v) for k, v in pairs) if p]
    assert tagged > 50 and problems == []


# --- alarms ---------------------------------------------------------------------------------------------------
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def _alarm(plan: Plan, kind: str) -> Any:
    (found,) = [r for r in plan.of_type(ALARM) if str(r.get("name")).startswith(f"catalog-{kind}-")]
    return found


def test_proxy_pool_alarm_watches_the_writer_target_not_every_target(chain: dict[str, Plan]) -> None:
    """MaxConnectionsPercent applies per target; ProxyName alone sums the writer and the readers."""
    obs, proxy = chain["observability"], chain["data"].export_value("proxyName")
    alarm = _alarm(obs, "proxy-db-connections")
    assert alarm.get("metricName") == "DatabaseConnections" and alarm.get("statistic") == "Sum"
    assert alarm.get("dimensions") == {"ProxyName": proxy, "TargetGroup": "default", "TargetRole": "READ_WRITE"}
    assert alarm.get("threshold") == 0.8 * chain["data"].export_value("proxyMaxConnections")
    body = json.loads(obs.one("aws:cloudwatch/dashboard:Dashboard").get("dashboardBody"))
    pool_lines = [line for w in body["widgets"] if w["type"] == "metric" for line in w["properties"]["metrics"]
                  if isinstance(line[0], str) and line[1] in ("DatabaseConnections", "MaxDatabaseConnectionsAllowed",
                                                              "DatabaseConnectionsCurrentlyBorrowed")]
    assert len(pool_lines) == 3
    assert all("TargetRole" in line and "READ_WRITE" in line for line in pool_lines)


def test_target_health_alarms_do_not_count_a_missing_metric_as_breaching(chain: dict[str, Plan]) -> None:
    """ELB reports metrics only while requests flow: a quiet hour must not hold "degraded" in ALARM."""
    health = [r for r in chain["observability"].of_type(ALARM)
              if r.get("metricName") in ("HealthyHostCount", "UnHealthyHostCount")]
    assert len(health) == 4
    assert {r.get("treatMissingData") for r in health} <= {"missing", "notBreaching"}
    assert {r.get("treatMissingData") for r in chain["observability"].of_type(ALARM)} <= {"missing", "notBreaching"}


# --- buckets ----------------------------------------------------------------------------------------------------
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def test_logs_and_artifacts_keep_about_30_days_of_data_not_60(chain: dict[str, Plan]) -> None:
    data = chain["data"]
    assert len(data.of_type(LIFECYCLE)) == 2  # logs and artifacts
    for config in data.of_type(LIFECYCLE):
        (rule,) = config.get("rules")
        assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
        kept = rule["expiration"]["days"] + rule["noncurrentVersionExpiration"]["noncurrentDays"]
        assert rule["expiration"] == {"days": 30} and kept == 31
        # Days and ExpiredObjectDeleteMarker may not share a rule; the Days expiration removes those markers.
        assert "expiredObjectDeleteMarker" not in rule["expiration"]
    (static,) = chain["edge"].of_type(LIFECYCLE)  # the live site keeps current objects on purpose
    (rule,) = static.get("rules")
    assert "days" not in rule["expiration"] and rule["noncurrentVersionExpiration"] == {"noncurrentDays": 30}


# --- Aurora -----------------------------------------------------------------------------------------------------
def test_aurora_engine_version_is_the_creation_version_only(chain: dict[str, Plan]) -> None:
    """Auto minor upgrades move the cluster past the pinned minor: a later preview must not show a downgrade."""
    data = chain["data"]
    cluster = data.one("aws:rds/cluster:Cluster")
    instances = data.of_type("aws:rds/clusterInstance:ClusterInstance")
    assert cluster.get("engineVersion") == "16.8" and len(instances) == 3
    for resource in (cluster, *instances):
        assert "engineVersion" in resource.options["ignoreChanges"], resource.name
    assert all(i.get("autoMinorVersionUpgrade") is True for i in instances)
