"""The `aws-api-models` guardrail: hold planned inputs against AWS's own API models (botocore's service-2.json).

botocore ships the models the services are generated from: every operation's input shape, and for each member the
constraints the service enforces (`pattern`, `min`/`max` length or range, `enum`, `required`). `MODEL_MAP`
(model_map.py) says which Pulumi input reaches which member; this module resolves the member to its shape and checks
every planned value. A wrong value surfaces here instead of as a failed Create* call on the first `up`.

Conventions, and why:
* Patterns are full matches. botocore patterns come from AWS's Java-based validators (`String.matches`), many
  without anchors (IAM tag values: `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`); a search would accept anything.
* Patterns use Java classes (`\\p{L}`, `\\p{Z}`, `\\p{N}`...). The `regex` module understands them; without it
  the few classes these models use are translated to `re` approximations (`REGEX_ENGINE` says which is active).
* Engine numbers are floats (`3072.0`): integer members accept integral floats. Numeric strings (Pulumi types some
  API numbers as strings, e.g. a metric filter's defaultValue) are parsed; numbers sent to string members are
  formatted the way the provider sends them (`403.0` -> "403").
* Unknown values (preview) are skipped; the update runs the rule again with known values.
* The `aws:` tag-key prefix is reserved by every tagging service but is in no model: checked here by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from shared.policy.model import UNKNOWN, Context, Res, is_num, known
from shared.policy.model_map import MODEL_MAP, Field

try:  # Java-style Unicode classes (\p{L}); a dev dependency (through cfn-lint), not a runtime one
    import regex as _regex

    REGEX_ENGINE = "regex"
except ModuleNotFoundError:  # pragma: no cover - depends on the environment
    _regex = None
    REGEX_ENGINE = "re (translated \\p{..} classes)"

# `re` has no \p{..}: class bodies approximating the ones AWS models use (letters, separators, digits).
_P_CLASSES = {"L": "a-zA-Z\u00aa\u00b5\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u1fff\u3040-\ud7ff",
              "Z": " \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000",
              "N": "0-9\u00b2\u00b3\u00b9\u00bc-\u00be",
              "Lu": "A-Z", "Ll": "a-z", "Alnum": "a-zA-Z0-9", "Alpha": "a-zA-Z", "Digit": "0-9",
              "Punct": "!-/:-@\\[-`{-~", "Print": " -~", "Graph": "!-~", "Space": " \t\n\x0b\f\r",
              "XDigit": "0-9a-fA-F", "Upper": "A-Z", "Lower": "a-z"}

Shape = Mapping[str, Any]
RESERVED_TAG_PREFIX = "aws:"


class MappingError(Exception):
    """A MODEL_MAP entry names a member the model does not have (a typo, or the API changed)."""


@cache
def service_model(service: str) -> dict[str, Any]:
    """botocore's newest API model of `service` (loaded once per process: the big ones take ~0.1 s)."""
    from botocore.loaders import Loader

    return Loader().load_service_model(service, "service-2")


def _translate(pattern: str) -> str:
    """A botocore pattern for `re`: `\\p{X}` becomes its class body inside `[...]`, or `[body]` outside."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and pattern[i + 1:i + 3] in ("p{", "P{"):
            end = pattern.index("}", i)
            body = _P_CLASSES.get(pattern[i + 3:end], "\\w")
            negate = pattern[i + 1] == "P"
            if negate:
                raise ValueError(f"cannot translate {pattern[i:end + 1]} for re: install `regex`")
            out.append(body if in_class else f"[{body}]")
            i = end + 1
            continue
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


# Java spells supplementary characters as UTF-16 surrogate pairs; Python ranges take the code points.
_SURROGATE_RANGE = "\\uD800\\uDC00-\\uDBFF\\uDFFF"


@cache
def compiled(pattern: str) -> Any:
    """The model's pattern compiled once (regex module when installed, else translated for `re`)."""
    pattern = pattern.replace(_SURROGATE_RANGE, "\\U00010000-\\U0010FFFF")
    if _regex is not None:
        return _regex.compile(pattern)
    return re.compile(_translate(pattern))


