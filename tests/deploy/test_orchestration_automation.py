"""The Automation API side: engine events become one line per resource; the real backend's stack lifecycle runs
where the Pulumi CLI is on PATH (skipped elsewhere, with that reason)."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest
from pulumi.automation import EngineEvent, OpType

from shared.deploy.automation import AutomationBackend, _changes, convert_event
from shared.deploy.interface import ConfigEntry, ResourceEvent
from shared.deploy.report import format_changes, format_event, has_changes
from shared.runtime.layers import get_layer

URN = "urn:pulumi:qa::catalog-network::catalog:network:Vpc$aws:ec2/vpc:Vpc::catalog-vpc-qa"


def event(**data: object) -> EngineEvent:
    return EngineEvent.from_json({"sequence": 1, "timestamp": 0, **data})


def test_finished_steps_become_resource_lines() -> None:
    meta = {"op": "create", "urn": URN, "type": "aws:ec2/vpc:Vpc", "provider": ""}
    converted = convert_event(event(resOutputsEvent={"metadata": meta, "planning": False}))
    assert converted == ResourceEvent("create", "aws:ec2/vpc:Vpc", "catalog-vpc-qa")
    assert format_event(converted) == "  create    catalog-vpc-qa  (aws:ec2/vpc:Vpc)"
    failed = convert_event(event(resOpFailedEvent={"metadata": {**meta, "op": "update"}, "status": 1, "steps": 1}))
    assert failed is not None and failed.failed and "FAILED" in (format_event(failed) or "")
    same = convert_event(event(resOutputsEvent={"metadata": {**meta, "op": "same"}, "planning": False}))
    assert same is not None and format_event(same) is None  # unchanged resources stay quiet


def test_refresh_steps_say_what_drifted() -> None:
    state = {"type": "aws:ec2/vpc:Vpc", "urn": URN, "custom": True}
    base = {"op": "refresh", "urn": URN, "type": "aws:ec2/vpc:Vpc", "provider": "", "old": state}
    drifted = convert_event(event(resOutputsEvent={
        "metadata": {**base, "new": state, "diffs": ["tags", "enableDnsHostnames"]}, "planning": True}))
    assert drifted == ResourceEvent("update", "aws:ec2/vpc:Vpc", "catalog-vpc-qa",
                                    message="tags, enableDnsHostnames")
    assert (format_event(drifted) or "").endswith("changed: tags, enableDnsHostnames")
    gone = convert_event(event(resOutputsEvent={"metadata": base, "planning": True}))
    assert gone is not None and gone.op == "delete"
    unchanged = convert_event(event(resOutputsEvent={"metadata": {**base, "new": state}, "planning": True}))
    assert unchanged is not None and format_event(unchanged) is None


def test_error_diagnostics_are_one_line_and_other_events_are_dropped() -> None:
    diag = convert_event(event(diagnosticEvent={
        "message": "creating EC2 VPC: operation error\n  VpcLimitExceeded: too many VPCs\n", "color": "never",
        "severity": "error", "urn": URN}))
    assert diag == ResourceEvent("error", "", "catalog-vpc-qa", failed=True,
                                 message="creating EC2 VPC: operation error VpcLimitExceeded: too many VPCs")
    assert convert_event(event(diagnosticEvent={"message": "hi", "color": "never", "severity": "info"})) is None
    warning = convert_event(event(diagnosticEvent={"message": "deprecated\n", "color": "never",
                                                   "severity": "warning"}))
    assert warning is not None and not warning.failed and format_event(warning) == "  warning   deprecated"
    meta = {"op": "create", "urn": URN, "type": "aws:ec2/vpc:Vpc", "provider": ""}
    assert convert_event(event(resourcePreEvent={"metadata": meta, "planning": False})) is None


def test_change_summaries() -> None:
    changes = _changes({OpType.CREATE: 2, OpType.SAME: 7, OpType.DELETE: 1}).changes
    assert changes == {"create": 2, "same": 7, "delete": 1}
    assert format_changes(changes) == "+2 -1 (7 same)"
    assert format_changes({"same": 3}) == "no changes (3 same)" and not has_changes({"same": 3})
    assert has_changes({"update": 1, "same": 3})  # what a drifted refresh preview reports


@pytest.mark.skipif(shutil.which("pulumi") is None, reason="needs the Pulumi CLI on PATH")
def test_real_stack_lifecycle_on_a_file_backend(tmp_path: Path) -> None:
    from shared.deploy.environment import prepare_state_dir, resolve_environment
    from shared.deploy.pulumi_cli import locate_pulumi_cli

    env = resolve_environment(f"file://{tmp_path}/state", None, {"PULUMI_CONFIG_PASSPHRASE": "test"},
                              lambda: False)
    prepare_state_dir(env)
    backend = AutomationBackend(env, locate_pulumi_cli())
    layer, suffix = get_layer("network"), f"orch-{secrets.token_hex(3)}"
    assert backend.resource_count(layer, suffix) is None
    backend.ensure_stack(layer, suffix)
    try:
        assert backend.resource_count(layer, suffix) == 0
        config = backend.get_config(layer, suffix)
        assert config["aws:region"] == ConfigEntry("us-east-1", False)
        backend.set_config(layer, suffix, "catalog-network:probe", "s3cret", secret=True)
        assert backend.get_config(layer, suffix)["catalog-network:probe"] == ConfigEntry("s3cret", True)
        assert backend.outputs(layer, suffix) == {}
    finally:
        backend.remove_stack(layer, suffix)
    assert backend.resource_count(layer, suffix) is None
    assert not (layer.directory / f"Pulumi.{suffix}.yaml").exists()


def test_cli_failures_become_one_line_operation_failures() -> None:
    from pulumi import automation as auto
    from pulumi.automation._cmd import CommandResult

    from shared.deploy.interface import OperationFailed

    class Offline(AutomationBackend):
        def __init__(self) -> None:  # no CLI needed: every workspace call fails like a wrong passphrase
            pass

        def _workspace(self, layer: object) -> object:
            raise auto.CommandError(CommandResult(
                stdout="", stderr="warning: x\nerror: getting secrets manager: incorrect passphrase\n", code=255))

    with pytest.raises(OperationFailed) as err:
        Offline().resource_count(get_layer("data"), "qa")
    assert str(err.value) == ("listing stacks of layer data (stack qa) failed: "
                              "error: getting secrets manager: incorrect passphrase")


STUB_PULUMI = """#!{python}
import json, os, sys
args = sys.argv[1:]
# Only a value-less `config set` reads stdin (as the CLI does); other calls may inherit an open stdin.
data = sys.stdin.read() if args[1:3] == ["config", "set"] and "--" not in args else ""
with open(os.path.join(os.path.dirname(__file__), "..", "calls.jsonl"), "a") as log:
    log.write(json.dumps({{"argv": args, "stdin": data}}) + "\\n")
