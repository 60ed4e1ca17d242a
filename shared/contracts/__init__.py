"""The stack-reference contract: what each layer exports and which layers read it.

Each layer declares its outputs in `shared/contracts/<layer>.py` as `OUTPUTS: tuple[OutputSpec, ...]`.
Producers export exactly those (`export_outputs`); consumers read them only through `Upstream.require`, which
refuses undeclared reads and turns a missing output into "run `invoke up --layer X --suffix Y` first".
A test runs every layer's plan and proves both sides agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from shared.errors import ContractError
from shared.layers import get_layer


@dataclass(frozen=True)
class OutputSpec:
    name: str
    description: str
    readers: tuple[str, ...] = ()
    secret: bool = False


def outputs_of(layer: str) -> dict[str, OutputSpec]:
    """The declared outputs of `layer` (empty while the layer has no contract module)."""
    get_layer(layer)
    try:
        module = importlib.import_module(f"shared.contracts.{layer}")
    except ModuleNotFoundError as exc:
        if exc.name == f"shared.contracts.{layer}":
            return {}
        raise
    return {spec.name: spec for spec in module.OUTPUTS}


# (consumer, producer, output) for every read made in this process: the offline planner reports them so the
# contract test can compare declared readers with real ones.
READS: list[tuple[str, str, str]] = []


def export_outputs(layer: str, values: Mapping[str, Any]) -> None:
    """Export exactly the declared outputs of `layer`; secrets are wrapped with `pulumi.Output.secret`."""
    declared = outputs_of(layer)
    missing = sorted(set(declared) - set(values))
    extra = sorted(set(values) - set(declared))
    if missing or extra:
        raise ContractError(
            f"layer {layer} exports do not match shared/contracts/{layer}.py: "
            f"missing {missing or 'none'}, undeclared {extra or 'none'}",
            "declare the output in the contract or export it",
        )
    for name, value in values.items():
        pulumi.export(name, pulumi.Output.secret(value) if declared[name].secret else value)


class Upstream:
    """Read-only view of an upstream layer's stack, for one consumer layer."""

    def __init__(self, consumer: str, producer: str, suffix: str, org: str) -> None:
        consumer_layer = get_layer(consumer)
        if producer not in consumer_layer.upstream:
            raise ContractError(
                f"layer {consumer} may not read layer {producer}",
                f"a layer reads only the layers before it: {', '.join(consumer_layer.upstream) or 'none'}",
            )
        self.consumer = consumer
        self.producer = producer
        self.suffix = suffix
        self.stack_name = get_layer(producer).stack_reference(suffix, org)
        self._declared = outputs_of(producer)
        self._ref = pulumi.StackReference(self.stack_name)

    def require(self, name: str) -> pulumi.Output[Any]:
        spec = self._declared.get(name)
        if spec is None:
            raise ContractError(
                f"layer {self.producer} declares no output {name!r}",
                f"declared: {', '.join(sorted(self._declared)) or 'none'}",
            )
        if self.consumer not in spec.readers:
            raise ContractError(
                f"layer {self.consumer} reads {self.producer}:{name} but is not a declared reader",
                f"add {self.consumer!r} to its readers in shared/contracts/{self.producer}.py",
            )
        READS.append((self.consumer, self.producer, name))
        stack_name, producer, suffix = self.stack_name, self.producer, self.suffix

        def check(value: Any) -> Any:
            if value is None:
                raise ContractError(
                    f"layer {producer} (stack {stack_name}) has no output {name}",
                    f"run `invoke up --layer {producer} --suffix {suffix}` first",
                )
            return value

        out = self._ref.get_output(name).apply(check)
        return pulumi.Output.secret(out) if spec.secret else out
