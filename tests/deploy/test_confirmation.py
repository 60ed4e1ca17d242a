"""The question before a change, through the Invoke tasks as an operator runs them: `up`, `up-all`, `down`,
`down-all` and `refresh` list what would change and ask; y does it, anything else (n, empty, end of input, Ctrl-C)
changes nothing; no terminal and no --yes is refused before anything is touched; --yes goes ahead without asking;
nothing to change skips the update. The operator's terminal is a TTY-like stdin fed with the answer (input() reads
it as it would a keyboard); the stacks are the in-memory backend."""

from __future__ import annotations

import copy
import io
import json
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.deploy.automation import ROOT_TYPE, convert_event
from shared.deploy.confirm import no_terminal
from shared.deploy.interface import ConfigEntry, OperationFailed, ResourceEvent
from shared.deploy.report import ChangeList
from shared.plan.identity import plan_only_identity
from shared.runtime.layers import LAYER_NAMES, get_layer
from tests.support.memory import InMemoryBackend, MemoryStack
from tests.support.tasks import deploy_tasks_on, memory_orchestrator, run_invoke

S = "qa"
NETWORK = get_layer("network")
IDENTITY = [arg for key, value in plan_only_identity().items() for arg in ("--config", f"app:{key}={value}")]


class Terminal(io.StringIO):
    """stdin at a terminal, with what the operator types already in it ("" = end of input, Ctrl-D)."""

    def isatty(self) -> bool:
        return True


class CtrlC(Terminal):
    def readline(self, size: int | None = -1) -> str:
        raise KeyboardInterrupt


@pytest.fixture
def stacks(monkeypatch: pytest.MonkeyPatch) -> InMemoryBackend:
    return deploy_tasks_on(InMemoryBackend(), monkeypatch)


def at_terminal(monkeypatch: pytest.MonkeyPatch, typed: str | None) -> None:
    """The operator's answer(s), one per line; None: Ctrl-C at the question."""
    monkeypatch.setattr("sys.stdin", CtrlC() if typed is None else Terminal(typed))


def snapshot(stacks: InMemoryBackend) -> dict[tuple[str, str], MemoryStack]:
    return copy.deepcopy(stacks.stacks)


def for_up_all(stacks: InMemoryBackend) -> None:
    assert run_invoke("secrets", "--suffix", S) == 0


def deployed(stacks: InMemoryBackend) -> None:
    for name in LAYER_NAMES:
        stacks.deployed(get_layer(name), S)


def drifted_app(stacks: InMemoryBackend) -> None:
    deployed(stacks)
    stacks.drifted["app"] = 2


