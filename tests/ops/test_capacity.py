"""The capacity model's arithmetic and input checks, the bench-results reader, and the perf tasks' refusals.

No test measures or asserts a time: the model is pure arithmetic over given service times."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import pytest
from invoke import Context, Exit

from shared.ops import perf_tasks as perf
from shared.ops.capacity import (
    DEFAULT_SERVICE_TIMES,
    AwsAssumptions,
    ServiceTimes,
    StackConfig,
    Workload,
    model,
    service_times_from_results,
    stack_config,
)
from shared.ops.perf_report import bench_report, capacity_report, settings_defaults
from shared.runtime.errors import ConfigError

# Round numbers so each expectation can be worked out by hand.
TIMES = ServiceTimes(hot_read_ms=0.5, db_read_ms=3.0, reserve_ms=5.0, reserve_txn_ms=3.0, hot_row_tps=500.0,
                     db_read_tps_per_vcpu=1000.0, sale_tps_per_vcpu=1000.0, cold_start_ms=400.0, source="test")
AWS = AwsAssumptions(proxy_hop_ms=2.0, dynamodb_ms=5.0)
STACK = StackConfig()


def test_littles_law_throughput_and_the_mix() -> None:
    w = Workload(users=50_000, think_time_s=5.0, edge_hit_ratio=0.5)
    c = model(w, STACK, TIMES, AWS)
    get_ms, reserve_ms = 3.0 + 2.0, 5.0 + 2.0 + 5.0
    response_s = (0.8 * 0.5 * get_ms + 0.2 * reserve_ms) / 1000
    assert c.throughput_rps == pytest.approx(50_000 / (5.0 + response_s))
    assert c.get_rps == pytest.approx(0.8 * c.throughput_rps)
    assert c.reserve_rps == pytest.approx(0.2 * c.throughput_rps)
    assert c.edge_served_rps == pytest.approx(0.5 * c.get_rps)
    assert c.origin_rps == pytest.approx(0.5 * c.get_rps + c.reserve_rps)
    assert (c.get_duration_ms, c.reserve_duration_ms) == (get_ms, reserve_ms)


def test_lambda_concurrency_is_rate_times_duration() -> None:
    c = model(Workload(users=10_000, think_time_s=10.0, edge_hit_ratio=0.0), STACK, TIMES, AWS)
    expected = math.ceil((c.origin_get_rps * 5.0 + c.reserve_rps * 12.0) / 1000)
    assert c.lambda_concurrency == expected
    assert c.lambda_concurrency_with_headroom == math.ceil(expected / 0.7)
    assert c.lambda_concurrency_at_budget == math.ceil(c.origin_rps * 0.2)
    assert c.provisioned_share == pytest.approx(min(1.0, 10 / expected))


def test_edge_ratio_derived_from_ttl_and_origin_shield() -> None:
    w = Workload(users=50_000, think_time_s=5.0, cacheable_urls=1000)
    shielded = model(w, STACK, TIMES, AWS)
    assert shielded.origin_fetch_bound_rps == 1000 / 2.0
    assert shielded.origin_get_rps == pytest.approx(500.0)  # every URL once per 2 s TTL
    unshielded = model(w, replace(STACK, origin_shield=False), TIMES, AWS)
    assert unshielded.origin_fetch_bound_rps == 1000 * 13 / 2.0
    assert unshielded.edge_hit_ratio < shielded.edge_hit_ratio
    few = model(Workload(users=100, think_time_s=5.0, cacheable_urls=1000), STACK, TIMES, AWS)
    assert few.edge_hit_ratio == 0.0  # 16 GETs/s over 1,000 URLs: nothing is requested twice per TTL


def test_one_stock_row_sells_at_its_own_rate_and_the_rest_queues() -> None:
    w = Workload(users=50_000, think_time_s=5.0, edge_hit_ratio=0.9, stock=500, shards=1)
    c = model(w, STACK, TIMES, AWS)
    # The sale offers more reservations than one row sells: requests queue on the lock, and the model says so.
    assert c.reserve_rps > TIMES.hot_row_tps
    assert c.reservation_queue_wait_ms > 200
    assert any(a.startswith("Reservations:") and f"shards={c.shards_needed}" in a for a in c.actions)
    calm = model(Workload(users=1000, think_time_s=5.0, edge_hit_ratio=0.9, shards=1), STACK, TIMES, AWS)
    assert calm.reserve_rps < TIMES.hot_row_tps
    assert calm.sell_out_seconds > c.sell_out_seconds
    assert calm.reservation_queue_wait_ms == 0.0
    assert not any(a.startswith("Reservations:") for a in calm.actions)


def test_the_sale_needs_enough_shards_to_sell_within_the_budget_through_100_connections() -> None:
    sale = model(Workload(users=50_000, think_time_s=5.0, edge_hit_ratio=0.9), STACK, TIMES, AWS)
    assert 1 < sale.shards_needed <= 64 and sale.shards == sale.shards_needed
    assert sale.sku_selling_rps >= sale.reserve_rps  # no queue on the locks with the shards the model names
    assert sale.reservation_queue_wait_ms == 0.0
    assert sale.writer_connections_needed <= STACK.proxy_max_connections
    assert not any(a.startswith("Reservations:") for a in sale.actions)
    fewer = model(Workload(users=50_000, think_time_s=5.0, edge_hit_ratio=0.9, shards=sale.shards_needed - 1),
                  STACK, TIMES, AWS)
    assert fewer.sku_selling_rps < sale.sku_selling_rps
    with pytest.raises(ConfigError, match="shards = 65"):
        model(Workload(shards=65), STACK, TIMES, AWS)


def test_aurora_and_dynamodb_grow_with_the_sale_and_stay_within_the_mission_stack() -> None:
    sale = model(Workload(users=50_000, think_time_s=5.0, edge_hit_ratio=0.9), STACK, TIMES, AWS)
    calm = model(Workload(users=5_000, think_time_s=5.0, edge_hit_ratio=0.9), STACK, TIMES, AWS)
    assert sale.writer_acu > calm.writer_acu and sale.dynamodb_reads_rps > calm.dynamodb_reads_rps
    assert 2 <= sale.readers_needed <= STACK.reader_max_count  # the mission's two readers at least
    assert sale.writer_acu <= STACK.max_acu  # the 50,000-user sale fits the default maxAcu
    assert sale.dynamodb_writes_rps >= sale.dynamodb_reads_rps  # every origin read refreshes its cache item


def test_actions_name_what_the_mission_numbers_do_not_cover() -> None:
    c = model(Workload(), STACK, DEFAULT_SERVICE_TIMES, AWS)
    text = "\n".join(c.actions)
    assert "provisioned 2-10" in text and "Provision ~25 on alias live" in text
    assert "`invoke sale plan --suffix <suffix> --start <UTC> --end <UTC> --users 50000` schedules it" in text
    big = StackConfig(provisioned_max=5000, min_acu=64, max_acu=256, reader_max_count=15)
    tiny = Workload(users=200, think_time_s=10.0)
    assert model(tiny, big, DEFAULT_SERVICE_TIMES, AWS).actions == ()
    quota = model(Workload(users=500_000, think_time_s=1.0, edge_hit_ratio=0.0), STACK,
                  replace(TIMES, db_read_ms=150.0), AWS)
    (lambda_quota,) = [a for a in quota.actions if "Service Quotas" in a]
    assert "request at least" in lambda_quota and "--users 500000 --lambda-quota <quota>`" in lambda_quota
    assert any(a.startswith("API Gateway:") and "account default is 10,000 rps" in a for a in quota.actions)


def test_advice_names_awss_own_ceilings_and_the_command_that_applies_it() -> None:
    # A demand past Aurora Serverless v2's largest instance is not fixed by maxAcu: the advice says so.
    huge = model(Workload(users=5_000_000, think_time_s=1.0), STACK, DEFAULT_SERVICE_TIMES, AWS)
    (writer,) = [a for a in huge.actions if a.startswith("Aurora writer:")]
    assert "256 ACU, Aurora Serverless v2's largest instance" in writer and "raise maxAcu" not in writer
    assert not any(a.startswith("Aurora: minAcu") for a in huge.actions)  # no minAcu above the ceiling either
    # Within the ceiling: the exact setting and the command.
    mid = model(Workload(), replace(STACK, max_acu=1.0), DEFAULT_SERVICE_TIMES, AWS)
    (writer,) = [a for a in mid.actions if a.startswith("Aurora writer:")]
    assert "`invoke up --layer data --suffix <suffix> --config data:maxAcu=" in writer
    # Past the account's quota there is no scale-out time to promise.
    assert huge.scale_out_seconds <= 10.0 * math.ceil(AWS.account_concurrency / AWS.lambda_scale_per_10s)
    # Every line carries a number.
    assert all(re.search(r"\d", a) for a in (*huge.actions, *mid.actions))


@pytest.mark.parametrize("users", [0, 10_000_001, 10**11])
def test_the_user_count_is_bounded(users: int) -> None:
    with pytest.raises(ConfigError, match="a whole number from 1 to 10,000,000"):
        model(Workload(users=users), STACK, DEFAULT_SERVICE_TIMES, AWS)


@pytest.mark.parametrize(
    ("workload", "message"),
    [
        (Workload(users=0), "users = 0"),
        (Workload(think_time_s=0.0), "think time = 0.0"),
        (Workload(think_time_s=-1.0), "think time = -1.0"),
        (Workload(think_time_s=float("nan")), "think time = nan"),
        (Workload(browse=0.5, view=0.5, reserve=0.5), "request mix"),
        (Workload(browse=-0.1, view=0.9, reserve=0.2), "request mix"),
        (Workload(edge_hit_ratio=1.0), "edge hit ratio = 1.0"),
        (Workload(edge_hit_ratio=-0.1), "edge hit ratio = -0.1"),
        (Workload(cacheable_urls=0), "cacheable URLs = 0"),
        (Workload(stock=0), "stock = 0"),
    ],
)
def test_bad_input_is_refused_naming_it(workload: Workload, message: str) -> None:
    with pytest.raises(ConfigError, match="allowed:") as err:
        model(workload, STACK, TIMES, AWS)
    assert message in str(err.value)


def test_stack_config_reads_keys_and_notes_what_is_missing() -> None:
    layers = {
        "app": {"provisionedConcurrencyMin": 3, "provisionedConcurrencyMax": 12, "provisionedConcurrencyTarget": 0.6,
                "apiThrottleRateLimit": 8000},
        "data": {"proxyMaxConnections": 250, "minAcu": 2.0, "maxAcu": 64.0},  # readerMaxCount absent
        "edge": None,  # no settings module yet
    }
    cfg = stack_config(lambda layer: layers.get(layer))
    assert (cfg.provisioned_min, cfg.provisioned_max, cfg.provisioned_target) == (3, 12, 0.6)
    assert (cfg.proxy_max_connections, cfg.min_acu, cfg.max_acu, cfg.api_throttle_rps) == (250, 2.0, 64.0, 8000)
    assert cfg.reader_max_count == 5 and cfg.micro_cache_ttl_s == 2.0 and cfg.origin_shield is True
    assert any("catalog-data:readerMaxCount" in n for n in cfg.notes)
    assert any("catalog-edge:microCacheTtlSeconds" in n for n in cfg.notes)
    assert len(cfg.notes) == 3


def test_stack_config_from_the_real_settings_matches_the_mission() -> None:
    cfg = stack_config(settings_defaults)
    assert (cfg.provisioned_min, cfg.provisioned_max, cfg.proxy_max_connections) == (2, 10, 100)


def _step(*, offered: int, sold: float, postgres: float, p99: float, shed: int = 0) -> dict[str, object]:
    scheduled = offered * 8
    return {"offeredRps": offered, "scheduled": scheduled, "takenRps": sold, "timeouts": 0, "errors": 0,
            "status": {"201": scheduled - shed, "503": shed}, "latencyMs": {"p99": p99},
            "cpuPercent": {"postgres": postgres}}


def _results(**overrides: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "machine": {"cpus": 2},
        "cases": {
            "hotRead": {"serviceTime": {"latencyMs": {"p50": 0.25}}},
            "dbRead": {"serviceTime": {"latencyMs": {"p50": 0.9}}, "pgbench": {"tps": 16000.0}},
            "flashSale": {"serviceTime": {"latencyMs": {"p50": 2.0}}, "pgServiceTime": {"latencyMs": {"p50": 1.1}},
                          "sustained": {"pgbench": {"tps": 1200.0}}, "sale": {"pgbench": {"tps": 3000.0}}},
            "coldStart": {"wallMs": {"median": 240.0}},
            # Two open-loop steps within capacity (0.4 and 0.5 ms of database CPU per unit) and one beyond it.
            "openLoop": {"variants": [{"steps": [
                _step(offered=1000, sold=1000.0, postgres=40, p99=20.0),
                _step(offered=2000, sold=2000.0, postgres=100, p99=50.0),
                _step(offered=4000, sold=2500.0, postgres=150, p99=900.0, shed=1500),
            ]}]},
        },
    }
    doc.update(overrides)
    return doc


def test_service_times_come_from_a_results_document() -> None:
    times, notes = service_times_from_results(_results(), "r.json")
    assert notes == ()
    assert times == ServiceTimes(hot_read_ms=0.25, db_read_ms=0.9, reserve_ms=2.0, reserve_txn_ms=1.1,
                                 hot_row_tps=1200.0, db_read_tps_per_vcpu=8000.0, sale_tps_per_vcpu=1500.0,
                                 cold_start_ms=240.0, reserve_db_cpu_ms=0.45, source="r.json")


def test_missing_or_unusable_results_fall_back_to_defaults_with_a_note() -> None:
    doc = _results(machine={})  # no core count: the per-vCPU rates cannot be computed
    doc["cases"]["coldStart"] = {"wallMs": {"median": 0}}  # type: ignore[index]
    del doc["cases"]["hotRead"]  # type: ignore[attr-defined]
    times, notes = service_times_from_results(doc, "r.json")
    assert times.hot_read_ms == DEFAULT_SERVICE_TIMES.hot_read_ms
    assert times.cold_start_ms == DEFAULT_SERVICE_TIMES.cold_start_ms
    assert times.db_read_tps_per_vcpu == DEFAULT_SERVICE_TIMES.db_read_tps_per_vcpu
    assert times.db_read_ms == 0.9
    assert len(notes) == 4 and all("r.json" in n for n in notes)


def test_the_writer_is_sized_for_the_selling_phase_when_it_costs_more_than_the_sale_mix() -> None:
    cheap_mix = replace(TIMES, sale_tps_per_vcpu=1_000_000.0, reserve_db_cpu_ms=0.5)
    c = model(Workload(users=50_000), STACK, cheap_mix, AWS)
    selling = min(c.reserve_rps, c.sku_selling_rps)
    assert c.writer_acu == pytest.approx(selling * 0.5 / 1000 * AWS.acu_per_vcpu)
    # Without an open-loop run the default stands, with a note naming what is missing.
    doc = _results()
    del doc["cases"]["openLoop"]  # type: ignore[attr-defined]
    times, notes = service_times_from_results(doc, "r.json")
    assert times.reserve_db_cpu_ms == DEFAULT_SERVICE_TIMES.reserve_db_cpu_ms
    assert notes and "openLoop" in notes[0]
    # Malformed open-loop data is "not measured", never an exception.
    for broken in ({"variants": "x"}, {"variants": [None]}, {"variants": [{"steps": [None, 3, {"status": None}]}]},
                   {"variants": [{"steps": [_step(offered=1000, sold=float("inf"), postgres=40, p99=20.0)]}]},
                   {"variants": [{"steps": [{**_step(offered=1000, sold=1000.0, postgres=40, p99=20.0),
                                             "status": {"201": True}}]}]}):
        doc["cases"]["openLoop"] = broken  # type: ignore[index]
        assert service_times_from_results(doc, "r.json")[0].reserve_db_cpu_ms == DEFAULT_SERVICE_TIMES.reserve_db_cpu_ms


def test_capacity_task_prints_the_model_from_a_results_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(_results()))
    perf.capacity(Context(), users=50_000, results=str(path))
    out = capsys.readouterr().out
    assert "50,000 users" in out and f"service times from {path}" in out
    assert "CloudFront absorbs" in out and "concurrency needed" in out and "sale SKU shards" in out
    assert "What to configure" in out


def test_capacity_task_refuses_a_bad_ratio_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exit) as err:
        perf.capacity(Context(), edge_hit_ratio="1.5")
    assert err.value.code == 2
    assert "edge hit ratio = 1.5" in capsys.readouterr().err


def test_capacity_report_renders_every_section() -> None:
    w = Workload()
    text = capacity_report(w, STACK, TIMES, model(w, STACK, TIMES, AWS), AWS, ("note one",))
    for heading in ("Load (Little's law", "Lambda (one request", "Database (RDS Proxy", "DynamoDB (on demand",
                    "What to configure", "Notes on inputs"):
        assert heading in text


@pytest.mark.parametrize("host", ["http://10.0.0.5:3000", "https://example.com", "http://192.168.1.2"])
def test_loadtest_refuses_a_remote_host_without_allow_remote(host: str) -> None:
    with pytest.raises(Exit) as err:
        perf.loadtest(Context(), host=host)
    assert err.value.code == 2 and "--allow-remote" in str(err.value.message)


def test_loadtest_checks_its_arguments_before_running() -> None:
    with pytest.raises(Exit, match="expected http"):
        perf.loadtest(Context(), host="127.0.0.1:3000")
    with pytest.raises(Exit, match="between 1 s and 1 h"):
        perf.loadtest(Context(), host="http://127.0.0.1:3000", run_time="2h")


def test_bench_report_shows_ratios_and_verdicts() -> None:
    run = {"rps": 100.0, "latencyMs": {"p50": 1.0, "p95": 2.0, "p99": 3.0}, "cpuPercent": {"server": 50}}
    doc = {
        "startedAt": "t", "machine": {"cpus": 2},
        "cases": {"hotRead": {"levels": [{"connections": 50, "api": run, "bare": {**run, "rps": 400.0},
                                          "ratio": 0.25}]}},
        "goals": [{"id": "hotReadRatio", "text": "hot read >= 40 %"}],
        "verdicts": [{"id": "hotReadRatio", "met": False, "detail": "50: 25 %"}],
    }
    text = bench_report(doc)
    assert "| hot product read, 50 connections | 100 rps | 1.0 / 2.0 / 3.0 ms |" in text
    assert "| 25% |" in text and "| hot read >= 40 % | 50: 25 % | MISSED |" in text
    assert "API hot read 5000 us" in text  # 50 % of a core / 100 rps


def test_the_report_always_compares_arrivals_with_what_the_sale_skus_rows_sell() -> None:
    from shared.ops.capacity import MAX_SHARDS, SHARD_UTILIZATION, reservations_line

    sale = model(Workload(users=50_000, think_time_s=5.0, edge_hit_ratio=0.9), STACK, TIMES, AWS)
    line = reservations_line(sale, 50_000)
    assert line == (f"Reservations: {sale.reserve_rps:,.0f}/s arrive for one SKU whose {sale.shards} stock row(s) "
                    f"sell {sale.sku_selling_rps:,.0f}/s: the rows sell them all")
    assert line in capacity_report(Workload(users=50_000), STACK, TIMES, sale, AWS)  # printed under 64 shards too
    short = model(Workload(users=50_000, think_time_s=5.0, edge_hit_ratio=0.9, shards=1), STACK, TIMES, AWS)
    assert "--users 50000 --sku <SKU> --waiting-room <SKU>` admits" in reservations_line(short, 50_000)
    # Past what 64 rows sell at 70 % of each lock: the planned figure, the 100 % one beside it, and the fix.
    big = model(Workload(users=2_000_000, think_time_s=5.0, edge_hit_ratio=0.9), STACK, TIMES, AWS)
    planned = MAX_SHARDS * SHARD_UTILIZATION * TIMES.hot_row_tps
    assert big.reserve_rps > planned
    [advice] = [a for a in big.actions if a.startswith("Reservations:")]
    assert f"even {MAX_SHARDS} stock rows sell {planned:.0f}/s at 70% of each row's lock" in advice
    assert f"({MAX_SHARDS * TIMES.hot_row_tps:.0f}/s at 100 %)" in advice
    assert "--users 2000000 --sku <SKU> --waiting-room <SKU>`" in advice
