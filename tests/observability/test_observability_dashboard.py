"""The planned dashboard JSON, bad input and missing upstream outputs of the observability layer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from projects.observability.metrics import load_contract
from shared.plan.planner import Plan, PlanError, plan_layer
from shared.runtime.layers import REPO_ROOT
from tests.conftest import SECRET_KEYS, SUFFIX

DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
CONTRACT = load_contract()
SEARCH = re.compile(r"""^SEARCH\('\{(?P<schema>[^}]+)\} MetricName="(?P<metric>[^"]+)"(?P<filters>( \w+="[^"]*")*)',"""
                    r""" '(?P<stat>[^']+)', 60\)$""")


@pytest.fixture(scope="module")
def obs(chain: dict[str, Plan]) -> Plan:
    return chain["observability"]


@pytest.fixture(scope="module")
def up(chain: dict[str, Plan]) -> dict[str, Any]:
    return {k: chain[layer].export_value(k) for layer in ("data", "app", "edge") for k in chain[layer].exports}


@pytest.fixture(scope="module")
def body(obs: Plan) -> dict[str, Any]:
    return json.loads(obs.one(DASHBOARD).get("dashboardBody"))


def metric_widgets(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in body["widgets"] if w["type"] == "metric"]


def graphed(body: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of every metric line and every SEARCH expression in the body."""
    out = []
    for w in metric_widgets(body):
        for line in w["properties"]["metrics"]:
            if isinstance(line[0], dict):
                expression = line[0]["expression"]
                if expression.startswith("SEARCH"):
                    m = SEARCH.match(expression)
                    assert m, expression
                    ns, *keys = m["schema"].split(",")
                    filters = dict(re.findall(r'(\w+)="([^"]*)"', m["filters"]))
                    assert set(filters) <= set(keys), expression
                    out.append((ns, m["metric"], {k: filters.get(k, "*") for k in keys}))
                continue
            parts = line[:-1] if isinstance(line[-1], dict) else line
            ns, name, *pairs = parts
            out.append((ns, name, dict(zip(pairs[::2], pairs[1::2], strict=True))))
    return out


def test_dashboard_name_and_console_url_are_exported(obs: Plan) -> None:
    name = obs.one(DASHBOARD).get("dashboardName")
    assert name == f"catalog-flash-sale-{SUFFIX}" and re.fullmatch(r"[A-Za-z0-9_-]{1,255}", name)
    assert obs.export_value("dashboardName") == name
    assert obs.export_value("dashboardUrl") == (
        f"https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/{name}")


def test_every_graphed_metric_exists_in_the_contract_or_the_aws_table(body: dict[str, Any]) -> None:
    known = CONTRACT.known()
    lines = graphed(body)
    assert len(lines) > 40
    for ns, name, dims in lines:
        assert ns in known, (ns, name)
        assert name in known[ns], (ns, name)
        assert frozenset(dims) in known[ns][name], (ns, name, sorted(dims))


def test_dimension_values_come_from_upstream_exports(body: dict[str, Any], up: dict[str, Any]) -> None:
    allowed = {v for v in up.values() if isinstance(v, (str, int, float))}
    allowed |= set(up["targetGroupArnSuffixes"].values())
    allowed |= set(up["webAclRuleMetricNames"]) | set(up["apiWebAclRuleMetricNames"])  # WAF Rule dimension
    allowed |= {f"{up['functionName']}:{up['aliasName']}", "Global", "*", "ALL", "us-east-1"}
    allowed |= {"default", "READ_WRITE"}  # RDS Proxy dimension set 4: the default target group's writer
    used = {v for _, _, dims in graphed(body) for v in dims.values()}
    assert used <= allowed, used - allowed
    assert {up["albArnSuffix"], up["proxyName"], up["distributionId"], up["sessionsTableName"],
            up["cacheTableName"], up["writerInstanceId"], up["clusterId"], up["metricsService"]} <= used


def test_rows_come_in_the_mission_order_and_fit_the_grid(body: dict[str, Any]) -> None:
    headers = [w["properties"]["markdown"].split("\n")[0] for w in body["widgets"] if w["type"] == "text"]
    order = ["SLO", "API", "Waiting room", "Lambda", "Application Load Balancer", "API Gateway", "CloudFront", "Aurora",
             "DynamoDB", "AWS WAF"]
    assert [max((o for o in order if h.startswith(f"## {o}")), key=len) for h in headers] == order
    cells = set()
    for w in body["widgets"]:
        assert w["x"] >= 0 and w["x"] + w["width"] <= 24, w
        for x in range(w["x"], w["x"] + w["width"]):
            for y in range(w["y"], w["y"] + w["height"]):
                assert (x, y) not in cells, ("overlap", w)
                cells.add((x, y))
        if w["type"] == "metric":
            assert w["properties"]["region"] == "us-east-1"
    assert len(json.dumps(body)) < 1_000_000  # dashboard body limit (1 MB)


def test_slo_row_shows_percentiles_with_the_200_ms_annotation_then_rate_and_errors(body: dict[str, Any],
                                                                                 up: dict[str, Any]) -> None:
    slo = metric_widgets(body)[:3]
    latency = slo[0]["properties"]
    assert [line[-1]["stat"] for line in latency["metrics"]] == ["p50", "p95", "p99"]
    assert {tuple(line[:4]) for line in latency["metrics"]} == {
        (CONTRACT.namespace, "Latency", CONTRACT.service_dimension, up["metricsService"])}
    assert latency["annotations"]["horizontal"][0]["value"] == 200
    assert slo[1]["properties"]["metrics"][0][1] == "RequestCount"
    assert slo[2]["properties"]["metrics"][-1][0]["expression"] == "100 * FILL(m1, 0) / m2"


def test_lambda_row_says_there_are_no_ec2_tasks_and_shows_provisioned_concurrency(body: dict[str, Any],
                                                                                up: dict[str, Any]) -> None:
    header = next(w for w in body["widgets"] if w["type"] == "text" and "## Lambda" in w["properties"]["markdown"])
    assert "no EC2 tasks" in header["properties"]["markdown"]
    names = {name for _, name, _ in graphed(body)}
    assert {"ProvisionedConcurrencyUtilization", "ProvisionedConcurrencySpilloverInvocations",
            "ConcurrentExecutions"} <= names
    concurrency = next(w for w in metric_widgets(body) if w["properties"]["title"].startswith("Concurrency"))
    marks = {a["value"] for a in concurrency["properties"]["annotations"]["horizontal"]}
    assert marks == {up["provisionedConcurrencyMin"], up["provisionedConcurrencyMax"]}


def test_edge_function_names_are_shown_and_the_errors_log_widget_reads_the_api_log_group(
        body: dict[str, Any], up: dict[str, Any]) -> None:
    text = json.dumps(body)
    assert up["viewerRequestFunctionName"] in text and up["originResponseFunctionName"] in text
    logs = [w for w in body["widgets"] if w["type"] == "log"]
    assert len(logs) == 1 and logs[0]["properties"]["query"].startswith(f"SOURCE '{up['logGroupName']}' | ")


def test_no_physical_name_of_another_layer_is_written_in_the_layer_source(up: dict[str, Any]) -> None:
    source = "\n".join(p.read_text() for p in (REPO_ROOT / "projects" / "observability").glob("*.py"))
    names = [v for v in up.values() if isinstance(v, str) and SUFFIX in v]
    assert names
    assert [n for n in names if n in source] == []
    assert not re.search(r"catalog-[a-z0-9-]+-(qa|dev|prod)\b", source)


# --- bad input ---

@pytest.mark.parametrize(("key", "value", "message"), [
    ("alarmEmails", "ops@example.com,not-an-address", "catalog-observability:alarmEmails: 'not-an-address' is not"),
    ("alarmEmails", "ops@example", "'ops@example' is not an e-mail address"),
    ("alarmEmails", "a@example.com,A@example.com", "an address is listed twice"),
    ("dashboardApiMetrics", "RequestCount,Latencyy", "unknown metric 'Latencyy'"),
    ("dynamodbOperations", "GetItem,PutItems", "unknown operation 'PutItems'"),
    ("alarmDatapointsToAlarm", "6", "alarmDatapointsToAlarm: 6 is not within 1-5"),
    ("errorRatePercent", "0", "errorRatePercent: 0.0 is not a rate"),
    ("latencySlo", "200", "unknown config key catalog-observability:latencySlo"),
])
def test_bad_config_is_refused_naming_the_key(plan_with, key: str, value: str, message: str) -> None:
    with pytest.raises(PlanError) as err:
        plan_with("observability", {f"catalog-observability:{key}": value})
    assert "ConfigError" in str(err.value) and message in str(err.value)


@pytest.mark.parametrize(("layer", "output"), [("app", "albArnSuffix"), ("data", "proxyMaxConnections"),
                                                ("edge", "distributionId")])
def test_missing_upstream_output_names_the_layer_to_deploy_first(chain: dict[str, Plan], layer: str,
                                                                 output: str) -> None:
    doctored = dict(chain)
    p = chain[layer]
    doctored[layer] = Plan(p.layer, p.suffix, p.resources, p.invokes,
                           {k: v for k, v in p.exports.items() if k != output}, p.secret_exports, p.reads, p.seconds)
    with pytest.raises(PlanError) as err:
        plan_layer("observability", SUFFIX, {}, doctored, secret_keys=SECRET_KEYS)
    text = str(err.value)
    assert f"has no output {output}" in text
    assert f"run `invoke up --layer {layer} --suffix {SUFFIX}` first" in text


def test_contract_file_is_the_one_the_api_writes() -> None:
    api = REPO_ROOT / "containers" / "catalog-api" / "src"
    assert (api / "metrics-contract.json").is_file()
    assert "metrics-contract.json" in Path(api / "observability.mjs").read_text()


def test_reservation_outcomes_have_their_own_widget(chain) -> None:
    """Each reservation outcome of the API's metric contract (sold, sold out, shed, cancelled,
    confirmed, conflicted, expired) is drawn on the dashboard."""
    import json

    from projects.observability.dashboard import RESERVATION_OUTCOMES
    from projects.observability.metrics import load_contract

    body = json.loads(chain["observability"].one("aws:cloudwatch/dashboard:Dashboard").get("dashboardBody"))
    widget = next(w for w in body["widgets"] if w.get("properties", {}).get("title") ==
                  "Reservation outcomes (per minute)")
    drawn = {m[1] for m in widget["properties"]["metrics"]}
    assert drawn == set(RESERVATION_OUTCOMES) <= set(load_contract().metrics)
