"""`invoke dev` on a busy or impossible port: one line naming the port and how to pick another, exit code 2, and
nothing started (no PostgreSQL, moto or Node process is left behind)."""

from __future__ import annotations

import socket

import pytest

import shared.dev.tasks as dev_tasks
from tests.support.tasks import run_invoke


@pytest.fixture
def nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(dev_tasks.subprocess, "run", refuse)


def test_a_busy_port_is_one_line_and_starts_nothing(nothing_starts: None,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run_invoke("dev", "--port", str(port)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: port {port} on 127.0.0.1 is in use by another process (stop it, or pick another: "
                   f"invoke dev --port {port + 1})"]


@pytest.mark.parametrize("port", ["0", "70000"])
def test_an_impossible_port_is_one_line(nothing_starts: None, capsys: pytest.CaptureFixture[str], port: str) -> None:
    assert run_invoke("dev", "--port", port) == 2
    assert capsys.readouterr().err.strip() == f"error: --port {port} is not a TCP port (1-65535, e.g. --port 3000)"


def test_a_free_port_passes_the_check() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dev_tasks.check_port_free(port)  # released above: free again
