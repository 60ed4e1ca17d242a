"""Typed, validated layer settings.

Each layer declares a frozen dataclass (in `projects/<layer>/settings.py`) whose fields are made with `setting()`:
the Pulumi config key, the default (the mission's value), a one-line doc, and optional parsing rules. The same
declaration serves the program (`load_settings`), the task boundary (`--config layer:key=value` is checked
before anything runs) and the README's config table (`describe`).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from shared.runtime.errors import ConfigError

T = TypeVar("T")
_MISSING = object()


def setting(
    key: str,
    default: Any = None,
    doc: str = "",
    *,
    secret: bool = False,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """A dataclass field bound to the config key `<project>:<key>`."""
    meta = {"key": key, "doc": doc, "secret": secret, "choices": choices}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple for sequence defaults: settings are immutable")
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class SettingInfo:
    field: str
    key: str
    type: Any
    default: Any
    doc: str
    secret: bool
    choices: tuple[str, ...] | None


def describe(cls: type) -> list[SettingInfo]:
    """Every setting of a settings class, in declaration order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if "key" not in f.metadata:
            continue
        out.append(SettingInfo(f.name, f.metadata["key"], hints[f.name], f.default, f.metadata["doc"],
                               f.metadata["secret"], f.metadata["choices"]))
    return out


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def _number(info: SettingInfo, tp: type, raw: Any, full: str) -> int | float:
    """A number setting, refused in the setting's words (never Python's "could not convert ...")."""
    kind = "a whole number" if tp is int else "a number"
    example = info.default if isinstance(info.default, (int, float)) and not isinstance(info.default, bool) else 1
    allowed = f"expected {kind}, e.g. {info.key}={example:g}" + (f": {info.doc}" if info.doc else "")
    text = str(raw).strip()
    if not text:
        raise ConfigError(f"{full} is empty", allowed)
    try:
        if isinstance(raw, bool):
            raise ValueError(raw)
        return float(text) if tp is float else int(text)
    except ValueError:
        raise ConfigError(f"{full} = {raw!r} is not {kind}", allowed) from None


def parse_value(info: SettingInfo, raw: Any, namespace: str) -> Any:
    """Turn a raw config string (or JSON value) into the field's type; raise ConfigError naming the key."""
    full = f"{namespace}:{info.key}"
    tp, optional = _unwrap_optional(info.type)
    if raw is None or (optional and raw == ""):
        return None
    try:
        if tp is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text not in ("true", "false"):
                raise ValueError("expected true or false")
            return text == "true"
        if tp in (int, float):
            return _number(info, tp, raw, full)
        if tp is str:
            value = str(raw)
            if info.choices and value not in info.choices:
                raise ValueError(f"expected one of {', '.join(info.choices)}")
            return value
        if typing.get_origin(tp) is tuple:
            items = raw
            if isinstance(raw, str):
                text = raw.strip()
                items = json.loads(text) if text.startswith("[") else [p.strip() for p in text.split(",") if p.strip()]
            if not isinstance(items, (list, tuple)):
                raise ValueError("expected a list (JSON array or comma-separated)")
            (item_type, *_rest) = typing.get_args(tp)
            return tuple(item_type(item) for item in items)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"{full} = {raw!r} is malformed: {exc}", f"{info.doc or 'see the README config table'}"
        ) from None
    raise TypeError(f"unsupported setting type {tp!r} for {full}")


def load_settings(
    cls: type[T], namespace: str, values: Mapping[str, Any], secrets: Mapping[str, Any] | None = None
) -> T:
    """Build `cls` from raw `values` (`{key: raw}` without namespace) and run its `validate()`.

    Unknown keys are refused: a typo must not silently fall back to a default. Secret settings are taken from
    `secrets` (already `pulumi.Output`s) and never parsed or printed.
    """
    infos = describe(cls)
    known = {i.key for i in infos}
    unknown = sorted(set(values) - known - set(secrets or {}))
    if unknown:
        raise ConfigError(
            f"unknown config key {namespace}:{unknown[0]}",
            f"known keys: {', '.join(sorted(known))}",
        )
    kwargs: dict[str, Any] = {}
    for info in infos:
        if info.secret:
            kwargs[info.field] = (secrets or {}).get(info.key)
        elif info.key in values:
            kwargs[info.field] = parse_value(info, values[info.key], namespace)
    obj = cls(**kwargs)
    validate = getattr(obj, "validate", None)
    if callable(validate):
        validate()
    return obj


def check_overrides(
    cls: type, namespace: str, overrides: Mapping[str, str], base: Mapping[str, Any] | None = None
) -> None:
    """Validate `--config` overrides at the task boundary, before any stack is touched.

    `base` is the stack's current plain config, when known, so cross-field rules see the values that will apply.
    """
    infos = {i.key: i for i in describe(cls)}
    for key, raw in overrides.items():
        if key not in infos:
            raise ConfigError(f"unknown config key {namespace}:{key}",
                              f"known keys: {', '.join(sorted(infos))}")
        if not infos[key].secret:
            parse_value(infos[key], raw, namespace)
    merged = {**(base or {}), **overrides}
    plain = {k: v for k, v in merged.items() if k in infos and not infos[k].secret}
    secrets = {k: "<secret>" for k in merged if k in infos and infos[k].secret}
    load_settings(cls, namespace, plain, secrets)


def require(condition: bool, namespace: str, key: str, problem: str, allowed: str) -> None:
    """Raise a ConfigError for `<namespace>:<key>` unless `condition` holds."""
    if not condition:
        raise ConfigError(f"{namespace}:{key}: {problem}", f"allowed: {allowed}")


Validator = Callable[[Any], None]
