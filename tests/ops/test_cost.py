"""`invoke cost`: quantities read from the offline plan (change a setting, see the cost follow), the sale window
from sale plan's numbers, the dated price table's shape, bad input refused in one line before any planning, and
the task running with no Pulumi CLI on PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from shared.ops.cost import (
    PRICES_PATH,
    Facts,
    Line,
    idle_day,
    load_prices,
    plan_facts,
    sale_window,
    total,
)
from shared.ops.cost_plan import costed
from shared.plan import Plan, offline_config, plan_chain
from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT
from tests.support.tasks import run_invoke

SUFFIX = "qa"
RESULTS = str(REPO_ROOT / "bench" / "reference-run.json")
PRICES = load_prices()


def run(*argv: str) -> int:
    return run_invoke("cost", *argv)


def plans_with(overrides: dict[str, dict[str, str]]) -> dict[str, Plan]:
    config, secret_keys = offline_config(overrides)
    return plan_chain(SUFFIX, config, secret_keys=secret_keys)


@pytest.fixture(scope="module")
def default_plans() -> dict[str, Plan]:
    return plans_with({})


@pytest.fixture(scope="module")
def changed_plans() -> dict[str, Plan]:
    return plans_with({"network": {"natGateways": "single"}, "data": {"minAcu": "1"},
                       "app": {"provisionedConcurrencyMin": "4"}})


def line(lines: list[Line], service: str, starts: str) -> Line:
    found = [x for x in lines if x.service == service and x.item.startswith(starts)]
    assert len(found) == 1, [x.item for x in lines]
    return found[0]


# --- the price table ---------------------------------------------------------------------------------------------
def test_every_price_names_its_unit_and_aws_pricing_page_and_the_table_is_dated() -> None:
    data = json.loads(PRICES_PATH.read_text())
    as_of = date.fromisoformat(data["asOf"])
    assert as_of <= datetime.now(UTC).date()
    assert data["region"] == "us-east-1" and data["currency"] == "USD"
    assert "unconfirmed" in data["note"]  # the table says what an unconfirmed line means
    assert data["prices"]
    for key, entry in data["prices"].items():
        assert entry["url"].startswith("https://aws.amazon.com/") and "/pricing/" in entry["url"], key
        assert entry["unit"].strip(), key
        assert isinstance(entry["price"], (int, float)) and entry["price"] >= 0, key
        assert entry["checked"] in ("confirmed", "unconfirmed"), key
        if entry["checked"] == "confirmed":
            assert entry["checkedAt"].startswith("http"), f"{key}: a confirmed price names where it was read"


@pytest.mark.parametrize("broken, message", [
    ({"asOf": "soon"}, "is not a date"),
    ({"prices": {"x": {"price": 1, "unit": "hour", "checked": "confirmed"}}}, "x lacks url"),
    ({"prices": {"x": {"price": 1, "unit": "hour", "url": "https://example.com/", "checked": "confirmed"}}},
     "the AWS pricing page"),
    ({"prices": {"x": {"price": -1, "unit": "hour", "url": "https://aws.amazon.com/x/pricing/",
                       "checked": "confirmed"}}}, "a number >= 0"),
])
def test_a_broken_price_table_is_refused_naming_the_line(tmp_path: Path, broken: dict[str, object],
                                                          message: str) -> None:
    data = {**json.loads(PRICES_PATH.read_text()), **broken}
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CatalogError, match=message):
        load_prices(path)


# --- the idle day: counts and sizes from the plan ----------------------------------------------------------------
def test_the_idle_day_counts_what_the_plan_holds(default_plans: dict[str, Plan]) -> None:
    facts = plan_facts(default_plans)
    network, data = default_plans["network"], default_plans["data"]
    assert facts.nat_gateways == len(network.of_type("aws:ec2/natGateway:NatGateway")) == 3
    assert facts.aurora_instances == len(data.of_type("aws:rds/clusterInstance:ClusterInstance")) == 3
    assert facts.min_acu == 0.5 and facts.proxies == 1
    [(api, steady)] = facts.provisioned
    assert (api.name, steady, api.memory_gb, api.arm) == (f"catalog-api-{SUFFIX}", 2, 3.0, True)
    assert facts.web_acls == 2 and facts.waf_rules == sum(len(a.get("rules")) for p in default_plans.values()
                                                          for a in p.of_type("aws:wafv2/webAcl:WebAcl"))
    # two role secrets, the waiting room's HMAC key and the one RDS keeps the master password in
    assert facts.secrets == 4
    assert facts.edge_viewer_request and facts.edge_origin_response and facts.origin_shield
    idle = idle_day(facts, PRICES)
    assert line(idle, "VPC", "NAT gateways").cost == pytest.approx(3 * 24 * PRICES["natGatewayHour"].price)
    assert line(idle, "Aurora", "Serverless v2").cost == pytest.approx(3 * 0.5 * 24 * PRICES["auroraAcuHour"].price)
    # 1.5 ACU behind the proxy: billed at its 8 ACU minimum
    assert line(idle, "RDS Proxy", "").cost == pytest.approx(8 * 24 * PRICES["rdsProxyAcuHour"].price)
    assert line(idle, "Lambda", "provisioned concurrency").quantity == 2 * 3.0 * 86_400
    # monthly items are prorated over AWS's 730-hour month
    assert line(idle, "WAF", "web ACLs").cost == pytest.approx(2 * 5.0 * 24 / 730)


def test_changing_a_setting_changes_the_cost_that_depends_on_it(default_plans: dict[str, Plan],
                                                                changed_plans: dict[str, Plan]) -> None:
    before, after = idle_day(plan_facts(default_plans), PRICES), idle_day(plan_facts(changed_plans), PRICES)
    assert line(after, "VPC", "NAT gateways").quantity == 24  # natGateways=single: one NAT, not three
    assert line(after, "VPC", "NAT gateways").cost == pytest.approx(line(before, "VPC", "NAT gateways").cost / 3)
    aurora_before, aurora_after = line(before, "Aurora", "Serverless v2"), line(after, "Aurora", "Serverless v2")
    assert aurora_after.cost == pytest.approx(2 * aurora_before.cost)  # minAcu 1: twice 0.5 on every instance
    assert line(after, "Lambda", "provisioned concurrency").quantity == 4 * 3.0 * 86_400
    assert total(after) != total(before)


def test_a_reader_less_in_the_plan_is_a_reader_less_in_the_cost(default_plans: dict[str, Plan]) -> None:
    data = default_plans["data"]
    readers = [r for r in data.resources if r.type == "aws:rds/clusterInstance:ClusterInstance"
               and r.name != "db-writer"]
    fewer = {**default_plans, "data": replace(data, resources=[r for r in data.resources if r is not readers[0]])}
    facts = plan_facts(fewer)
    assert facts.aurora_instances == 2
    drop = line(idle_day(plan_facts(default_plans), PRICES), "Aurora", "").cost - \
        line(idle_day(facts, PRICES), "Aurora", "").cost
    assert drop == pytest.approx(0.5 * 24 * PRICES["auroraAcuHour"].price)


def test_an_empty_plan_costs_nothing_rather_than_guessing() -> None:
    assert idle_day(Facts(), PRICES) == []


# --- the sale window: sale plan's numbers --------------------------------------------------------------------------
def test_the_sale_window_prices_what_sale_plan_would_schedule(default_plans: dict[str, Plan]) -> None:
    result = costed(SUFFIX, 50_000, 2.0, {}, RESULTS)
    s = result.sale
    assert s.pc_min > 2 and s.lead_hours == 0.25  # the model's ~25 environments, scaled out 15 min early
    pc = line(result.window, "Lambda", "provisioned concurrency")
    assert pc.quantity == pytest.approx((s.pc_min - 2) * 3.0 * 2.25 * 3600)
    assert line(result.window, "CloudFront", "HTTPS requests").quantity == pytest.approx(
        s.throughput_rps * 7200 / 10_000)
    assert line(result.window, "Lambda", "requests").quantity == pytest.approx(s.origin_rps * 7200 / 1e6)
    # twice the hours: twice the traffic, the same scale-out lead time
    longer = sale_window(plan_facts(default_plans), replace(s, hours=4.0), PRICES)
    assert line(longer, "WAF", "requests").cost == pytest.approx(2 * line(result.window, "WAF", "requests").cost)
    assert "Idle day" in result.report and "Sale window: 50,000 users for 2 h" in result.report
    assert "settings: offline plan defaults" in result.report


def test_the_waiting_room_is_priced_as_sale_plan_sets_it_up() -> None:
    from shared.ops.cost_room import CONTROLLER_STEPS_PER_S, RoomUse, polls_per_shopper
    from shared.runtime import waiting_room as room

    result = costed(SUFFIX, 50_000, 2.0, {}, RESULTS)  # one SKU behind the room, as the README's sale
    runs = (2 * 3600 + 5 * 60 + room.DEFAULT_PASS_SECONDS) / 60  # StartDate (start - 5 min) to EndDate (end + pass)
    assert line(result.window, "Waiting room", "controller schedule").quantity == pytest.approx(runs / 1e6)
    assert line(result.window, "Waiting room", "controller duration").quantity == pytest.approx(
        runs * room.CONTROLLER_RUN_S * room.CONTROLLER_MEMORY_MB / 1024)
    use = RoomUse()
    writes = line(result.window, "Waiting room", "tickets").quantity * 1e6
    steps = runs * 60 * CONTROLLER_STEPS_PER_S
    assert writes == pytest.approx(50_000 * (use.join_write_units + use.admission_write_units)
                                   + steps * use.step_write_units)
    polls = line(result.window, "Waiting room", "queue polls (").quantity * 10_000 / 2  # polls + as many state reads
    assert polls % 50_000 == 0 and polls // 50_000 >= polls_per_shopper(1)
    assert "schedulerInvocations" in PRICES.prices
    assert "the room slows this SKU" in result.report  # the plan's verdict on the room, with the price
    without = costed(SUFFIX, 50_000, 2.0, {}, RESULTS, waiting_room=0)
    assert not [x for x in without.window if x.service == "Waiting room"]
    assert total(result.window) > total(without.window)


def test_polls_follow_retry_after() -> None:
    from shared.ops.cost_room import polls_per_shopper

    assert polls_per_shopper(0) == 1  # admitted at the first answer
    assert polls_per_shopper(4) == 3  # 4 s: wait 2, then 1, then admitted
    assert polls_per_shopper(600) == polls_per_shopper(570) + 1  # past a minute, every 30 s


# --- the task's refusals ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, says", [
    (["--users", "abc"], "--users 'abc' is not a whole number"),
    (["--users", "-5"], "is not a user count"),
    (["--users", "0"], "is not a user count"),
    (["--hours", "abc"], "--hours 'abc' is not a number"),
    (["--hours", "-1"], "is not a duration"),
    (["--hours", "0"], "is not a duration"),
    (["--hours", "inf"], "is not a duration"),
    (["--hours", "200"], "longer than a sale window"),
    (["--hours", "0.1"], "lead time"),
    (["--users", "100000000000"], "is outside 1-10,000,000"),
    (["--users", "2000000"], "request a quota increase"),
    (["--config", "data:nope=1"], "unknown config key catalog-data:nope"),
    (["--config", "data:minAcu=lots"], "catalog-data:minAcu"),
    (["--config", "minAcu"], "is not layer:key=value"),
    (["--results", "/no/such/run.json"], "no such file"),
    (["--waiting-room", "some"], "--waiting-room 'some' is not a SKU count"),
])
def test_bad_input_is_one_line_and_exit_2_before_any_planning(argv: list[str], says: str,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    def no_planning(*args: object, **kwargs: object) -> None:
        raise AssertionError("planned before the arguments were checked")

    monkeypatch.setattr("shared.plan.plan_chain", no_planning)
    assert run("--suffix", SUFFIX, *argv) == 2
    captured = capsys.readouterr()
    err = [x for x in captured.err.splitlines() if x.strip()]
    assert len(err) == 1 and err[0].startswith("error: ") and says in err[0], err
    assert "Traceback" not in captured.err + captured.out


@pytest.mark.parametrize("suffix", ["BAD", "", "a"])
def test_a_bad_suffix_is_refused(suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--suffix", suffix) == 2
    err = [x for x in capsys.readouterr().err.splitlines() if x.strip()]
    assert len(err) == 1 and err[0].startswith("error: ") and "suffix" in err[0]


def test_the_task_runs_with_no_pulumi_cli_on_path(tmp_path: Path) -> None:
    """A fresh clone: no Pulumi CLI, no AWS credentials, no stacks; PATH holds nothing at all."""
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PULUMI_"))}
    env.update(PATH=str(empty), PYTHONPATH=str(REPO_ROOT), HOME=str(tmp_path))
    assert shutil.which("pulumi", path=env["PATH"]) is None
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from invoke import Program; from tasks import ns; "
         "Program(namespace=ns).run(['invoke', *sys.argv[1:]])", "cost", "--suffix", "qa", "--users", "20000",
         "--hours", "1", "--config", "network:natGateways=single", "--results", RESULTS],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| VPC | NAT gateways (1) | 24 |" in proc.stdout
    assert "Sale window: 20,000 users for 1 h" in proc.stdout
    assert "with --config network:natGateways=single" in proc.stdout
