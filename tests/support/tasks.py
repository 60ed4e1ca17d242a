"""Run the project's Invoke tasks in-process as a user runs them (`invoke <task> ...`), for the tests of each
product's tasks: the exit code, with stdout/stderr left to pytest's capture."""

from __future__ import annotations

from invoke import Program

from tasks import ns


def run_invoke(*argv: str) -> int:
    """`invoke *argv`; returns the exit code (0 when the task returns normally)."""
    try:
        Program(namespace=ns, version="test").run(["invoke", *argv])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