if args[-1:] == ["version"] or "version" in args[:2]:
    print("v{version}")
elif "ls" in args:
    print("[]")
"""


def test_secret_config_never_reaches_the_command_line(tmp_path: Path) -> None:
    """A real subprocess (a stub `pulumi` that records argv and stdin): the secret goes to stdin only."""
    import json
    import sys

    from pulumi import automation as auto

    from shared.deploy.environment import DeployEnvironment

    version = "3.272.0"
    stub = tmp_path / "bin" / "pulumi"
    stub.parent.mkdir()
    stub.write_text(STUB_PULUMI.format(python=sys.executable, version=version))
    stub.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    env = DeployEnvironment(f"file://{tmp_path}/state", "file", "passphrase",
                            env_vars={"PULUMI_CONFIG_PASSPHRASE": "test"})
    command = auto.PulumiCommand(root=str(tmp_path), skip_version_check=True)
    assert command.command == str(stub)
    backend = AutomationBackend(env, command)
    layer, secret = get_layer("data"), "Sup3r-secret-db-passw0rd"
    backend.set_config(layer, "qa", "catalog-data:dbPassword", secret, secret=True)
    backend.set_config(layer, "qa", "catalog-data:minAcu", "1", secret=False)
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls and not any(secret in arg for call in calls for arg in call["argv"])
    (secret_set,) = [c for c in calls if c["argv"][3:5] == ["catalog-data:dbPassword", "--secret"]]
    assert secret_set["argv"] == ["--non-interactive", "config", "set", "catalog-data:dbPassword", "--secret",
                                  "--stack", "qa"]
    assert secret_set["stdin"] == secret
    (plain_set,) = [c for c in calls if "catalog-data:minAcu" in c["argv"]]
    assert plain_set["argv"][-1] == "1" and "--plaintext" in plain_set["argv"]  # plain values stay as they were
