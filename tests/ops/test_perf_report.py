"""The benchmark report's waiting-room section (cases.waitingRoom of bench/run.mjs)."""

from __future__ import annotations

from typing import Any

from shared.ops.perf_report import bench_report, waiting_room_rows


def _lat(p50: float, p99: float) -> dict[str, float]:
    return {"p50": p50, "p95": p99, "p99": p99}


def _doc() -> dict[str, Any]:
    room = {
        "soldRps": 249.5,
        "peakSoldRps10s": 255.0,
        "latencyMs": {"join": _lat(3.0, 40.0), "status": _lat(1.0, 9.0), "reserve": _lat(8.0, 120.0)},
        "timeouts": 0,
        "serverErrors": 30,
        "shed": 28,
        "otherServerErrors": 2,
        "inversionsOver1s": 12,
        "estimateWithin20pct": 0.93,
        "originRequestsPerWaitingShopperMinute": 6.5,
    }
    direct = {
        "soldRps": 600.0,
        "peakSoldRps10s": 700.0,
        "latencyMs": {"reserve": _lat(900.0, 5000.0)},
        "timeouts": 0,
        "serverErrors": 0,
        "shed": 43000,
        "inversionsOver1s": 12000,
    }
    return {
        "startedAt": "t",
        "machine": {"cpus": 2},
        "cases": {
            "waitingRoom": {
                "shoppers": 20000,
                "arrivalS": 10,
                "ratePerSecond": 250,
                "rateSource": "probe",
                "setup": {"emulator": "dynalite", "queueProcesses": 2},
                "room": room,
                "direct": direct,
            }
        },
        "goals": [{"id": "waitingRoomEstimate", "text": "estimate within 20 % for 90 %"}],
        "verdicts": [{"id": "waitingRoomEstimate", "met": True, "detail": "93 % of admitted shoppers"}],
    }


def test_waiting_room_rows_compare_the_room_with_shedding() -> None:
    rows = waiting_room_rows(_doc())
    assert rows[0] == [
        "with the room",
        "249.5/s (busiest 10 s 255.0/s)",
        "3.0 / 40.0 ms",
        "1.0 / 9.0 ms",
        "8.0 / 120.0 ms",
        "0 / 28 / 2",
        "12",
        "93%",
        "6.5",
    ]
    assert rows[1][0].startswith("without") and rows[1][5] == "0 / 43,000 / 0" and rows[1][6] == "12,000"


def test_bench_report_prints_the_waiting_room_and_its_verdicts() -> None:
    text = bench_report(_doc())
    assert "Waiting room: 20,000 shoppers arriving within 10 s for one SKU, admission 250/s (probe); table on " in text
    assert "dynalite, 2 API processes for joins and polls" in text
    assert "| estimate within 20 % for 90 % | 93 % of admitted shoppers | met |" in text


def test_no_waiting_room_section_without_the_case() -> None:
    assert waiting_room_rows({"cases": {}}) == []
    assert "Waiting room" not in bench_report({"cases": {}})
