"""Invoke tasks, one module per area; `collect()` gathers every `@task` of every module into one namespace."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from invoke import Collection, Exit, Task

from shared.errors import CatalogError

F = TypeVar("F", bound=Callable[..., Any])


def collect() -> Collection:
    ns = Collection()
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Task) and value.__module__ == module.__name__:
                ns.add_task(value)
    return ns


def refuse_clearly(func: F) -> F:
    """Turn a CatalogError into one line on stderr and exit code 2 (nothing has been changed by then)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CatalogError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


def parse_config_pairs(pairs: list[str] | None) -> dict[str, dict[str, str]]:
    """`["data:minAcu=1", "app:canaryWeight=10"]` -> {"data": {"minAcu": "1"}, "app": {"canaryWeight": "10"}}."""
    from shared.layers import get_layer

    out: dict[str, dict[str, str]] = {}
    for pair in pairs or []:
        head, sep, value = pair.partition("=")
        layer, colon, key = head.partition(":")
        if not sep or not colon or not layer or not key:
            raise CatalogError(f"--config {pair!r} is not layer:key=value", "e.g. --config data:minAcu=1")
        get_layer(layer)
        out.setdefault(layer, {})[key] = value
    return out
