"""Invoke tasks, one module per area (arguments and printing only; the logic lives elsewhere in `shared.tooling`).

`tasks.py` at the repository root builds the explicit `Collection` of them.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from invoke import Exit, task

from shared.runtime.errors import CatalogError

F = TypeVar("F", bound=Callable[..., Any])


def documented_task(help: Mapping[str, str] | None = None, **task_options: Any) -> Callable[[F], Any]:
    """`@task` whose docstring documents every parameter, from the same texts `invoke --help <task>` shows.

    A parameter without a help text is refused when the module loads, so a new flag cannot go undocumented.
    """
    texts = dict(help or {})

    def wrap(func: F) -> Any:
        params = [name for name in inspect.signature(func).parameters if name != "c"]
        missing = [name for name in params if name not in texts]
        unknown = sorted(set(texts) - set(params))
        if missing or unknown:
            raise TypeError(f"task {func.__name__}: undocumented parameters {missing}, help for unknown {unknown}")
        doc = inspect.cleandoc(func.__doc__ or "")
        if params:
            lines = "\n".join(f"  --{name.replace('_', '-')}: {texts[name]}" for name in params)
            doc = f"{doc}\n\nParameters:\n{lines}"
        func.__doc__ = doc
        return task(help={name: texts[name] for name in params}, **task_options)(func)

    return wrap


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
