"""How every task speaks: documented parameters, bad input refused in one line with exit code 2.

Each product's task modules (`shared/<product>/*tasks.py`) use these; `tasks.py` at the repository root builds
the explicit `Collection` of them.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, TypeVar

from invoke import Exit, task
from invoke.parser.argument import Argument
from invoke.parser.context import ParserContext

from shared.runtime.errors import CatalogError
from shared.runtime.layers import get_layer

F = TypeVar("F", bound=Callable[..., Any])
HELP_WORDS = ("-h", "--help")


def documented_task(help: Mapping[str, str] | None = None, usage: str = "[--options]",
                    **task_options: Any) -> Callable[[F], Any]:
    """`@task` whose docstring documents every parameter, from the same texts `invoke --help <task>` shows.

    A parameter without a help text is refused when the module loads, so a new flag cannot go undocumented.
    `usage`: what follows `invoke <task>` (a positional action, e.g. "plan|check [--options]"), shown in both helps.
    """
    texts = dict(help or {})

    def wrap(func: F) -> Any:
        params = [name for name in inspect.signature(func).parameters if name != "c"]
        missing = [name for name in params if name not in texts]
        unknown = sorted(set(texts) - set(params))
        if missing or unknown:
            raise TypeError(f"task {func.__name__}: undocumented parameters {missing}, help for unknown {unknown}")
        name = func.__name__.replace("_", "-")
        summary = inspect.cleandoc(func.__doc__ or "")
        lines = "\n".join(f"  --{p.replace('_', '-')}: {texts[p]}" for p in params)
        described = f"{summary}\n\nParameters:\n{lines}" if params else summary
        # Invoke's own usage line (`invoke --help <task>`) cannot show a positional action: the docstring does.
        func.__doc__ = described if usage == "[--options]" else described.replace(
            "\n\nParameters:", f"\n\nUsage: invoke {name} {usage}\n\nParameters:", 1)

        @wraps(func)
        def answering_help(*args: Any, **kwargs: Any) -> Any:
            # Invoke gives a required or positional argument the next word, so `invoke rehearse --help` arrives
            # as suffix="--help": answer it as `invoke --help rehearse` would, not as bad input.
            if any(isinstance(v, str) and v in HELP_WORDS for v in (*args[1:], *kwargs.values())):
                print(f"Usage: invoke {name} {usage}\n\n{described}")
                return None
            return func(*args, **kwargs)

        return task(help={name: texts[name] for name in params}, **task_options)(answering_help)

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


def parse_config_pairs(pairs: list[str] | None) -> dict[str, dict[str, str]]:
    """`["data:minAcu=1", "app:canaryWeight=10"]` -> {"data": {"minAcu": "1"}, "app": {"canaryWeight": "10"}}."""
    out: dict[str, dict[str, str]] = {}
    for pair in pairs or []:
        head, sep, value = pair.partition("=")
        layer, colon, key = head.partition(":")
        if not sep or not colon or not layer or not key:
            raise CatalogError(f"--config {pair!r} is not layer:key=value", "e.g. --config data:minAcu=1")
        get_layer(layer)
        out.setdefault(layer, {})[key] = value
    return out


KINDS = {int: "a whole number", float: "a number"}


def _show_number_values() -> None:
    """Invoke's help names a value only for str and int flags, so a float flag (`--think-time`) looked like a
    switch: show it as `--think-time=NUMBER`."""
    if getattr(ParserContext.help_for, "shows_numbers", False):
        return
    original = ParserContext.help_for

    def help_for(self: ParserContext, flag: str) -> tuple[str, str]:
        names, text = original(self, flag)
        if self.flags[flag].kind is float:
            names = ", ".join(f"{n} NUMBER" if len(n.strip("-")) == 1 else f"{n}=NUMBER" for n in names.split(", "))
        return names, text

    help_for.shows_numbers = True  # type: ignore[attr-defined]
    ParserContext.help_for = help_for  # type: ignore[method-assign]


def _refuse_mistyped_values() -> None:
    """A typed flag given a word (`--users lots`) is bad input like any other: one line and exit code 2, not the
    ValueError traceback Invoke's parser would print. Every task gets it, since every task module imports this."""
    if getattr(Argument.set_value, "refuses_clearly", False):
        return
    original = Argument.set_value

    def set_value(self: Argument, value: Any, cast: bool = True) -> None:
        try:
            original(self, value, cast)
        except ValueError:
            flag = "--" + self.name.replace("_", "-")
            kind = KINDS.get(self.kind, getattr(self.kind, "__name__", str(self.kind)))
            raise Exit(f"error: {flag} {value!r} is not {kind}: e.g. {flag} 10", code=2) from None

    set_value.refuses_clearly = True  # type: ignore[attr-defined]
    Argument.set_value = set_value  # type: ignore[method-assign]


_refuse_mistyped_values()
_show_number_values()