@dataclass(frozen=True)
class Target:
    """A mapped member resolved in the model: its shape name and definition, and whether the API requires it."""

    shape_name: str
    shape: Shape
    required: bool


def _members(shapes: Mapping[str, Any], shape_name: str, part: str) -> tuple[str, bool]:
    shape = shapes[shape_name]
    if shape.get("type") != "structure" or part not in shape.get("members", {}):
        raise MappingError(f"shape {shape_name} has no member {part!r}")
    return shape["members"][part]["shape"], part in shape.get("required", ())


@cache
def resolve(service: str, operation: str, member: str) -> Target:
    """The shape `member` (e.g. `Tags[].Value`) names in `operation`'s input."""
    model = service_model(service)
    shapes = model["shapes"]
    try:
        current = model["operations"][operation]["input"]["shape"]
    except KeyError:
        raise MappingError(f"{service} has no operation {operation} with input") from None
    required = True
    for part in member.replace("[]", ".[]").split("."):
        if not part:
            continue
        if part == "[]":
            if shapes[current].get("type") != "list":
                raise MappingError(f"{service}.{operation}.{member}: {current} is not a list")
            current = shapes[current]["member"]["shape"]
            continue
        current, req = _members(shapes, current, part)
        required = required and req
    return Target(current, shapes[current], required)


