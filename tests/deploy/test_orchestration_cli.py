"""The deploy tasks through Invoke: bad input gives exit code 2 and one line, and nothing is touched; the flows
run end to end against the in-memory backend; engine failures exit 1; drift exits 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest

from shared.deploy import environment
from shared.deploy.cloud import EdgeCleanupResult
from shared.deploy.runner import Orchestrator
from shared.plan.identity import plan_only_identity
from shared.runtime.layers import LAYER_NAMES, REPO_ROOT, get_layer
from tests.support.memory import InMemoryBackend
from tests.support.tasks import LoggingRoleAccount, QuietEdge, deploy_tasks_on, run_invoke


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A passphrase and a private state dir; opening a real session fails the test unless expected."""
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path / 'state'}")
    return tmp_path / "state"


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(("argv", "needle"), [
    (["up", "--layer", "nope", "--suffix", "qa"], "unknown layer 'nope'"),
    (["up", "--layer", "data", "--suffix", "Q_A"], "suffix 'Q_A' has uppercase letters"),
    (["down-all", "--suffix", "qa-"], "must not end with a hyphen"),
    (["up", "--layer", "data"], "the suffix is empty"),
    (["up", "--layer", "data", "--suffix", "qa", "--config", "minAcu=1"], "is not layer:key=value"),
    (["up", "--layer", "data", "--suffix", "qa", "--config", "data:minAcu=zero"], "minAcu = 'zero' is not a number"),
    (["up", "--layer", "data", "--suffix", "qa", "--config", "data:maxAcu="],
     "catalog-data:maxAcu is empty (expected a number, e.g. maxAcu=16: "),
    (["up-all", "--suffix", "qa", "--config", "data:nope=1"], "unknown config key catalog-data:nope"),
    (["preview", "--layer", "data", "--suffix", "qa", "--config", "app:imageUri=x"], "does not apply to --layer"),
    (["up", "--layer", "data", "--suffix", "qa", "--yes", "--backend", "https://api.pulumi.com"],
     "is not a file:// or s3:// backend"),
    (["drift", "--suffix", "qa", "--layer", "cdn"], "unknown layer 'cdn'"),
    (["cleanup-edge", "--suffix", "qa", "--wait-minutes", "-1"], "is negative"),
    (["down-all", "--suffix", "qa", "--edge-wait-minutes", "-5"], "--edge-wait-minutes -5 is negative"),
])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], needle: str, guarded: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run_invoke(*argv) == 2
    assert needle in one_error_line(capsys)
    assert not guarded.exists()  # no state touched


