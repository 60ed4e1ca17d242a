"""Every `invoke ...` command the ops and plan tasks print can be pasted: it names a real task and only that task's
flags (checked against the Collection in tasks.py), and the model's advice carries what its task requires."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from pathlib import Path

import pytest
from invoke.parser import Parser, ParserContext

import tasks
from shared.ops.capacity import DEFAULT_SERVICE_TIMES, SaleCommand, StackConfig, Workload, model, reservations_line

REPO = Path(__file__).resolve().parents[2]
# `invoke <task>` then its flags, as written in source text (f-string fields and placeholders end the match).
HINT = re.compile(r"(?<!from )(?<!import )\binvoke ([a-z][a-z-]*)((?: (?:plan|cancel|check))?(?: --[a-z][a-z-]*)*)")


def _parse(command: str) -> dict[str, object]:
    """The task's parsed arguments, or a ParseError for an unknown task or flag."""
    argv = shlex.split(re.sub(r"<[^>]+>", "1", command))  # a placeholder stands for a value of its flag's type
    assert argv[0] == "invoke", command
    contexts = Parser(contexts=tasks.ns.to_contexts(), initial=ParserContext()).parse_argv(argv[1:])
    return {name: arg.value for name, arg in contexts[1].args.items()}


def _source_hints() -> list[tuple[str, str, list[str]]]:
    found = []
    for path in (REPO / "shared").rglob("*.py"):
        for match in HINT.finditer(path.read_text()):
            words = match.group(2).split()
            found.append((path.name, match.group(1), [w for w in words if w.startswith("--")]))
    return found


def test_every_command_the_source_prints_names_a_real_task_and_its_flags() -> None:
    hints = _source_hints()
    assert len(hints) > 20  # the pattern still finds them
    for where, task, flags in hints:
        if task not in tasks.ns.task_names and not flags:
            continue  # prose ("invoke its ..."), not a command
        assert task in tasks.ns.task_names, f"{where}: invoke {task}: no such task"
        known = {name for arg in tasks.ns[task].get_arguments() for name in arg.names}
        unknown = [f for f in flags if f[2:] not in known and f != "--help"]  # --help: Invoke's own
        assert not unknown, f"{where}: invoke {task}: no flag {unknown} (its flags: {sorted(known)})"


def _advice(suffix_window: SaleCommand) -> list[str]:
    """The commands in every action the model can print (workloads chosen to trigger each)."""
    stacks = [StackConfig(), replace(StackConfig(), max_acu=1.0), replace(StackConfig(), proxy_max_connections=5)]
    workloads = [Workload(), Workload(users=500_000, think_time_s=1.0, edge_hit_ratio=0.0), Workload(shards=1),
                 Workload(users=2_000_000)]
    texts = [a for s in stacks for w in workloads
             for a in model(w, s, DEFAULT_SERVICE_TIMES, None, suffix_window).actions]
    texts += [reservations_line(model(Workload(shards=1), StackConfig(), DEFAULT_SERVICE_TIMES), 50_000,
                                suffix_window)]
    return [cmd for text in texts for cmd in re.findall(r"`(invoke [^`]*)`", text)]


@pytest.mark.parametrize("command", [SaleCommand(), SaleCommand("qa", "2030-05-01T18:00:00Z", "2030-05-01T20:00:00Z")])
def test_the_models_advice_is_runnable_as_printed(command: SaleCommand) -> None:
    printed = _advice(command)
    assert {c.split()[1] for c in printed} == {"sale", "up"}  # both kinds are exercised
    for line in printed:
        args = _parse(line)
        assert args["suffix"], line  # every deploy and sale task needs the environment
        if line.startswith("invoke sale"):
            assert args["action"] == "plan" and args["start"] and args["end"] and args["users"], line
        else:
            assert args["layer"], line
    if command.suffix == "qa":
        assert all("--suffix qa" in c for c in printed)
        assert any("--start 2030-05-01T18:00:00Z --end 2030-05-01T20:00:00Z --users 50000" in c for c in printed)