def planned_values(inputs: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for every value at a Pulumi input path (`customErrorResponses[].errorCode`)."""

    def walk(value: Any, parts: list[str], where: str) -> Iterator[tuple[str, Any]]:
        if value is None or value is UNKNOWN:
            return
        if not parts:
            yield where, value
            return
        head, rest = parts[0], parts[1:]
        if head == "[]":
            items = value if isinstance(value, list) else [value]  # a one-item block the provider flattened
            for index, item in enumerate(items):
                yield from walk(item, rest, f"{where}[{index}]")
            return
        if isinstance(value, list) and len(value) == 1:
            value = value[0]  # blocks some providers model as one-element lists
        if isinstance(value, dict):
            yield from walk(value.get(head), rest, f"{where}.{head}" if where else head)

    yield from walk(inputs, path.replace("[]", ".[]").split(".") if path else [], "")


def _number(value: Any) -> float | None:
    if is_num(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _as_string(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if is_num(value):
        return str(int(value)) if float(value).is_integer() else str(value)
    return None


def _enum_text(values: list[str]) -> str:
    shown = ", ".join(values[:8])
    return f"one of {len(values)} values ({shown}{', ...' if len(values) > 8 else ''})"


def shape_rules(shape: Shape) -> str:
    """The model's constraints on a shape, in words (coverage table)."""
    kind = shape.get("type", "?")
    bits = []
    if "enum" in shape:
        bits.append(f"enum({len(shape['enum'])})")
    if "pattern" in shape:
        bits.append("pattern")
    if "min" in shape or "max" in shape:
        unit = "len " if kind in ("string", "list", "map") else ""
        bits.append(f"{unit}{shape.get('min', '')}..{shape.get('max', '')}")
    return f"{kind} {' '.join(bits)}".strip() if bits else f"{kind} (no constraint in model)"


def _pairs(shapes: Mapping[str, Any], shape: Shape) -> tuple[str, str, str, str] | None:
    """For a list of Key/Value structures (tags, dimensions): member names and shapes of key and value."""
    if shape.get("type") != "list":
        return None
    item = shapes[shape["member"]["shape"]]
    members = item.get("members", {})
    keys = [m for m in members if m.lower() in ("key", "tagkey", "name")]
    values = [m for m in members if m.lower() in ("value", "tagvalue")]
    if item.get("type") != "structure" or not keys or not values:
        return None
    return keys[0], members[keys[0]]["shape"], values[0], members[values[0]]["shape"]


def broken_rules(shapes: Mapping[str, Any], shape: Shape, value: Any) -> list[str]:
    """What `value` breaks of `shape`'s constraints (empty: it passes). Containers are checked item by item."""
    if not known(value) and not isinstance(value, (list, dict)):
        return []
    kind = shape.get("type")
    found: list[str] = []
    if kind == "string":
        text = _as_string(value)
        if text is None:
            return [f"expects a string, got {type(value).__name__}"]
        if "enum" in shape and text not in shape["enum"]:
            found.append(f"{text!r} is not {_enum_text(shape['enum'])}")
        if "min" in shape and len(text) < shape["min"]:
            found.append(f"length {len(text)} is below the minimum {shape['min']}")
        if "max" in shape and len(text) > shape["max"]:
            found.append(f"length {len(text)} is above the maximum {shape['max']}")
        if "pattern" in shape and compiled(shape["pattern"]).fullmatch(text) is None:
            found.append(f"does not match the pattern {shape['pattern']}")
    elif kind in ("integer", "long", "double", "float"):
        number = _number(value)
        if number is None:
            return [f"expects a number, got {value!r}"]
        if kind in ("integer", "long") and not number.is_integer():
            found.append(f"{number:g} is not an integer")
        if "min" in shape and number < shape["min"]:
            found.append(f"{number:g} is below the minimum {shape['min']}")
        if "max" in shape and number > shape["max"]:
            found.append(f"{number:g} is above the maximum {shape['max']}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            found.append(f"expects a boolean, got {value!r}")
    elif kind in ("list", "map"):
        size = len(value) if isinstance(value, (list, dict)) else 1
        if "min" in shape and size < shape["min"]:
            found.append(f"{size} item(s), below the minimum {shape['min']}")
        if "max" in shape and size > shape["max"]:
            found.append(f"{size} item(s), above the maximum {shape['max']}")
    return found


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_field(field: Field, inputs: Mapping[str, Any]) -> Iterator[str]:
    """Every broken rule of one mapped field over one resource's inputs, naming the field and the parameter."""
    target = resolve(field.service, field.operation, field.member)
    shapes = service_model(field.service)["shapes"]
    for where, value in planned_values(inputs, field.input):
        if isinstance(value, dict) and target.shape.get("type") in ("list", "map"):
            yield from _check_pairs(field, target, shapes, where, value)
            continue
        if isinstance(value, list) and target.shape.get("type") != "list":
            items: list[tuple[str, Any]] = [(f"{where}[{i}]", v) for i, v in enumerate(value)]
        else:
            items = [(where, value)]
        for item_where, item in items:
            for rule in broken_rules(shapes, target.shape, item):
                yield f"{item_where} = {_short(item)}: {field.parameter}: {rule}"
            if isinstance(item, list) and target.shape.get("type") == "list":
                member = shapes[target.shape["member"]["shape"]]
                for index, sub in enumerate(item):
                    for rule in broken_rules(shapes, member, sub):
                        yield f"{item_where}[{index}] = {_short(sub)}: {field.parameter}[]: {rule}"


def _check_pairs(field: Field, target: Target, shapes: Mapping[str, Any], where: str,
                 value: Mapping[str, Any]) -> Iterator[str]:
    """A Pulumi map (tags, dimensions, environment variables) against the API's map or Key/Value list shape."""
    for rule in broken_rules(shapes, target.shape, value):
        yield f"{where}: {field.parameter}: {rule}"
    if target.shape.get("type") == "map":
        key_name, key_shape = "(key)", target.shape["key"]["shape"]
        value_name, value_shape = "(value)", target.shape["value"]["shape"]
        key_param, value_param = f"{field.parameter} {key_name}", f"{field.parameter} {value_name}"
    else:
        pairs = _pairs(shapes, target.shape)
        if pairs is None:
            raise MappingError(f"{field.parameter} is a list, but not of Key/Value items")
        key_name, key_shape, value_name, value_shape = pairs
        key_param, value_param = f"{field.parameter}[].{key_name}", f"{field.parameter}[].{value_name}"
    for key, item in value.items():
        for rule in broken_rules(shapes, shapes[key_shape], key):
            yield f"{where} key {key!r}: {key_param}: {rule}"
        if field.kind == "tags" and key.lower().startswith(RESERVED_TAG_PREFIX):
            yield (f"{where} key {key!r}: {key_param}: the {RESERVED_TAG_PREFIX} prefix is reserved for AWS "
                   "(service documentation; not in the model)")
        if item is UNKNOWN:
            continue
        for rule in broken_rules(shapes, shapes[value_shape], item):
            yield f"{where}.{key} = {_short(item)}: {value_param}: {rule}"


def check_models(res: Res, ctx: Context) -> Iterator[str]:
    """The guardrail: every mapped input of the resource against its API parameter's model."""
    for field in MODEL_MAP.get(res.type, ()):
        yield from check_field(field, res.inputs)


# --- coverage: which planned inputs are held against a model


def _input_paths(value: Any, prefix: str = "") -> set[str]:
    """Leaf input paths of a resource, in the map's syntax (`healthCheck.interval`, `origins[].originId`)."""
    if isinstance(value, dict) and prefix not in ("tags", "environment.variables", "dimensions", "triggers"):
        return {p for k, v in value.items() for p in _input_paths(v, f"{prefix}.{k}" if prefix else k)}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return {p for v in value for p in _input_paths(v, f"{prefix}[]")}
    if isinstance(value, list):
        return {f"{prefix}[]"}
    return {prefix}


def _covers(mapped: str, planned: str) -> bool:
    return mapped == planned or mapped == f"{planned}[]" or planned == f"{mapped}[]" or \
        planned.startswith(f"{mapped}.") or planned.startswith(f"{mapped}[]")


def coverage(resources: list[Res]) -> list[tuple[str, int, list[tuple[Field, str, bool]], list[str]]]:
    """Per planned type: count, mapped fields (with the model's rule and whether the plan sets them), and the
    planned inputs no mapping reaches."""
    by_type: dict[str, list[Res]] = {}
    for res in resources:
        by_type.setdefault(res.type, []).append(res)
    rows = []
    for type_token in sorted(by_type):
        items = by_type[type_token]
        planned = set().union(*(_input_paths(r.inputs) for r in items))
        fields = MODEL_MAP.get(type_token, ())
        mapped = [(f, shape_rules(resolve(f.service, f.operation, f.member).shape),
                   any(True for r in items for _ in planned_values(r.inputs, f.input))) for f in fields]
        unmapped = sorted(p for p in planned if not any(_covers(f.input, p) for f in fields))
        rows.append((type_token, len(items), mapped, unmapped))
    return rows


def coverage_markdown(resources: list[Res], suffix: str) -> str:
    rows = coverage(resources)
    checked = sum(1 for _, _, fields, _ in rows for _, _, used in fields if used)
    constrained = sum(1 for _, _, fields, _ in rows for _, rule, used in fields
                      if used and "no constraint" not in rule)
    lines = [f"# AWS API model coverage, plan `{suffix}`", "",
             f"Guardrail `aws-api-models`: {len(rows)} planned resource types, "
             f"{sum(1 for r in rows if r[2])} mapped; {checked} (type, input) pairs the plan sets are checked "
             f"against an API parameter, {constrained} of which the model constrains (pattern, length, range or "
             f"enum). Regex engine: {REGEX_ENGINE}.", "",
             "| resource type | n | input | AWS parameter | model rule |", "|---|---|---|---|---|"]
    for type_token, count, fields, _ in rows:
        if not fields:
            lines.append(f"| `{type_token}` | {count} | - | not mapped | - |")
        for field, rule, used in fields:
            if used:
                lines.append(f"| `{type_token}` | {count} | `{field.input}` | `{field.parameter}` | {rule} |")
    lines += ["", "## Planned inputs not checked against a model", "",
              "Identifiers computed by other resources (ids, ARNs), JSON documents checked by other guardrails, "
              "booleans and provider-only inputs.", ""]
    lines += [f"* `{t}`: {', '.join(f'`{p}`' for p in unmapped)}" for t, _, _, unmapped in rows if unmapped]
    return "\n".join(lines) + "\n"