def test_missing_passphrase_without_terminal(guarded: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    monkeypatch.setattr(environment, "stdin_is_terminal", lambda: False)
    import shared.deploy.pulumi_cli as pulumi_cli

    monkeypatch.setattr(pulumi_cli, "locate_pulumi_cli", lambda **kw: object())
    assert run_invoke("up", "--layer", "network", "--suffix", "qa", "--yes") == 2
    assert "PULUMI_CONFIG_PASSPHRASE is not set and there is no terminal" in one_error_line(capsys)


def test_a_missing_cli_is_reported_before_the_passphrase_is_asked(guarded: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import shared.deploy.pulumi_cli as pulumi_cli

    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    monkeypatch.setattr(environment, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda *a, **k: pytest.fail("asked for a passphrase"))
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "pulumi" else real_which(name))
    monkeypatch.setattr(pulumi_cli, "install_release",
                        lambda *a, **kw: (_ for _ in ()).throw(urllib.error.URLError("offline")))
    monkeypatch.setattr(pulumi_cli, "LOCAL_CLI_ROOT", guarded.parent / "cli")
    assert run_invoke("up", "--layer", "network", "--suffix", "qa", "--yes") == 2
    line = one_error_line(capsys)
    assert "could not be installed (github.com unreachable)" in line and "invoke doctor" in line


def test_cli_missing_offline_is_one_line(guarded: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "pulumi" else real_which(name))
    import shared.deploy.pulumi_cli as pulumi_cli

    # The verified release download (not the SDK's install script) is what runs when no CLI is found.
    monkeypatch.setattr(pulumi_cli, "install_release",
                        lambda *a, **kw: (_ for _ in ()).throw(urllib.error.URLError("offline")))

    monkeypatch.setattr(pulumi_cli, "LOCAL_CLI_ROOT", guarded.parent / "cli")  # not the repo's .pulumi-cli
    assert run_invoke("secrets", "--suffix", "qa") == 2
    line = one_error_line(capsys)
    assert "Pulumi CLI is not on PATH and could not be installed (github.com unreachable)" in line
    assert "https://www.pulumi.com/docs/install/" in line
    assert not guarded.exists()


def test_missing_aws_credentials_stop_before_any_stack(guarded: Path, monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shared.deploy.pulumi_cli as pulumi_cli

    monkeypatch.setattr(pulumi_cli, "locate_pulumi_cli", lambda **kw: object())
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert run_invoke("down-all", "--suffix", "qa", "--yes") == 2
    assert "no usable AWS credentials" in one_error_line(capsys)
    assert not guarded.exists()


def test_the_invoke_entry_point_itself() -> None:
    env = {**os.environ, "PULUMI_CONFIG_PASSPHRASE": "x"}
    invoke = Path(sys.executable).with_name("invoke")
    done = subprocess.run([str(invoke), "up", "--layer", "nope", "--suffix", "qa"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: unknown layer 'nope' (choose one of: network, data, app, edge, observability; e.g. --layer data)"]


# --- whole flows against the in-memory backend -----------------------------------------------------------------
@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> InMemoryBackend:
    return deploy_tasks_on(InMemoryBackend(), monkeypatch)


def test_flows_end_to_end(memory: InMemoryBackend, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_invoke("secrets", "--suffix", "qa") == 0
    out = capsys.readouterr().out
    # RDS manages the master password by default: no dbPassword is generated into the data stack's config.
    assert "catalog-data:dbPassword: not needed" in out
    assert "catalog-data:dbPassword" not in memory.stacks[("data", "qa")].config
    secret = memory.stacks[("app", "qa")].config["catalog-app:originVerifySecret"].value
    assert secret not in out

    # The app layer refuses to deploy without the identity it verifies tokens with: give it one.
    identity = [arg for key, value in plan_only_identity().items() for arg in ("--config", f"app:{key}={value}")]
    assert run_invoke("up-all", "--suffix", "qa", "--yes", "--config", "data:maxAcu=32", *identity) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()[-5:]] == list(LAYER_NAMES)
    assert memory.stacks[("data", "qa")].config["catalog-data:maxAcu"].value == "32"

    assert run_invoke("outputs", "--layer", "app", "--suffix", "qa") == 0
    out = capsys.readouterr().out
    assert "originVerifyHeaderValue = [secret]" in out and "albDnsName = app-albDnsName-qa" in out

    assert run_invoke("drift", "--suffix", "qa") == 0
    memory.drifted["network"] = 1
    assert run_invoke("drift", "--suffix", "qa", "--layer", "network") == 2
    capsys.readouterr()

    assert run_invoke("down", "--layer", "data", "--suffix", "qa", "--yes") == 2
    assert "catalog-observability/qa still holds" in one_error_line(capsys)

    assert run_invoke("down-all", "--suffix", "qa", "--dry-run") == 0
    assert memory.ops("destroy") == []
    capsys.readouterr()

    memory.fail_on[("destroy", "app")] = "ENI still in use"
    assert run_invoke("down-all", "--suffix", "qa", "--yes") == 1
    captured = capsys.readouterr()
    assert "failed" in captured.out and "run `invoke down-all --suffix qa` again" in captured.err
    assert run_invoke("down-all", "--suffix", "qa", "--yes") == 0
    assert memory.stacks == {}


def test_single_operation_failure_exits_1(memory: InMemoryBackend, capsys: pytest.CaptureFixture[str]) -> None:
    memory.fail_on[("up", "network")] = "VpcLimitExceeded"
    assert run_invoke("up", "--layer", "network", "--suffix", "qa", "--yes") == 1
    assert "VpcLimitExceeded" in one_error_line(capsys)
    assert memory.resource_count(get_layer("network"), "qa") == 0


def test_cleanup_edge_passes_the_wait_and_reports_pending(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    import shared.deploy.tasks as deploy

    waits: list[float] = []

    class Replicated(QuietEdge):
        def after_destroy(self, suffix: str, wait_minutes: float = 0.0) -> EdgeCleanupResult:
            waits.append(wait_minutes)
            return EdgeCleanupResult(("catalog-edge-auth-qa: still replicated",), ("catalog-edge-auth-qa",))

    orchestrator = Orchestrator(InMemoryBackend(), edge=Replicated(), env={}, remove_readers=lambda c, m: [],
                                account=LoggingRoleAccount())
    monkeypatch.setattr(deploy, "_session", lambda *a, **k: orchestrator)
    assert run_invoke("cleanup-edge", "--suffix", "qa", "--wait-minutes", "90") == 0  # pending is no error
    assert waits == [90.0]
    assert "pending: catalog-edge-auth-qa" in capsys.readouterr().out
