"""Build the real orchestrator for a task, checking prerequisites in order before any stack is touched:
the backend URL, the Pulumi CLI, the secrets provider (so no passphrase is asked for a task that cannot run), then
(for tasks that reach AWS) the AWS credentials."""

from __future__ import annotations

import os
from collections.abc import Callable

from shared.deploy.environment import prepare_state_dir, resolve_backend, resolve_environment
from shared.deploy.runner import Orchestrator
from shared.runtime.errors import CatalogError


def open_session(
    backend: str | None,
    secrets_provider: str | None,
    *,
    needs_aws: bool,
    say: Callable[[str], None] = print,
    install_cli: bool = True,
    confirm: Callable[[str], bool] | None = None,
) -> Orchestrator:
    """`install_cli=False`: a task that can do without stacks (a dry run) never downloads the CLI. `confirm`: the
    question before a change (default: asked at the terminal, refused without one)."""
    from shared.deploy.doctor import aws_identity
    from shared.deploy.pulumi_cli import cli_path, locate_pulumi_cli

    if not install_cli and cli_path() is None:
        raise CatalogError("no Pulumi CLI on PATH", "install it, or let a deploy task install it")
    resolve_backend(backend, os.environ)  # a bad --backend is refused before any download
    command = locate_pulumi_cli(say=say)
    environment = resolve_environment(backend, secrets_provider)
    if needs_aws:
        say(f"AWS: {aws_identity()}")
    prepare_state_dir(environment)

    from shared.deploy.automation import AutomationBackend

    return Orchestrator(AutomationBackend(environment, command), say=say, confirm=confirm)
