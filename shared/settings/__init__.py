"""Per-layer settings classes; `settings_class(layer)` finds `shared.settings.<layer>.Settings`."""

from __future__ import annotations

import importlib

from shared.layers import get_layer


def settings_class(layer: str) -> type | None:
    """The layer's settings dataclass, or None while the layer has none yet."""
    get_layer(layer)
    try:
        module = importlib.import_module(f"shared.settings.{layer}")
    except ModuleNotFoundError as exc:
        if exc.name == f"shared.settings.{layer}":
            return None
        raise
    return module.Settings
