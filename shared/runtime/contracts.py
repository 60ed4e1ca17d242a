"""The stack-reference contract between layers, declared on both sides.

- A producer declares what it exports in `projects/<layer>/outputs.py`: `OUTPUTS = LayerOutputs("data", (...))`,
  one `OutputSpec` per output (name, type, description, secret or not). That module is data: no resources.
- A consumer declares what it reads in `projects/<layer>/upstream.py`: one frozen dataclass per producer,
  decorated with `@reads(<producer OUTPUTS>)`, whose snake_case fields name the producer's camelCase outputs
  (`proxy_endpoint` reads `proxyEndpoint`). `LayerContext.read(View)` returns the dataclass filled with the
  stack reference's outputs, so programs write `data.proxy_endpoint`, typed, never a string-keyed dict.
- An output that consumers build IAM policies from declares its shape (`OutputSpec(..., shape=...)`,
  `shared/runtime/shapes.py`); `read_view` refuses a value without it before the consumer declares a resource.
- Producers export exactly their declared outputs (`export_outputs`); a read of an output the producer never
  exported fails with "run `invoke up --layer X --suffix Y` first". Which layers read an output is derived from
  the consumers' views (`shared.declarations`), never kept by hand.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi

from shared.runtime.errors import ContractError
from shared.runtime.layers import LAYER_NAMES, get_layer
from shared.runtime.shapes import Shape, value_problem

T = TypeVar("T")


@dataclass(frozen=True)
class OutputSpec:
    """One stack output: its name, the type of its value, what it is, and whether it is a secret. `shape`: what the
    value must look like (an ARN of one service in this Region and account, a plain name): every consumer refuses
    a value without it before declaring anything (`shared/runtime/shapes.py`)."""

    name: str
    type: Any
    description: str
    secret: bool = False
    shape: Shape | None = None

    @property
    def type_name(self) -> str:
        return getattr(self.type, "__name__", None) if isinstance(self.type, type) else str(self.type)


@dataclass(frozen=True)
class LayerOutputs:
    """A producer layer's declared outputs, in declaration order."""

    layer: str
    specs: tuple[OutputSpec, ...]

    def __post_init__(self) -> None:
        get_layer(self.layer)
        names = [s.name for s in self.specs]
        if len(set(names)) != len(names):
            raise ContractError(f"layer {self.layer} declares an output twice", "each output name once")

    @property
    def by_name(self) -> dict[str, OutputSpec]:
        return {spec.name: spec for spec in self.specs}

    def __iter__(self) -> Any:
        return iter(self.specs)


def output_name(field_name: str) -> str:
    """`proxy_read_only_endpoint` -> `proxyReadOnlyEndpoint`: a view's field names its producer's output."""
    head, *rest = field_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class UpstreamDeclaration:
    """What one consumer's view reads of one producer: field name -> output name."""

    outputs: LayerOutputs
    fields: Mapping[str, str]

    @property
    def producer(self) -> str:
        return self.outputs.layer


def reads(outputs: LayerOutputs) -> Callable[[type[T]], type[T]]:
    """Make `cls` a frozen dataclass view of `outputs`; refuse a field that names no declared output."""

    def wrap(cls: type[T]) -> type[T]:
        view = dataclasses.dataclass(frozen=True)(cls)
        declared = outputs.by_name
        mapping: dict[str, str] = {}
        for f in dataclasses.fields(view):  # type: ignore[arg-type]
            name = output_name(f.name)
            if name not in declared:
                raise ContractError(
                    f"{cls.__qualname__}.{f.name} reads {outputs.layer}:{name}, which layer {outputs.layer} "
                    "does not declare",
                    f"declared: {', '.join(sorted(declared))} (projects/{outputs.layer}/outputs.py)",
                )
            mapping[f.name] = name
        view.__upstream__ = UpstreamDeclaration(outputs, mapping)  # type: ignore[attr-defined]
        return view

    return wrap


def declaration_of(view: type) -> UpstreamDeclaration:
    decl = getattr(view, "__upstream__", None)
    if not isinstance(decl, UpstreamDeclaration):
        raise ContractError(f"{view.__qualname__} is not an upstream view", "decorate it with @reads(<OUTPUTS>)")
    return decl


def views_in(namespace: Mapping[str, Any]) -> list[type]:
    """The upstream views defined in a module namespace (a consumer's `upstream.py`)."""
    return [v for v in namespace.values() if isinstance(v, type) and isinstance(getattr(v, "__upstream__", None),
                                                                              UpstreamDeclaration)]


