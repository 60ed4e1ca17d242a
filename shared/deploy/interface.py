"""The one seam between the orchestration and Pulumi: `StackBackend`.

Everything the tasks do to a stack goes through this protocol, so the ordering, guards and teardown logic run
the same against the real Automation API (`automation.AutomationBackend`) and the in-memory stand-in the tests
use (`memory.InMemoryBackend`). A stack is addressed by its layer and the suffix (the stack name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.runtime.layers import Layer


@dataclass(frozen=True)
class ResourceEvent:
    """One line of engine progress: a resource step finished (or failed), or an error diagnostic."""

    op: str  # create, update, delete, replace, same, refresh, read, ... or "error" for a diagnostic
    type: str
    name: str
    failed: bool = False
    message: str = ""


EventSink = Callable[[ResourceEvent], None]


@dataclass(frozen=True)
class ConfigEntry:
    value: str
    secret: bool = False


@dataclass(frozen=True)
class StackOutput:
    value: Any
    secret: bool = False


@dataclass(frozen=True)
class OpResult:
    """What an engine operation did (or would do): resource count per operation, e.g. {"create": 3, "same": 9}."""

    changes: Mapping[str, int] = field(default_factory=dict)


class OperationFailed(Exception):
    """The engine ran and failed (a resource error, a program error). Not bad input: exit code 1."""

    def __init__(self, layer: str, suffix: str, operation: str, message: str) -> None:
        self.layer = layer
        self.suffix = suffix
        self.operation = operation
        self.message = message
        super().__init__(f"{operation} of layer {layer} (stack {suffix}) failed: {message}")


class StackBackend(Protocol):
    """The operations the orchestration needs from Pulumi, per (layer, suffix)."""

    url: str  # the state backend, for messages

    def resource_count(self, layer: Layer, suffix: str) -> int | None:
        """Resources the stack holds (0 after a destroy); None when the stack does not exist."""

    def stack_names(self, layer: Layer) -> list[str]:
        """The suffixes of the project's stacks in this backend."""

    def ensure_stack(self, layer: Layer, suffix: str) -> None:
        """Create the stack when absent (with the shared secrets provider) and set `aws:region`."""

    def get_config(self, layer: Layer, suffix: str) -> dict[str, ConfigEntry]:
        """Every config value of the stack, full keys (`catalog-data:minAcu`). The stack must exist."""

    def set_config(self, layer: Layer, suffix: str, key: str, value: str, secret: bool = False) -> None:
        """Set one config value (full key). The stack must exist."""

    def remove_config(self, layer: Layer, suffix: str, key: str) -> None:
        """Remove one config value (full key) when present. The stack must exist."""

    def outputs(self, layer: Layer, suffix: str) -> dict[str, StackOutput]:
        """The stack's outputs; empty when it has none. The stack must exist."""

    def up(self, layer: Layer, suffix: str, on_event: EventSink, *, policy_packs: Sequence[str],
           plan: str | None = None) -> OpResult:
        """Deploy with the given policy packs applied: a mandatory violation fails the update. `plan`: the file a
        preview saved; the update then fails rather than do anything that preview did not show."""

    def preview(self, layer: Layer, suffix: str, on_event: EventSink, *, policy_packs: Sequence[str],
                plan: str | None = None) -> OpResult:
        """What `up` would change, with the same policy packs applied; `plan`: where to save the update plan."""

    def refresh(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult: ...

    def preview_refresh(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult:
        """Refresh without writing state: what differs between the state and the cloud."""

    def preview_destroy(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult:
        """What `destroy` would delete (one `delete` event per resource), nothing deleted."""

    def destroy(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult: ...

    def remove_stack(self, layer: Layer, suffix: str) -> None:
        """Delete the (empty) stack and its config."""


def stack_label(layer: Layer, suffix: str) -> str:
    """How messages name a stack: `catalog-data/qa`."""
    return f"{layer.project}/{suffix}"


def output_value(outputs: Mapping[str, Any], name: str) -> Any:
    """The plain value of an output (StackOutput or raw), None when absent."""
    value = outputs.get(name)
    return value.value if isinstance(value, StackOutput) else value
