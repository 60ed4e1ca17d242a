"""The real `StackBackend`: Pulumi's Automation API over the local programs in `projects/<layer>/`.

Each stack is `create_or_select_stack(stack_name=<suffix>, work_dir=projects/<layer>)` with the shared backend
URL and secrets provider, and `aws:region` set to us-east-1. Engine events are turned into `ResourceEvent`s.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from enum import Enum
from functools import wraps
from typing import Any, TypeVar

from pulumi import automation as auto
from pulumi.automation.errors import create_command_error

from shared.deploy.environment import DeployEnvironment
from shared.deploy.interface import (
    ConfigEntry,
    EventSink,
    OperationFailed,
    OpResult,
    ResourceEvent,
    StackOutput,
)
from shared.runtime import REGION
from shared.runtime.layers import Layer

ROOT_TYPE = "pulumi:pulumi:Stack"


def _name_of(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else ""


def _op(value: Any) -> str:
    return str(value.value if isinstance(value, Enum) else value)


def convert_event(event: auto.EngineEvent) -> ResourceEvent | None:
    """One engine event -> one progress line, or None for events that are not about a finished step."""
    if event.res_outputs_event is not None:
        meta = event.res_outputs_event.metadata
        op, changed = _op(meta.op), ", ".join(meta.diffs or [])
        if op == "refresh":  # say what the refresh found, as the engine's summary counts it
            op = "delete" if meta.old is not None and meta.new is None else ("update" if changed else "same")
        elif op == "same" and meta.type == ROOT_TYPE and meta.old is not None and meta.new is not None:
            # New or changed stack outputs with no resource change: the engine's summary does not count them, but
            # an update that exports them must not be skipped as "no changes" (downstream layers read them).
            old, new = meta.old.outputs or {}, meta.new.outputs or {}
            keys = sorted(k for k in {*old, *new} if old.get(k) != new.get(k))
            if keys:
                op, changed = "update", "outputs " + ", ".join(keys)
        return ResourceEvent(op, meta.type, _name_of(meta.urn), message=changed)
    if event.res_op_failed_event is not None:
        meta = event.res_op_failed_event.metadata
        return ResourceEvent(_op(meta.op), meta.type, _name_of(meta.urn), failed=True)
    diag = event.diagnostic_event
    if diag is not None and diag.severity in ("error", "warning") and not diag.ephemeral:
        message = " ".join(line.strip() for line in diag.message.strip().splitlines() if line.strip())
        return ResourceEvent(diag.severity, "", _name_of(diag.urn or ""), failed=diag.severity == "error",
                             message=message)
    return None


def _changes(summary: Any) -> OpResult:
    return OpResult({_op(op): int(n) for op, n in (summary or {}).items()})


def _failure_text(exc: auto.CommandError, errors: list[str]) -> str:
    """The first error diagnostic, else the first `error:` line of the CLI's stderr."""
    if errors:
        return errors[0]
    text = str(exc)
    stderr = text.split(" stderr: ", 1)[1] if " stderr: " in text else text
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    picked = [line for line in lines if line.lower().startswith("error")] or lines
    return picked[0] if picked else "the Pulumi CLI failed without a message"


F = TypeVar("F", bound=Callable[..., Any])
SECRET_CONFIG_TIMEOUT_S = 120  # a passphrase or KMS secrets provider answers well within this


def _cli_errors(operation: str) -> Callable[[F], F]:
    """A failing CLI call (wrong passphrase, unreachable backend, locked stack) -> OperationFailed, one line."""

    def decorate(method: F) -> F:
        @wraps(method)
        def wrapper(self: Any, layer: Layer, suffix: str, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, layer, suffix, *args, **kwargs)
            except auto.CommandError as exc:
                raise OperationFailed(layer.name, suffix, operation, _failure_text(exc, [])) from None

        return wrapper  # type: ignore[return-value]

    return decorate