# (consumer, producer, output) for every read made in this process: the offline planner reports them.
READS: list[tuple[str, str, str]] = []


def export_outputs(outputs: LayerOutputs, values: Mapping[str, Any]) -> None:
    """Export exactly the declared outputs; secrets are wrapped with `pulumi.Output.secret`."""
    declared = outputs.by_name
    missing = sorted(set(declared) - set(values))
    extra = sorted(set(values) - set(declared))
    if missing or extra:
        raise ContractError(
            f"layer {outputs.layer} exports do not match projects/{outputs.layer}/outputs.py: "
            f"missing {missing or 'none'}, undeclared {extra or 'none'}",
            "declare the output in outputs.py or export it",
        )
    for name, value in values.items():
        pulumi.export(name, pulumi.Output.secret(value) if declared[name].secret else value)


class Upstream:
    """Read-only access to a producer layer's stack, for one consumer layer."""

    def __init__(self, consumer: str, producer: str, suffix: str, org: str) -> None:
        order = list(LAYER_NAMES)
        if producer not in order or order.index(producer) >= order.index(consumer):
            raise ContractError(
                f"layer {consumer} may not read layer {producer}",
                f"a layer reads only the layers before it: {', '.join(order[:order.index(consumer)]) or 'none'}",
            )
        self.consumer = consumer
        self.producer = producer
        self.suffix = suffix
        self.stack_name = get_layer(producer).stack_reference(suffix, org)
        self._ref = pulumi.StackReference(self.stack_name)

    def require(self, spec: OutputSpec) -> pulumi.Output[Any]:
        READS.append((self.consumer, self.producer, spec.name))
        stack_name, producer, suffix, name = self.stack_name, self.producer, self.suffix, spec.name

        def check(value: Any) -> Any:
            if value is None:
                raise ContractError(
                    f"layer {producer} (stack {stack_name}) has no output {name}",
                    f"run `invoke up --layer {producer} --suffix {suffix}` first",
                )
            return value

        out = self._ref.get_output(name).apply(check)
        return pulumi.Output.secret(out) if spec.secret else out

    def check_shapes(self, specs: list[OutputSpec]) -> None:
        """Refuse an upstream value that lacks its declared shape, now, before the consumer declares a resource.

        A check inside `Output.apply` would run only while resources are being created (the ones not built on the
        value could already exist when it fails); the engine's synchronous `readStackOutputs` invoke (the one the
        Node SDK's StackReference uses for its sync reads) gives the values at once.
        """
        shaped = [spec for spec in specs if spec.shape is not None]
        if not shaped:
            return
        result = pulumi.runtime.invoke("pulumi:pulumi:readStackOutputs", {"name": self.stack_name}).value or {}
        outputs = result.get("outputs") or {}
        account = consumer_account()
        for spec in shaped:
            if spec.name not in outputs or outputs[spec.name] is None:
                continue  # missing: `require` names the command that exports it
            assert spec.shape is not None
            why = value_problem(spec.shape, outputs[spec.name], account, self.suffix, show=not spec.secret)
            if why:
                raise ContractError(
                    f"output {spec.name} of layer {self.producer} (stack {self.stack_name}) {why}; layer "
                    f"{self.consumer} builds IAM policies from it and expected {spec.shape.describe()}",
                    f"fix the export in projects/{self.producer}, run `invoke up --layer {self.producer} --suffix "
                    f"{self.suffix}`, then deploy {self.consumer} again",
                )


_ACCOUNT: list[str] = []


def consumer_account() -> str:
    """The account the consumer deploys into (asked once): upstream ARNs must name it."""
    if not _ACCOUNT:
        import pulumi_aws as aws  # only programs whose views read shaped outputs ask the provider

        _ACCOUNT.append(aws.get_caller_identity().account_id)
    return _ACCOUNT[0]


def read_view(upstream: Upstream, view: type[T]) -> T:
    """Fill `view` with the producer's outputs (shapes checked at once, presence when each resolves)."""
    decl = declaration_of(view)
    declared = decl.outputs.by_name
    upstream.check_shapes([declared[name] for name in decl.fields.values()])
    values = {field: upstream.require(declared[name]) for field, name in decl.fields.items()}
    return view(**values)


_CAMEL = re.compile(r"^[a-z][A-Za-z0-9]*$")


def check_output_names(outputs: LayerOutputs) -> None:
    """Output names are camelCase so every one has a snake_case field name in a consumer's view."""
    for spec in outputs.specs:
        if not _CAMEL.match(spec.name):
            raise ContractError(f"output {outputs.layer}:{spec.name} is not camelCase", "e.g. proxyEndpoint")
