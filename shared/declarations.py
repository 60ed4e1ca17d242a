"""A layer's declarations, as the tool products see them: settings class, outputs contract, upstream views.

Each layer keeps them in its own folder (`projects/<layer>/settings.py`, `outputs.py`, `upstream.py`); the
tools load those three data modules by that convention (never a program or its components). From the
consumers' views it derives what each layer reads, which layers read an output, and who sits downstream.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

from shared.runtime.contracts import LayerOutputs, OutputSpec, UpstreamDeclaration, declaration_of, views_in
from shared.runtime.layers import LAYERS, Layer, get_layer


def _module(layer: str, name: str) -> ModuleType:
    get_layer(layer)
    return importlib.import_module(f"projects.{layer}.{name}")


@cache
def settings_class(layer: str) -> type:
    """The layer's settings dataclass (`projects/<layer>/settings.py: Settings`)."""
    return _module(layer, "settings").Settings  # type: ignore[no-any-return]


@cache
def outputs_contract(layer: str) -> LayerOutputs:
    """The layer's declared outputs (`projects/<layer>/outputs.py: OUTPUTS`)."""
    return _module(layer, "outputs").OUTPUTS  # type: ignore[no-any-return]


def outputs_of(layer: str) -> dict[str, OutputSpec]:
    return outputs_contract(layer).by_name


@cache
def views_of(layer: str) -> tuple[UpstreamDeclaration, ...]:
    """The upstream views a layer declares (none for the first layer, which has no upstream.py)."""
    try:
        module = _module(layer, "upstream")
    except ModuleNotFoundError as exc:
        if exc.name != f"projects.{layer}.upstream":
            raise
        return ()
    return tuple(declaration_of(view) for view in views_in(vars(module)))


def upstream_of(layer: str) -> tuple[str, ...]:
    """The layers `layer` reads, in deploy order."""
    producers = {decl.producer for decl in views_of(layer)}
    return tuple(other.name for other in LAYERS if other.name in producers)


def reads_of(consumer: str, producer: str) -> tuple[str, ...]:
    """The outputs of `producer` that `consumer` reads, in the producer's declaration order."""
    names = {name for decl in views_of(consumer) if decl.producer == producer for name in decl.fields.values()}
    return tuple(spec.name for spec in outputs_contract(producer).specs if spec.name in names)


def readers_of(producer: str, output: str) -> tuple[str, ...]:
    """The layers that read `producer:output`, in deploy order."""
    return tuple(layer.name for layer in LAYERS if output in reads_of(layer.name, producer))


def downstream_of(name: str) -> list[Layer]:
    """Layers that read `name`'s outputs, directly or not."""
    result: list[Layer] = []
    frontier = {name}
    for layer in LAYERS:
        if frontier.intersection(upstream_of(layer.name)):
            result.append(layer)
            frontier.add(layer.name)
    return result