def set_secret_config(command: auto.PulumiCommand, workspace: auto.Workspace, stack_name: str, key: str,
                      value: str) -> None:
    """`pulumi config set --secret <key>` with the value on stdin, never in argv.

    The Automation API's `set_config` puts the value after `--` on the command line, where any local user sees it
    in the process list. Without a value argument and not interactive, the CLI reads the value from stdin
    (https://www.pulumi.com/docs/iac/cli/commands/pulumi_config_set/).
    """
    env = {**os.environ, **({"PULUMI_HOME": workspace.pulumi_home} if workspace.pulumi_home else {}),
           **workspace.env_vars, "PULUMI_AUTOMATION_API": "true"}
    if os.path.isabs(command.command):  # as PulumiCommand.run does: the CLI finds its plugins next to it
        env["PATH"] = os.pathsep.join([os.path.dirname(command.command), env.get("PATH", "")])
    args = [command.command, "--non-interactive", "config", "set", key, "--secret", "--stack", stack_name]
    try:
        done = subprocess.run(args, input=value, cwd=workspace.work_dir, env=env, capture_output=True, text=True,
                              check=False, timeout=SECRET_CONFIG_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise create_command_error(auto.CommandResult(
            stdout="", stderr=f"error: `pulumi config set --secret {key}` did not finish in "
                              f"{SECRET_CONFIG_TIMEOUT_S} s", code=-1)) from None
    if done.returncode:
        raise create_command_error(auto.CommandResult(stdout=done.stdout, stderr=done.stderr, code=done.returncode))


class AutomationBackend:
    """`StackBackend` over `pulumi.automation` (needs the Pulumi CLI)."""

    def __init__(self, environment: DeployEnvironment, command: auto.PulumiCommand) -> None:
        self.environment = environment
        self.command = command
        self.url = environment.backend_url
        self._stacks: dict[tuple[str, str], auto.Stack] = {}
        self._workspaces: dict[str, auto.LocalWorkspace] = {}

    def _options(self, layer: Layer) -> auto.LocalWorkspaceOptions:
        return auto.LocalWorkspaceOptions(
            work_dir=str(layer.directory),
            env_vars=dict(self.environment.env_vars),
            secrets_provider=self._secrets_provider(layer),
            pulumi_command=self.command,
        )

    def _secrets_provider(self, layer: Layer) -> str:
        # Each layer's stack has its own key: the bootstrap's URL carries `{layer}` where the layer's name goes.
        return self.environment.secrets_provider.replace("{layer}", layer.name)

    def _workspace(self, layer: Layer) -> auto.LocalWorkspace:
        if layer.name not in self._workspaces:
            self._workspaces[layer.name] = auto.LocalWorkspace(
                work_dir=str(layer.directory),
                env_vars=dict(self.environment.env_vars),
                secrets_provider=self._secrets_provider(layer),
                pulumi_command=self.command,
            )
        return self._workspaces[layer.name]

    def _stack(self, layer: Layer, suffix: str) -> auto.Stack:
        key = (layer.name, suffix)
        if key not in self._stacks:
            self._stacks[key] = auto.select_stack(stack_name=suffix, work_dir=str(layer.directory),
                                                  opts=self._options(layer))
        return self._stacks[key]

    @_cli_errors("listing stacks")
    def resource_count(self, layer: Layer, suffix: str) -> int | None:
        for summary in self._workspace(layer).list_stacks():
            if summary.name.rsplit("/", 1)[-1] == suffix:
                if summary.resource_count is not None:
                    return summary.resource_count
                deployment = self._stack(layer, suffix).export_stack().deployment or {}
                return len(deployment.get("resources") or [])
        return None

    @_cli_errors("listing stacks")
    def stack_names(self, layer: Layer) -> list[str]:
        return [summary.name.rsplit("/", 1)[-1] for summary in self._workspace(layer).list_stacks()]

    @_cli_errors("creating the stack")
    def ensure_stack(self, layer: Layer, suffix: str) -> None:
        stack = auto.create_or_select_stack(stack_name=suffix, work_dir=str(layer.directory),
                                            opts=self._options(layer))
        stack.set_config("aws:region", auto.ConfigValue(REGION))
        self._stacks[(layer.name, suffix)] = stack

    @_cli_errors("reading config")
    def get_config(self, layer: Layer, suffix: str) -> dict[str, ConfigEntry]:
        return {k: ConfigEntry(v.value, v.secret) for k, v in self._stack(layer, suffix).get_all_config().items()}

    @_cli_errors("setting config")
    def set_config(self, layer: Layer, suffix: str, key: str, value: str, secret: bool = False) -> None:
        stack = self._stack(layer, suffix)
        if secret:
            set_secret_config(self.command, stack.workspace, stack.name, key, value)
        else:
            stack.set_config(key, auto.ConfigValue(value=value, secret=False))

    @_cli_errors("removing config")
    def remove_config(self, layer: Layer, suffix: str, key: str) -> None:
        self._stack(layer, suffix).remove_config(key)

    @_cli_errors("reading outputs")
    def outputs(self, layer: Layer, suffix: str) -> dict[str, StackOutput]:
        return {k: StackOutput(v.value, v.secret) for k, v in self._stack(layer, suffix).outputs().items()}

    def _run(self, operation: str, layer: Layer, suffix: str, on_event: EventSink,
             policy_packs: Sequence[str] = (), plan: str | None = None) -> OpResult:
        stack = self._stack(layer, suffix)
        errors: list[str] = []

        def forward(event: auto.EngineEvent) -> None:
            converted = convert_event(event)
            if converted is None:
                return
            if converted.op == "error" and converted.message:
                errors.append(converted.message)
            on_event(converted)

        common: dict[str, Any] = {"on_event": forward, "color": "never"}
        try:
            # plan: `pulumi preview --save-plan` / `pulumi up --plan` (update plans, a preview feature of the CLI)
            if operation == "up":
                done = stack.up(**common, policy_packs=list(policy_packs), plan=plan)
                return _changes(done.summary.resource_changes)
            if operation == "preview":
                return _changes(stack.preview(**common, policy_packs=list(policy_packs), plan=plan).change_summary)
            if operation == "preview_destroy":
                return _changes(stack.preview_destroy(**common).change_summary)
            if operation == "refresh":
                return _changes(stack.refresh(**common).summary.resource_changes)
            if operation == "drift":
                return _changes(stack.preview_refresh(**common).change_summary)
            if operation == "destroy":
                return _changes(stack.destroy(**common).summary.resource_changes)
        except auto.CommandError as exc:
            message = _failure_text(exc, errors)
            if plan and "violates plan" in message:
                message += (" (the update would have done more than the preview you approved showed; it stopped "
                            "there: run it again to preview the changes anew)")
            raise OperationFailed(layer.name, suffix, operation, message) from None
        raise ValueError(operation)

    def up(self, layer: Layer, suffix: str, on_event: EventSink, *, policy_packs: Sequence[str],
           plan: str | None = None) -> OpResult:
        return self._run("up", layer, suffix, on_event, policy_packs, plan)

    def preview(self, layer: Layer, suffix: str, on_event: EventSink, *, policy_packs: Sequence[str],
                plan: str | None = None) -> OpResult:
        return self._run("preview", layer, suffix, on_event, policy_packs, plan)

    def preview_destroy(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult:
        return self._run("preview_destroy", layer, suffix, on_event)

    def refresh(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult:
        return self._run("refresh", layer, suffix, on_event)

    def preview_refresh(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult:
        return self._run("drift", layer, suffix, on_event)

    def destroy(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult:
        return self._run("destroy", layer, suffix, on_event)

    @_cli_errors("removing the stack")
    def remove_stack(self, layer: Layer, suffix: str) -> None:
        self._workspace(layer).remove_stack(suffix)
        self._stacks.pop((layer.name, suffix), None)
