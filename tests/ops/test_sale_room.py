"""`invoke sale plan --waiting-room`: the SKUs behind the room, its admission rate (half the capacity model's
one-SKU selling rate) and cap stored in the app stack's config with the window; `--dry-run` shows it offline;
a room SKU that is not a --sku refused in one line; `invoke sale cancel` takes the room away with its window."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from shared.ops import sale_tasks as sale_cli
from shared.ops.capacity import Workload, model
from shared.ops.perf_report import load_service_times
from shared.ops.sale import stack_settings
from shared.ops.sale_check import Expected, readiness
from shared.ops.sale_room import admit_per_second
from shared.runtime.layers import REPO_ROOT
from tests.conftest import deployed_platform
from tests.support.memory import InMemoryBackend
from tests.support.tasks import run_invoke

SUFFIX = "qa"
START, END = "2030-05-01T18:00:00Z", "2030-05-01T20:00:00Z"
RESULTS = str(REPO_ROOT / "bench" / "reference-run.json")
ROOM_KEYS = (
    "waitingRoomSkus",
    "waitingRoomAdmitPerSecond",
    "waitingRoomMaxActive",
    "waitingRoomStartsAt",
    "waitingRoomEndsAt",
)


@pytest.fixture
def stacks(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemoryBackend]:
    backend = deployed_platform(SUFFIX)
    monkeypatch.setattr(sale_cli, "_backend", lambda *a, **k: backend)
    yield backend


def plan(*extra: str) -> int:
    return run_invoke(
        "sale",
        "plan",
        "--suffix",
        SUFFIX,
        "--start",
        START,
        "--end",
        END,
        "--results",
        RESULTS,
        "--users",
        "50000",
        *extra,
    )


def app_config(backend: InMemoryBackend) -> dict[str, str]:
    config = backend.stacks[("app", SUFFIX)].config
    return {k.split(":", 1)[1]: e.value for k, e in config.items() if k.split(":", 1)[1] in ROOM_KEYS}


def one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1, err
    return err[0]


def test_plan_stores_the_room_with_half_the_models_one_sku_rate(
    stacks: InMemoryBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan("--sku", "SKU-000123", "--sku", "SKU-000456", "--waiting-room", "SKU-000123") == 0
    out = capsys.readouterr().out
    times, _ = load_service_times(RESULTS)
    c = model(Workload(users=50_000), stack_settings(stacks, SUFFIX), times)
    rate = math.floor(min(c.sku_selling_rps, c.proxy_writes_capacity) / 2)
    assert admit_per_second(c, 1) == rate
    assert app_config(stacks) == {
        "waitingRoomSkus": "SKU-000123",
        "waitingRoomAdmitPerSecond": str(rate),
        "waitingRoomMaxActive": str(rate * 20),
        "waitingRoomStartsAt": START,
        "waitingRoomEndsAt": END,  # the room ends with its window
    }
    assert "waiting room (catalog-app:waitingRoom*)" in out and f"SKU-000123: {rate}/s per SKU" in out
    assert "catalog-app:waitingRoomSkus" in out.splitlines()[-1]  # named where it was stored


def test_several_skus_share_the_writer(stacks: InMemoryBackend) -> None:
    assert plan("--sku", "SKU-000123", "--sku", "SKU-000456", "--waiting-room", "SKU-000123,SKU-000456") == 0
    times, _ = load_service_times(RESULTS)
    c = model(Workload(users=50_000), stack_settings(stacks, SUFFIX), times)
    assert app_config(stacks)["waitingRoomSkus"] == "SKU-000123,SKU-000456"
    assert int(app_config(stacks)["waitingRoomAdmitPerSecond"]) == admit_per_second(c, 2) <= admit_per_second(c, 1)
    assert admit_per_second(c, 2) * 2 <= c.proxy_writes_capacity / 2 + 1


def test_dry_run_shows_the_room_offline_and_stores_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shared.runtime.errors import CatalogError

    def unreachable(*a: object, **k: object) -> None:
        raise CatalogError("no Pulumi CLI", "install it")

    monkeypatch.setattr(sale_cli, "_backend", unreachable)
    assert plan("--sku", "SKU-000123", "--waiting-room", "SKU-000123", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "offline" in out and "waiting room (catalog-app:waitingRoom*)" in out and "dry run: nothing stored" in out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (
            ("--sku", "SKU-000123", "--waiting-room", "SKU-000456"),
            "--waiting-room SKU-000456 is not a --sku of this sale",
        ),
        (("--sku", "SKU-000123", "--waiting-room", "SKU-000123,SKU-000123"), "--waiting-room lists a SKU twice"),
        (("--waiting-room", "bad sku"), "--waiting-room bad sku is not a --sku of this sale"),
    ],
)
def test_a_bad_room_is_refused_in_one_line_and_nothing_stored(
    extra: tuple[str, ...], needle: str, stacks: InMemoryBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan(*extra) == 2
    assert needle in one_error(capsys)
    assert not stacks.ops("set_config")


def test_cancel_takes_the_room_away_with_its_window(stacks: InMemoryBackend) -> None:
    assert plan("--sku", "SKU-000123", "--waiting-room", "SKU-000123") == 0
    assert run_invoke("sale", "cancel", "--suffix", SUFFIX, "--start", START) == 0
    assert app_config(stacks)["waitingRoomSkus"] == "" and app_config(stacks)["waitingRoomStartsAt"] == ""
    assert app_config(stacks)["waitingRoomEndsAt"] == ""


LATER_START, LATER_END = "2030-06-01T18:00:00Z", "2030-06-01T20:00:00Z"


def plan_later(*extra: str) -> int:
    return run_invoke(
        "sale",
        "plan",
        "--suffix",
        SUFFIX,
        "--start",
        LATER_START,
        "--end",
        LATER_END,
        "--results",
        RESULTS,
        "--users",
        "50000",
        *extra,
    )


def at(monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    from shared.runtime.sale_windows import parse_utc

    monkeypatch.setattr(sale_cli, "_now", lambda: parse_utc(moment))


def test_a_later_sale_without_a_room_clears_the_ended_one(
    stacks: InMemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert plan("--sku", "SKU-000123", "--waiting-room", "SKU-000123") == 0
    at(monkeypatch, "2030-05-02T00:00:00Z")  # the first sale is over
    assert plan_later("--sku", "SKU-000456") == 0
    assert app_config(stacks)["waitingRoomSkus"] == ""
    assert app_config(stacks)["waitingRoomStartsAt"] == app_config(stacks)["waitingRoomEndsAt"] == ""


def test_a_later_sale_with_a_room_replaces_the_ended_one(
    stacks: InMemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert plan("--sku", "SKU-000123", "--waiting-room", "SKU-000123") == 0
    at(monkeypatch, "2030-05-02T00:00:00Z")
    assert plan_later("--sku", "SKU-000456", "--waiting-room", "SKU-000456") == 0
    room = app_config(stacks)
    assert (room["waitingRoomSkus"], room["waitingRoomStartsAt"], room["waitingRoomEndsAt"]) == (
        "SKU-000456",
        LATER_START,
        LATER_END,
    )


def test_a_room_still_ahead_is_neither_replaced_nor_cleared(
    stacks: InMemoryBackend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan("--sku", "SKU-000123", "--waiting-room", "SKU-000123") == 0
    before = app_config(stacks)
    capsys.readouterr()
    writes = len(stacks.ops("set_config"))
    assert plan_later("--sku", "SKU-000456", "--waiting-room", "SKU-000456") == 2
    assert "is still ahead or under way; one room at a time" in one_error(capsys)
    assert len(stacks.ops("set_config")) == writes  # nothing stored
    assert plan_later("--sku", "SKU-000456") == 0  # another sale without a room leaves the first sale's room
    assert app_config(stacks) == before


def test_the_plan_says_whether_the_room_is_warranted(
    stacks: InMemoryBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    from shared.ops.sale_room import assess

    assert plan("--sku", "SKU-000123", "--waiting-room", "SKU-000123") == 0
    out = capsys.readouterr().out
    times, _ = load_service_times(RESULTS)
    c = model(Workload(users=50_000), stack_settings(stacks, SUFFIX), times)
    admit = admit_per_second(c, 1)
    assert f"waiting room: {c.reserve_rps:,.0f} reservations/s arrive per SKU" in out
    # 50,000 shoppers in the steady-state model: the rows sell every arrival, so the room (at half that) slows it.
    assert c.sku_selling_rps >= c.reserve_rps > admit
    assert "the room slows this SKU" in out
    big = model(Workload(users=2_000_000), stack_settings(stacks, SUFFIX), times)
    assert big.reserve_rps > big.sku_selling_rps
    assert not any("slows" in n or "not needed" in n for n in assess(big, 1, admit_per_second(big, 1)))
    few = model(Workload(users=500), stack_settings(stacks, SUFFIX), times)
    assert any(n.startswith("the room is not needed") for n in assess(few, 1, admit_per_second(few, 1)))


def test_check_has_a_row_for_the_rooms_schedule() -> None:
    class Account:
        class quotas:  # the reader's shape: account.quotas.lambda_concurrency()
            @staticmethod
            def lambda_concurrency() -> float:
                return 5000.0

        state = "DISABLED"

        def api_gateway_throttle(self) -> dict[str, float]:
            return {"rateLimit": 10_000, "burstLimit": 5_000}

        def scheduled_actions(self, namespace: str, resource_id: str) -> list[dict[str, str]]:
            return []

        def schedules(self, prefix: str) -> list[dict[str, str]]:
            return [{"Name": f"catalog-waiting-room-{SUFFIX}", "State": self.state}] if "waiting" in prefix else []

        def alarms(self, names: object) -> list[dict[str, str]]:
            return []

        def web_acl_rules(self, arn: str) -> list[str]:
            return ["r"]

    from shared.runtime.sale_windows import SaleWindow, parse_utc

    window = SaleWindow(parse_utc(START), parse_utc(END), 15, {"pcMin": 10, "pcMax": 15})
    outputs = {
        "app": {
            "functionName": "catalog-api-qa",
            "waitingRoomSkus": ["SKU-000123"],
            "waitingRoomScheduleName": f"catalog-waiting-room-{SUFFIX}",
        }
    }
    expected = Expected(
        suffix=SUFFIX,
        windows={"app": (window,), "data": (), "observability": ()},
        outputs=outputs,
        api_throttle_rate=100.0,
    )
    account = Account()
    from datetime import UTC, datetime

    now = datetime(2030, 5, 1, tzinfo=UTC)
    row = next(r for r in readiness(expected, account, now=now) if r.check.startswith("waiting room"))
    assert not row.ok and "DISABLED" in row.detail and "invoke up --layer app" in row.fix
    account.state = "ENABLED"
    row = next(r for r in readiness(expected, account, now=now) if r.check.startswith("waiting room"))
    assert row.ok and "SKU-000123" in row.detail
    no_room = Expected(
        suffix=SUFFIX,
        windows=expected.windows,
        api_throttle_rate=100.0,
        outputs={"app": {"functionName": "catalog-api-qa", "waitingRoomSkus": []}},
    )
    assert not [r for r in readiness(no_room, account, now=now) if r.check.startswith("waiting room")]
