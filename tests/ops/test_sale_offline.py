"""Planning a sale from a fresh clone: `sale plan --dry-run`, `sale check --plan` and `capacity` answer with no
Pulumi CLI, passphrase or stacks (the layers' default settings, said so), and every bad argument is one line with
exit code 2 before any tool or stack is reached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.ops import sale_tasks as sale_cli
from tests.support.tasks import run_invoke

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
START, END = "2030-05-02T18:00:00Z", "2030-05-02T20:00:00Z"




@pytest.fixture
def fresh_clone(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """No Pulumi CLI anywhere, no passphrase: what a new machine has after README command 1."""
    import shared.deploy.pulumi_cli as cli

    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(cli, "LOCAL_CLI_ROOT", cli.LOCAL_CLI_ROOT.parent / "no-cli-here")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    monkeypatch.setattr(sale_cli, "_now", lambda: NOW)


def test_a_dry_run_plans_from_the_layers_defaults_without_a_cli(fresh_clone: None,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert run_invoke("sale", "plan", "--suffix", "qa", "--start", START, "--end", END, "--users", "50000",
               "--sku", "SKU-000001", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "settings: the layers' defaults, offline (no Pulumi CLI on PATH)" in out
    assert "provisioned concurrency min-max, alias live" in out and "dry run: nothing stored" in out


def test_the_offline_check_answers_without_a_cli(fresh_clone: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_invoke("sale", "check", "--suffix", "qa", "--plan") == 2  # NO-GO: no window is declared
    out = capsys.readouterr().out
    assert "settings: the layers' defaults, offline" in out and "NO-GO" in out


@pytest.mark.parametrize(("argv", "needle"), [
    (["--start", "2030-04-01T18:00:00Z", "--end", "2030-04-01T20:00:00Z"], "in the past"),
    (["--start", END, "--end", START], "not after its start"),
    (["--start", START, "--end", "2030-06-02T20:00:00Z"], "longer than 7 days"),
    (["--start", START, "--end", END, "--sku", "ABC"], "SKU 'ABC' is not a catalog SKU"),
    (["--start", START, "--end", END, "--users", str(10**11)], "--users 100,000,000,000 is outside 1-10,000,000"),
    (["--start", START, "--end", END, "--users", "0"], "--users 0 is outside"),
    (["--start", START, "--end", END, "--users", "lots"], "--users 'lots' is not a whole number"),
    (["--start", START, "--end", END, "--lead-minutes", "5000"], "--lead-minutes 5000 is outside"),
    (["--start", START, "--end", END, "--lambda-quota", "-3"], "--lambda-quota -3 is negative"),
    (["--start", "tomorrow", "--end", END], "sale time"),
])
def test_bad_arguments_are_one_line_before_any_gate(fresh_clone: None, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], argv: list[str],
                                                    needle: str) -> None:
    def unreachable(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stacks were reached before the arguments were checked")

    monkeypatch.setattr(sale_cli, "_backend", unreachable)
    for mode in ([], ["--dry-run"]):
        assert run_invoke("sale", "plan", "--suffix", "qa", *argv, *mode) == 2
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], err


@pytest.mark.parametrize(("argv", "needle"), [
    (["capacity", "--users", "abc"], "--users 'abc' is not a whole number"),
    (["capacity", "--users", str(10**11)], "a whole number from 1 to 10,000,000"),
    (["capacity", "--think-time", "soon"], "--think-time 'soon' is not a number"),
    (["bench-synth", "--runs", "x"], "--runs 'x' is not a whole number"),
])
def test_mistyped_numbers_in_any_task_are_one_line(capsys: pytest.CaptureFixture[str], argv: list[str],
                                                   needle: str) -> None:
    assert run_invoke(*argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err, err


def test_capacity_answers_without_a_cli(fresh_clone: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_invoke("capacity", "--users", "50000") == 0
    assert "What to configure where a mission number is not enough" in capsys.readouterr().out


def test_a_window_far_ahead_is_still_planned(fresh_clone: None, capsys: pytest.CaptureFixture[str]) -> None:
    start = NOW + timedelta(days=300)
    assert run_invoke("sale", "plan", "--suffix", "qa", "--start", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "--end", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), "--dry-run") == 0


@pytest.mark.parametrize(("argv", "usage"), [
    (("sale", "--help"), "Usage: invoke sale plan|cancel|check"), (("sale", "-h"), "Usage: invoke sale plan|"),
    (("sale", "help"), "Usage: invoke sale plan|cancel|check"),
    # Tasks whose first argument is required or positional: Invoke hands it the next word, `--help` included.
    (("rehearse", "--help"), "Usage: invoke rehearse"), (("synth", "--help"), "Usage: invoke synth"),
    (("loadtest", "--help"), "Usage: invoke loadtest"), (("check", "-h"), "Usage: invoke check"),
])
def test_task_help_is_help_not_bad_input(argv: tuple[str, ...], usage: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_invoke(*argv) == 0
    out = capsys.readouterr()
    assert out.out.startswith(usage) and "Parameters:" in out.out, out.out
    assert "error" not in out.err
    if argv[0] == "sale":
        assert "--waiting-room" in out.out and out.out.count("Usage:") == 1


def test_invokes_own_help_shows_the_positional_action_and_a_numbers_value(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run_invoke("--help", "sale") == 0
    assert "Usage: invoke sale plan|cancel|check [--options]" in capsys.readouterr().out
    assert run_invoke("--help", "capacity") == 0
    out = capsys.readouterr().out
    assert "-t NUMBER, --think-time=NUMBER" in out and "-u INT, --users=INT" in out  # a float flag is no switch
