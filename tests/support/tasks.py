"""Run the project's Invoke tasks in-process as a user runs them (`invoke <task> ...`), for the tests of each
product's tasks: the exit code, with stdout/stderr left to pytest's capture."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from invoke import Program

from shared.deploy.cloud import EdgeCleanupResult
from shared.deploy.runner import Orchestrator
from tasks import ns
from tests.support.memory import InMemoryBackend


def run_invoke(*argv: str) -> int:
    """`invoke *argv`; returns the exit code (0 when the task returns normally)."""
    try:
        Program(namespace=ns, version="test").run(["invoke", *argv])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


class LoggingRoleAccount:
    """The account as the orchestrator asks it: API Gateway's CloudWatch logging role is already set."""

    def api_gateway_logging_role(self) -> str | None:
        return "arn:aws:iam::123456789012:role/apigateway-cloudwatch"


class QuietEdge:
    """Lambda@Edge clean-up with nothing left to wait for."""

    def before_up(self, suffix: str) -> None:
        pass

    def after_destroy(self, suffix: str, wait_minutes: float = 0.0) -> EdgeCleanupResult:
        return EdgeCleanupResult(("both functions deleted",), ())


def memory_orchestrator(backend: InMemoryBackend, confirm: Callable[[str], bool] | None = None,
                        **options: Any) -> Orchestrator:
    """The deploy tasks' orchestrator over the in-memory backend, no AWS behind it."""
    return Orchestrator(backend, remove_readers=lambda cluster, managed: [], edge=QuietEdge(), env={},
                        account=LoggingRoleAccount(), confirm=confirm, **options)


def deploy_tasks_on(backend: InMemoryBackend, monkeypatch: pytest.MonkeyPatch) -> InMemoryBackend:
    """`invoke up/down/...` run against `backend`: as open_session does, the task's confirmation (from --yes) is the
    orchestrator's question."""
    import shared.deploy.tasks as deploy

    def opened(*args: object, confirm: Callable[[str], bool] | None = None, **kwargs: object) -> Orchestrator:
        return memory_orchestrator(backend, confirm)

    monkeypatch.setattr(deploy, "_session", opened)
    return backend