# operation -> (argv, prepare the stacks, the question asked first, the first lines of the list before it)
OPERATIONS: dict[str, tuple[list[str], Callable[[InMemoryBackend], None], str, list[str]]] = {
    "up": (
        ["up", "--layer", "network", "--suffix", S],
        lambda stacks: None,
        "Deploy these 5 changes to catalog-network/qa? [y/N]",
        ["  create (5)", "    + network-resource-0  (aws:test/resource:Resource)"],
    ),
    "up-all": (
        ["up-all", "--suffix", S, *IDENTITY],
        for_up_all,
        "Deploy these 5 changes to catalog-network/qa? [y/N]",
        ["  create (5)", "    + network-resource-0  (aws:test/resource:Resource)"],
    ),
    "down": (
        ["down", "--layer", "observability", "--suffix", S],
        deployed,
        "Destroy these 5 resources of catalog-observability/qa? [y/N]",
        ["  delete (5)", "    - observability-resource-0  (aws:test/resource:Resource)"],
    ),
    "down-all": (
        ["down-all", "--suffix", S],
        deployed,
        "Destroy these 25 resources of the 5 stacks of suffix qa? [y/N]",
        ["  delete (5)", "    - observability-resource-0  (aws:test/resource:Resource)"],
    ),
    "refresh": (
        ["refresh", "--layer", "app", "--suffix", S],
        drifted_app,
        "Write these 2 differences from the cloud into the state of catalog-app/qa? [y/N]",
        ["  update (2)", "    ~ app-resource-0  (aws:test/resource:Resource)"],
    ),
}
CHANGES = {"up": "up", "up-all": "up", "down": "destroy", "down-all": "destroy", "refresh": "refresh"}
VERBS = {"up": "deploy", "up-all": "deploy", "down": "destroy", "down-all": "destroy", "refresh": "refresh"}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("typed", ["n\n", "\n", "no\n", "", None], ids=["n", "enter", "no", "eof", "ctrl-c"])
def test_anything_but_yes_changes_nothing(
    operation: str,
    typed: str | None,
    stacks: InMemoryBackend,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv, prepare, question, listed = OPERATIONS[operation]
    prepare(stacks)
    capsys.readouterr()
    before, calls = snapshot(stacks), len(stacks.calls)
    at_terminal(monkeypatch, typed)
    assert run_invoke(*argv) == 1
    out = capsys.readouterr().out
    # No stack created, removed or reconfigured (a new stack or --config values are put back), nothing deployed.
    assert snapshot(stacks) == before
    assert CHANGES[operation] not in [op for op, _, _ in stacks.calls[calls:]]
    lines = out.splitlines()
    asked = next(i for i, line in enumerate(lines) if question in line)
    assert all(line in lines[:asked] for line in listed)  # the list came before the question
    # What follows the prompt (the typed answer's newline is the terminal's echo, absent here; after end of input
    # or Ctrl-C the task ends the prompt's line itself).
    said = [line.strip() for line in out.split(question, 1)[1].splitlines() if line.strip()]
    assert said[0].endswith("nothing changed"), out
    if operation in ("up", "down", "refresh"):
        assert len(said) == 1, out  # one line, no table


@pytest.mark.parametrize("operation", OPERATIONS)
def test_yes_at_the_question_does_it(
    operation: str, stacks: InMemoryBackend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, prepare, question, listed = OPERATIONS[operation]
    prepare(stacks)
    at_terminal(monkeypatch, "y\n" * 5)
    assert run_invoke(*argv) == 0
    out = capsys.readouterr().out
    assert question in out and all(line in out.splitlines() for line in listed)
    if operation.startswith("up"):
        layers = ["network"] if operation == "up" else list(LAYER_NAMES)
        assert [layer for op, layer in stacks.ops("up")] == layers
        # Each update carried the plan its own preview saved: it can do nothing that preview did not show.
        assert len(stacks.plans) == len(layers)
    elif operation == "refresh":
        assert stacks.ops("refresh") == [("refresh", "app")]
    else:
        assert stacks.ops("destroy") and (operation == "down" or stacks.stacks == {})


@pytest.mark.parametrize("operation", OPERATIONS)
def test_no_terminal_without_yes_is_refused_before_anything(
    operation: str, stacks: InMemoryBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, prepare, _, _ = OPERATIONS[operation]
    prepare(stacks)
    capsys.readouterr()
    before, calls = snapshot(stacks), list(stacks.calls)
    assert run_invoke(*argv) == 2  # pytest's stdin is no terminal
    captured = capsys.readouterr()
    verb = VERBS[operation]
    assert captured.err.strip() == f"error: {no_terminal(verb)}" and captured.out == ""
    assert f"add --yes to {verb} without a question (CI does)" in captured.err
    assert stacks.calls == calls and snapshot(stacks) == before  # not even a preview


@pytest.mark.parametrize("operation", OPERATIONS)
def test_yes_flag_deploys_without_a_question(
    operation: str, stacks: InMemoryBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, prepare, _, listed = OPERATIONS[operation]
    prepare(stacks)
    assert run_invoke(*argv, "--yes") == 0  # no terminal needed
    out = capsys.readouterr().out
    assert "[y/N]" not in out
    assert all(line in out.splitlines() for line in listed)  # the list is still shown (in CI's log too)
    assert stacks.ops(CHANGES[operation])


def test_a_refresh_with_nothing_drifted_asks_nothing(
    stacks: InMemoryBackend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed(stacks)
    at_terminal(monkeypatch, "")  # a question would read end of input and decline: none is asked
    assert run_invoke("refresh", "--layer", "app", "--suffix", S) == 0
    out = capsys.readouterr().out
    assert "catalog-app/qa: the state matches the cloud; nothing to refresh" in out and "[y/N]" not in out
    assert stacks.ops("preview_refresh") == [("preview_refresh", "app")] and stacks.ops("refresh") == []


def test_nothing_to_change_says_so_and_skips_the_update(
    stacks: InMemoryBackend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks.deployed(NETWORK, S)
    at_terminal(monkeypatch, "")  # a question would read end of input and decline: none is asked
    assert run_invoke("up", "--layer", "network", "--suffix", S) == 0
    out = capsys.readouterr().out
    assert "catalog-network/qa: no changes; nothing to deploy" in out and "[y/N]" not in out
    assert stacks.ops("preview") == [("preview", "network")] and stacks.ops("up") == []


def test_up_all_stops_at_the_first_no(
    stacks: InMemoryBackend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for_up_all(stacks)
    at_terminal(monkeypatch, "y\nn\n")
    assert run_invoke("up-all", "--suffix", S, *IDENTITY) == 1
    out = capsys.readouterr().out
    assert "Deploy these 5 changes to catalog-data/qa? [y/N]" in out
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[-6:-1] if line.split()}
    assert rows == {"network": "deployed", "data": "declined", "app": "not", "edge": "not", "observability": "not"}
    assert [layer for op, layer in stacks.ops("up")] == ["network"]
    assert stacks.stacks[("data", S)].resources == 0


def test_a_declined_up_puts_the_saved_config_back(
    stacks: InMemoryBackend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = get_layer("data")
    stacks.deployed(NETWORK, S)
    stacks.deployed(data, S, resources=3).config["catalog-data:minAcu"] = ConfigEntry("1")
    before = snapshot(stacks)
    at_terminal(monkeypatch, "n\n")
    assert (
        run_invoke("up", "--layer", "data", "--suffix", S, "--config", "data:minAcu=2", "--config", "data:maxAcu=8")
        == 1
    )
    assert "Deploy these 2 changes to catalog-data/qa? [y/N]" in capsys.readouterr().out
    # minAcu is 1 again and maxAcu (absent before) is gone: the next preview sees the stack as it was.
    assert snapshot(stacks) == before and ("set_config", "data", S) in stacks.calls


def test_the_update_can_do_no_more_than_the_approved_preview(capsys: pytest.CaptureFixture[str]) -> None:
    """The program changes between the preview and the update (here: while the question waits): the update fails
    on the first resource the preview did not hold, as Pulumi does with the preview's saved plan."""
    stacks = InMemoryBackend(resources_per_stack=5)

    def approve_while_the_program_grows(question: str) -> bool:
        stacks.resources_per_stack = 7
        return True

    orchestrator = memory_orchestrator(stacks, approve_while_the_program_grows, say=lambda _line: None)
    with pytest.raises(OperationFailed, match="network-resource-5 violates plan"):
        orchestrator.up(NETWORK, S)
    assert stacks.resource_count(NETWORK, S) == 0  # nothing beyond (nor of) the plan was applied
    [plan] = stacks.plans
    assert not Path(plan).exists()  # the plan file went with its private directory


def test_the_real_backend_saves_the_plan_and_updates_within_it(tmp_path: Path) -> None:
    """The Automation API hands the plan to the CLI: `preview --save-plan <file>`, `up --plan <file>`; a destroy's
    list comes from `destroy --preview-only`; a declined --config is removed with `config rm`."""
    from tests.deploy.test_guardrails_in_deploys import stub_backend

    backend, root = stub_backend(tmp_path)
    plan = str(tmp_path / "plan.json")
    for run in (
        lambda: backend.preview(NETWORK, S, lambda e: None, policy_packs=[], plan=plan),
        lambda: backend.up(NETWORK, S, lambda e: None, policy_packs=[], plan=plan),
        lambda: backend.preview_destroy(NETWORK, S, lambda e: None),
    ):
        with pytest.raises(Exception):  # noqa: B017 - the stub answers nothing the SDK can read; argv matters
            run()
    backend.remove_config(NETWORK, S, "catalog-network:probe")  # `config rm` needs no answer
    calls = [json.loads(line) for line in (root / "calls.jsonl").read_text().splitlines()]
    [preview] = [argv for argv in calls if "preview" in argv]
    [up] = [argv for argv in calls if "up" in argv]
    [destroy] = [argv for argv in calls if "destroy" in argv]
    assert preview[preview.index("--save-plan") + 1] == plan and up[up.index("--plan") + 1] == plan
    assert "--preview-only" in destroy
    [remove] = [argv for argv in calls if argv[1:3] == ["config", "rm"]]
    assert "catalog-network:probe" in remove and remove[remove.index("--stack") + 1] == S


def test_new_stack_outputs_count_as_a_change() -> None:
    """A new or changed output with no resource change (the engine's summary counts none) is still a change to
    deploy: downstream layers read the outputs, so such an update must not be skipped as "no changes"."""
    from pulumi.automation import EngineEvent

    urn = "urn:pulumi:qa::catalog-network::pulumi:pulumi:Stack::catalog-network-qa"
    state = {"type": ROOT_TYPE, "urn": urn, "custom": False}

    def outputs_event(old: dict[str, object], new: dict[str, object]) -> EngineEvent:
        meta = {
            "op": "same",
            "urn": urn,
            "type": ROOT_TYPE,
            "provider": "",
            "old": {**state, "outputs": old},
            "new": {**state, "outputs": new},
        }
        return EngineEvent.from_json(
            {"sequence": 1, "timestamp": 0, "resOutputsEvent": {"metadata": meta, "planning": True}}
        )

    grown = convert_event(outputs_event({"vpcId": "vpc-1"}, {"vpcId": "vpc-1", "vpcCidr": "10.0.0.0/16"}))
    assert grown == ResourceEvent("update", ROOT_TYPE, "catalog-network-qa", message="outputs vpcCidr")
    changes = ChangeList(lambda _line: None)
    changes(grown)  # type: ignore[arg-type]
    assert changes.count == 1
    same = convert_event(outputs_event({"vpcId": "vpc-1"}, {"vpcId": "vpc-1"}))
    assert same is not None and same.op == "same"


def test_the_list_groups_a_replacement_once_and_prints_diagnostics_at_once() -> None:
    said: list[str] = []
    changes = ChangeList(said.append)
    vpc, bucket = "aws:ec2/vpc:Vpc", "aws:s3/bucket:Bucket"
    for op, type_, name in [
        ("create-replacement", vpc, "vpc"),
        ("replace", vpc, "vpc"),
        ("delete-replaced", vpc, "vpc"),
        ("create", bucket, "logs"),
        ("same", bucket, "art"),
    ]:
        changes(ResourceEvent(op, type_, name))
    changes(ResourceEvent("update", bucket, "web", message="tags"))
    changes(ResourceEvent("warning", "", "web", message="deprecated argument"))
    assert said == ["  warning   web: deprecated argument"]
    assert changes.count == 3
    assert changes.lines() == [
        "  create (1)",
        "    + logs  (aws:s3/bucket:Bucket)",
        "  update (1)",
        "    ~ web  (aws:s3/bucket:Bucket)  changed: tags",
        "  replace (1)",
        "    +- vpc  (aws:ec2/vpc:Vpc)",
    ]


def test_the_pipelines_up_runs_without_a_terminal(stacks: InMemoryBackend, capsys: pytest.CaptureFixture[str]) -> None:
    """The deploy job's own command line (layer.yml), through `python -m shared.deploy`: --yes, no terminal."""
    from invoke import Program

    from shared.deploy.pipeline import ns
    from shared.runtime.layers import REPO_ROOT

    text = (REPO_ROOT / ".github" / "workflows" / "layer.yml").read_text()
    [line] = [line.strip() for line in text.splitlines() if line.strip().startswith("python -m shared.deploy up ")]
    command = line.split(" 2>&1", 1)[0].replace('"${image[@]}"', "")
    argv = shlex.split(command.replace("$LAYER", "network").replace("$SUFFIX", S))
    assert argv[:3] == ["python", "-m", "shared.deploy"] and "--yes" in argv
    try:
        Program(namespace=ns, binary="python -m shared.deploy").run(["shared.deploy", *argv[3:]])
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr()
    assert stacks.ops("up") == [("up", "network")] and "[y/N]" not in capsys.readouterr().out


def test_a_change_the_events_do_not_name_is_still_asked_for() -> None:
    """The engine's summary counts a change its events did not describe: asked for, never skipped as nothing."""

    class Quiet(InMemoryBackend):
        def preview(self, layer, suffix, on_event, *, policy_packs, plan=None):  # type: ignore[no-untyped-def]
            return super().preview(layer, suffix, lambda _event: None, policy_packs=policy_packs, plan=plan)

    stacks, questions = Quiet(), []
    orchestrator = memory_orchestrator(stacks, lambda q: questions.append(q) or False, say=lambda _line: None)
    assert orchestrator.up(NETWORK, S).result == "declined"
    assert questions == ["Deploy these 5 changes to catalog-network/qa?"] and stacks.ops("up") == []


def test_down_all_of_empty_stacks_asks_to_remove_them(
    stacks: InMemoryBackend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("network", "data"):
        stacks.deployed(get_layer(name), S, resources=0)
    at_terminal(monkeypatch, "y\n")
    assert run_invoke("down-all", "--suffix", S) == 0
    assert "Remove the 2 empty stacks of suffix qa? [y/N]" in capsys.readouterr().out
    assert stacks.stacks == {} and stacks.ops("preview_destroy") == []
