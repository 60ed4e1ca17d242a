"""`invoke sale plan|cancel` against the in-memory backend: the capacity model's numbers stored in each owning
layer's saleWindows (a table first; --dry-run stores nothing); bad input refused with one line, nothing stored."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from shared.ops import sale_tasks as sale_cli
from shared.ops.capacity import Workload, model
from shared.ops.perf_report import load_service_times
from shared.ops.sale import SaleRequest, cancel_window, check_skus, plan_sale, stack_settings
from shared.runtime.layers import REPO_ROOT, get_layer
from shared.runtime.sale_windows import parse_utc
from tests.conftest import deployed_platform
from tests.support.memory import InMemoryBackend
from tests.support.tasks import run_invoke

SUFFIX = "qa"
START, END = "2030-05-01T18:00:00Z", "2030-05-01T20:00:00Z"
RESULTS = str(REPO_ROOT / "bench" / "reference-run.json")
KEYS = {layer: f"catalog-{layer}:saleWindows" for layer in ("app", "data", "observability")}


@pytest.fixture
def stacks(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemoryBackend]:
    backend = deployed_platform(SUFFIX)
    monkeypatch.setattr(sale_cli, "_backend", lambda *a, **k: backend)  # the task's one seam to the stacks
    yield backend


def run(*argv: str) -> int:
    return run_invoke("sale", *argv)


def stored(backend: InMemoryBackend, layer: str) -> list[dict[str, object]]:
    entry = backend.stacks[(layer, SUFFIX)].config.get(KEYS[layer])
    return json.loads(entry.value) if entry else []


def plan_args(*extra: str, start: str = START, end: str = END) -> list[str]:
    return ["plan", "--suffix", SUFFIX, "--start", start, "--end", end, "--results", RESULTS, *extra]


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    return err[0]


def test_plan_stores_the_models_numbers_in_every_owning_layer(stacks: InMemoryBackend,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*plan_args("--users", "50000", "--sku", "SKU-000123")) == 0
    out = capsys.readouterr().out
    times, _ = load_service_times(RESULTS)
    c = model(Workload(users=50_000), stack_settings(stacks, SUFFIX), times)
    [app] = stored(stacks, "app")
    assert app == {"start": START, "end": END, "leadMinutes": 15, "pcMin": c.lambda_concurrency_with_headroom,
                   "pcMax": math.ceil(c.lambda_concurrency_with_headroom * 1.5),
                   "skus": {"SKU-000123": math.ceil(c.reserve_rps / c.hot_row_tps)}}
    [data] = stored(stacks, "data")
    assert data["minAcu"] == math.ceil(c.writer_acu * 2) / 2 and data["maxAcu"] == 16.0
    assert (data["readersMin"], data["readersMax"]) == (max(2, c.readers_needed), 5)
    assert "warmThroughput" not in data  # the model's DynamoDB rates fit a new on-demand table
    [obs] = stored(stacks, "observability")
    assert obs["pcMin"] == app["pcMin"]
    # the table came first, naming each change, its steady value, the sale's and when
    assert out.index("provisioned concurrency min-max") < out.index("stored in catalog-app:saleWindows")
    assert f"{app['pcMin']}-{app['pcMax']}" in out and "2030-05-01T17:45:00Z -> 2030-05-01T20:00:00Z" in out


def test_dry_run_prints_the_table_and_stores_nothing(stacks: InMemoryBackend,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*plan_args("--dry-run")) == 0
    assert "dry run: nothing stored" in capsys.readouterr().out
    assert all(stored(stacks, layer) == [] for layer in KEYS)
    assert not stacks.ops("set_config")


def test_a_second_window_is_added_and_cancel_removes_it_everywhere(stacks: InMemoryBackend) -> None:
    assert run(*plan_args()) == 0
    assert run(*plan_args(start="2030-05-02T18:00:00Z", end="2030-05-02T19:00:00Z")) == 0
    assert [w["start"] for w in stored(stacks, "data")] == [START, "2030-05-02T18:00:00Z"]
    assert run("cancel", "--suffix", SUFFIX, "--start", "2030-05-02T18:00:00Z") == 0
    assert all([w["start"] for w in stored(stacks, layer)] == [START] for layer in KEYS)


def test_cancel_refuses_a_window_whose_scale_out_has_run() -> None:
    backend = deployed_platform(SUFFIX)
    times, _ = load_service_times(RESULTS)
    request = SaleRequest(parse_utc(START), parse_utc(END), 50_000)
    from shared.ops.sale import apply_plan

    apply_plan(backend, SUFFIX, plan_sale(request, stack_settings(backend, SUFFIX), times, lambda_quota=1000,
                                          now=datetime(2030, 5, 1, tzinfo=UTC)))
    before = {layer: stored(backend, layer) for layer in KEYS}
    with pytest.raises(Exception, match=r"already started: its scale-out ran at 2030-05-01T17:45:00Z"):
        cancel_window(backend, SUFFIX, parse_utc(START), now=datetime(2030, 5, 1, 17, 50, tzinfo=UTC))
    assert {layer: stored(backend, layer) for layer in KEYS} == before


@pytest.mark.parametrize(("argv", "needle"), [
    (plan_args(start="2020-05-01T18:00:00Z", end="2020-05-01T20:00:00Z"), "in the past"),
    (plan_args(end="2030-05-01T17:00:00Z"), "not after its start"),
    (plan_args(end="2030-05-01T18:10:00Z"), "not longer than its 15 min lead time"),
    (plan_args(start="2030-05-01 18:00"), "is not an ISO 8601 UTC time"),
    (plan_args("--sku", "ABC-1"), "SKU 'ABC-1' is not a catalog SKU"),
    (plan_args("--lambda-quota", "120"),
     "Lambda concurrent executions (L-B99A9384) is 120, which leaves 20 (100 stay unreserved): "),
    (plan_args("--users", "2000000"), "Lambda concurrent executions (L-B99A9384) is 1,000"),
    (plan_args("--lead-minutes", "2"), "--lead-minutes 2 is outside 5-240"),
    (["cancel", "--suffix", SUFFIX, "--start", "2031-01-01T00:00:00Z"], "no sale window starts at"),
    (["nope", "--suffix", SUFFIX], "unknown sale action 'nope'"),
    (["plan", "--suffix", "Q_A", "--start", START, "--end", END], "uppercase"),
])
def test_bad_input_is_refused_with_one_line_and_nothing_stored(argv: list[str], needle: str, stacks: InMemoryBackend,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*argv) == 2
    assert needle in one_error(capsys)
    assert not stacks.ops("set_config")


def test_an_overlapping_window_is_refused_before_its_table(stacks: InMemoryBackend,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*plan_args()) == 0
    capsys.readouterr()
    before = {layer: stored(stacks, layer) for layer in KEYS}
    # starts at 19:00 with a 15 min lead: its scale-out (18:45) falls inside the first window
    assert run(*plan_args(start="2030-05-01T19:00:00Z", end="2030-05-01T21:00:00Z")) == 2
    captured = capsys.readouterr()
    assert "overlaps window 2030-05-01T18:00:00Z-2030-05-01T20:00:00Z" in captured.err
    assert "provisioned concurrency min-max" not in captured.out
    assert {layer: stored(stacks, layer) for layer in KEYS} == before


def test_plan_refuses_stacks_that_do_not_exist(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    backend = InMemoryBackend()
    backend.deployed(get_layer("network"), SUFFIX)
    monkeypatch.setattr(sale_cli, "_backend", lambda *a, **k: backend)
    assert run(*plan_args()) == 2
    assert "stack catalog-app/qa does not exist" in one_error(capsys)


def test_with_an_api_an_unknown_sku_is_refused() -> None:
    asked: list[str] = []

    def fetch(url: str) -> int:
        asked.append(url)
        return 404 if url.endswith("SKU-999999") else 200

    check_skus(("SKU-000123",), "https://api.example.test", fetch)
    with pytest.raises(Exception, match=r"unknown SKU SKU-999999: GET https://api.example.test/api/products/"):
        check_skus(("SKU-000123", "SKU-999999"), "https://api.example.test/", fetch)
    assert asked[-1] == "https://api.example.test/api/products/SKU-999999"


def test_the_quota_defaults_to_the_observability_stacks_setting(stacks: InMemoryBackend,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    stacks.set_config(get_layer("observability"), SUFFIX, "catalog-observability:accountConcurrencyLimit", "110")
    assert run(*plan_args()) == 2
    assert "is 110, which leaves 10" in one_error(capsys)
