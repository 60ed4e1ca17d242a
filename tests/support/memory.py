"""An in-memory `StackBackend`: what the orchestration tests run against (no Pulumi CLI, no AWS).

`up` gives a stack `resources_per_stack` resources and exports the layer's whole contract (dummy values, secrets
marked), so downstream guards see what a real deploy would export. Tests script failures with `fail_on` and read
the sequence of operations in `calls`. A preview given a `plan` path saves what it would create there, and an `up`
given that plan refuses to create more (as Pulumi's update plans do).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shared.declarations import outputs_of
from shared.deploy.interface import (
    ConfigEntry,
    EventSink,
    OperationFailed,
    OpResult,
    ResourceEvent,
    StackOutput,
)
from shared.runtime.layers import LAYER_NAMES, Layer


@dataclass
class MemoryStack:
    config: dict[str, ConfigEntry] = field(default_factory=dict)
    outputs: dict[str, StackOutput] = field(default_factory=dict)
    resources: int = 0


def contract_exports(layer: Layer, suffix: str) -> dict[str, StackOutput]:
    """Every declared output of the layer with a recognisable dummy value."""
    out = {name: StackOutput(f"{layer.name}-{name}-{suffix}", spec.secret)
           for name, spec in outputs_of(layer.name).items()}
    if layer.name == "data":
        out["clusterId"] = StackOutput(f"catalog-db-{suffix}")
        out["managedInstanceIds"] = StackOutput([f"catalog-db-writer-{suffix}", f"catalog-db-reader-1-{suffix}"])
    if layer.name == "app":
        out["waitingRoomSkus"] = StackOutput([])  # no SKU behind the waiting room until a sale plans one
    if layer.name == "edge":
        out["viewerRequestFunctionName"] = StackOutput(f"catalog-edge-auth-{suffix}")
        out["originResponseFunctionName"] = StackOutput(f"catalog-edge-headers-{suffix}")
    return out


class InMemoryBackend:
    url = "memory://"

    def __init__(self, resources_per_stack: int = 5) -> None:
        self.stacks: dict[tuple[str, str], MemoryStack] = {}
        self.calls: list[tuple[str, str, str]] = []  # (operation, layer, suffix)
        self.fail_on: dict[tuple[str, str], str] = {}  # (operation, layer) -> message; removed once raised
        self.resources_per_stack = resources_per_stack
        self.drifted: dict[str, int] = {}  # layer -> resources that differ from the cloud
        # layer -> a mandatory violation the policy pack reports (as Pulumi's engine would, failing the update)
        self.violations: dict[str, str] = {}
        self.policy_packs: list[tuple[str, str, tuple[str, ...]]] = []  # (operation, layer, packs) as received
        # What `up` exports for a project that is not one of the layers (no declared contract), e.g. the rehearsal.
        self.exports: dict[str, dict[str, StackOutput]] = {}
        self.plans: list[str] = []  # the update plan files previews saved (each `up` with a plan reads one)

    def _apply_policies(self, layer: Layer, policy_packs: Sequence[str]) -> None:
        operation = self.calls[-1][0]
        self.policy_packs.append((operation, layer.name, tuple(policy_packs)))
        if not policy_packs and layer.name in LAYER_NAMES:
            raise OperationFailed(layer.name, self.calls[-1][2], operation, "no policy pack was passed")
        if layer.name in self.violations:
            raise OperationFailed(layer.name, self.calls[-1][2], operation,
                                  f"mandatory policy violation: {self.violations[layer.name]}")

    # --- helpers for tests -------------------------------------------------------------------------------
    def deployed(self, layer: Layer, suffix: str, resources: int | None = None) -> MemoryStack:
        """Put a stack in the state a successful `up` leaves."""
        stack = self.stacks.setdefault((layer.name, suffix), MemoryStack())
        stack.resources = self.resources_per_stack if resources is None else resources
        stack.outputs = (contract_exports(layer, suffix) if layer.name in LAYER_NAMES
                         else dict(self.exports.get(layer.name, {})))
        stack.config.setdefault("aws:region", ConfigEntry("us-east-1"))
        return stack

    def ops(self, operation: str | None = None) -> list[tuple[str, str]]:
        return [(op, layer) for op, layer, _ in self.calls if operation in (None, op)]

    # --- StackBackend ------------------------------------------------------------------------------------
    def _get(self, layer: Layer, suffix: str) -> MemoryStack:
        try:
            return self.stacks[(layer.name, suffix)]
        except KeyError:
            raise AssertionError(f"stack {layer.name}/{suffix} used before it exists") from None

    def _call(self, operation: str, layer: Layer, suffix: str) -> None:
        self.calls.append((operation, layer.name, suffix))
        message = self.fail_on.pop((operation, layer.name), None)
        if message is not None:
            raise OperationFailed(layer.name, suffix, operation, message)

    def resource_count(self, layer: Layer, suffix: str) -> int | None:
        stack = self.stacks.get((layer.name, suffix))
        return None if stack is None else stack.resources

    def stack_names(self, layer: Layer) -> list[str]:
        return [suffix for name, suffix in self.stacks if name == layer.name]

    def ensure_stack(self, layer: Layer, suffix: str) -> None:
        self.calls.append(("ensure", layer.name, suffix))
        stack = self.stacks.setdefault((layer.name, suffix), MemoryStack())
        stack.config["aws:region"] = ConfigEntry("us-east-1")

    def get_config(self, layer: Layer, suffix: str) -> dict[str, ConfigEntry]:
        return dict(self._get(layer, suffix).config)

    def set_config(self, layer: Layer, suffix: str, key: str, value: str, secret: bool = False) -> None:
        self.calls.append(("set_config", layer.name, suffix))
        self._get(layer, suffix).config[key] = ConfigEntry(value, secret)

    def remove_config(self, layer: Layer, suffix: str, key: str) -> None:
        self.calls.append(("remove_config", layer.name, suffix))
        self._get(layer, suffix).config.pop(key, None)

    def outputs(self, layer: Layer, suffix: str) -> dict[str, StackOutput]:
        return dict(self._get(layer, suffix).outputs)

    def _emit(self, on_event: EventSink, op: str, layer: Layer, count: int) -> None:
        for i in range(count):
            on_event(ResourceEvent(op, "aws:test/resource:Resource", f"{layer.name}-resource-{i}"))

    def up(self, layer: Layer, suffix: str, on_event: EventSink, *, policy_packs: Sequence[str],
           plan: str | None = None) -> OpResult:
        self._call("up", layer, suffix)
        self._apply_policies(layer, policy_packs)
        stack = self._get(layer, suffix)
        created = self.resources_per_stack - stack.resources
        if plan is not None:
            # As the engine does with `--plan`: an operation the saved preview did not hold fails the update, first.
            planned = json.loads(Path(plan).read_text())["create"]
            if created > planned:
                raise OperationFailed(layer.name, suffix, "up", f"resource {layer.name}-resource-{planned} "
                                      "violates plan: the plan does not include this operation")
        self._emit(on_event, "create", layer, created)
        same = stack.resources
        self.deployed(layer, suffix)
        return OpResult({"create": created, "same": same} if created else {"same": same})

    def preview(self, layer: Layer, suffix: str, on_event: EventSink, *, policy_packs: Sequence[str],
                plan: str | None = None) -> OpResult:
        self._call("preview", layer, suffix)
        self._apply_policies(layer, policy_packs)
        stack = self._get(layer, suffix)
        created = self.resources_per_stack - stack.resources
        if plan is not None:
            Path(plan).write_text(json.dumps({"create": created}))
            self.plans.append(plan)
        self._emit(on_event, "create", layer, created)
        return OpResult({"create": created, "same": stack.resources} if created else {"same": stack.resources})

    def preview_destroy(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult:
        self._call("preview_destroy", layer, suffix)
        resources = self._get(layer, suffix).resources
        self._emit(on_event, "delete", layer, resources)
        return OpResult({"delete": resources})

    def refresh(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult:
        self._call("refresh", layer, suffix)
        return OpResult({"same": self._get(layer, suffix).resources})

    def preview_refresh(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult:
        self._call("preview_refresh", layer, suffix)
        drifted = self.drifted.get(layer.name, 0)
        stack = self._get(layer, suffix)
        if drifted:
            self._emit(on_event, "update", layer, drifted)
        return OpResult({"update": drifted, "same": stack.resources - drifted})

    def destroy(self, layer: Layer, suffix: str, on_event: EventSink) -> OpResult:
        self._call("destroy", layer, suffix)
        stack = self._get(layer, suffix)
        deleted, stack.resources, stack.outputs = stack.resources, 0, {}
        self._emit(on_event, "delete", layer, deleted)
        return OpResult({"delete": deleted})

    def remove_stack(self, layer: Layer, suffix: str) -> None:
        self._call("remove", layer, suffix)
        del self.stacks[(layer.name, suffix)]
