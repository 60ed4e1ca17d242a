"""Checks that run before anything changes: input, config, secrets, upstream outputs, downstream resources.

Each raises a `CatalogError` whose text is one line: what is wrong and the command that fixes it.
"""

from __future__ import annotations

import secrets as token
from collections.abc import Mapping
from dataclasses import dataclass

from shared.console import parse_config_pairs
from shared.declarations import downstream_of, reads_of, settings_class, upstream_of
from shared.deploy.interface import ConfigEntry, StackBackend, output_value, stack_label
from shared.runtime.errors import CatalogError, ConfigError, ContractError
from shared.runtime.layers import Layer, get_layer
from shared.runtime.naming import validate_suffix
from shared.runtime.settings import check_overrides, describe, parse_value


@dataclass(frozen=True)
class SecretSpec:
    """A stack secret `invoke secrets` generates when absent (never printed)."""

    key: str
    nbytes: int  # secrets.token_urlsafe(nbytes): ~1.3 characters per byte, [A-Za-z0-9_-] only
    env_fallback: str | None = None
    # (setting, value): the secret is used only while that setting has that value (an opt-in), so it is neither
    # required nor generated otherwise: no credential sits in a stack's config that the program does not use.
    needed_when: tuple[str, str] | None = None

    def generate(self) -> str:
        return token.token_urlsafe(self.nbytes)

    def needed(self, layer: Layer, config: Mapping[str, ConfigEntry], overrides: Mapping[str, str]) -> bool:
        if self.needed_when is None:
            return True
        key, wanted = self.needed_when
        infos = {info.key: info for info in describe(settings_class(layer.name))}
        entry = config.get(f"{layer.project}:{key}")
        raw = overrides.get(key, entry.value if entry is not None else None)
        value = infos[key].default if raw is None else parse_value(infos[key], str(raw), layer.project)
        return str(value).lower() == wanted


# Aurora master password: 8-41 characters without / " @ (projects/data/settings.py) -> 32 characters; only with
# manageMasterPassword=false (by default RDS generates and rotates the master password: nothing in config).
# Origin-verify header value: 16-128 characters without * or ? (an ALB header match) -> 43 characters.
STACK_SECRETS: dict[str, tuple[SecretSpec, ...]] = {
    "data": (SecretSpec("dbPassword", 24, env_fallback="CATALOG_DB_PASSWORD",
                        needed_when=("manageMasterPassword", "false")),),
    "app": (SecretSpec("originVerifySecret", 32),),
}


@dataclass(frozen=True)
class Request:
    suffix: str
    layer: Layer | None
    overrides: dict[str, dict[str, str]]  # layer name -> {key: raw value}


def check_config_pairs(overrides: Mapping[str, Mapping[str, str]]) -> None:
    """Each key exists in its layer's settings and each value parses (cross-field rules need the stack's
    current config: `check_against_stack`)."""
    for layer_name, pairs in overrides.items():
        layer = get_layer(layer_name)
        cls = settings_class(layer_name)
        infos = {info.key: info for info in describe(cls)}
        for key, raw in pairs.items():
            if key not in infos:
                raise ConfigError(f"unknown config key {layer.project}:{key}",
                                  f"known keys: {', '.join(sorted(infos))}")
            if not infos[key].secret:
                parse_value(infos[key], raw, layer.project)


def validate_request(
    suffix: str | None,
    layer: str | None = None,
    config: list[str] | None = None,
    *,
    layer_required: bool = False,
) -> Request:
    """The task boundary: suffix, layer and `--config` pairs, before any stack is touched."""
    checked_suffix = validate_suffix(suffix or "")
    if layer_required and not layer:
        raise CatalogError("no layer given", "pass --layer, one of: network, data, app, edge, observability")
    chosen = get_layer(layer) if layer else None
    overrides = parse_config_pairs(config)
    if chosen is not None:
        others = sorted(set(overrides) - {chosen.name})
        if others:
            raise ConfigError(f"--config {others[0]}:... does not apply to --layer {chosen.name}",
                              f"give only {chosen.name}:key=value pairs, or use up-all")
    check_config_pairs(overrides)
    return Request(checked_suffix, chosen, overrides)


def is_secret_setting(layer: Layer, key: str) -> bool:
    cls = settings_class(layer.name)
    return any(info.key == key and info.secret for info in describe(cls))


def check_against_stack(layer: Layer, overrides: Mapping[str, str], config: Mapping[str, ConfigEntry]) -> None:
    """The full settings check (cross-field rules) with the stack's current config under the overrides."""
    cls = settings_class(layer.name)
    prefix = f"{layer.project}:"
    base = {k[len(prefix):]: ("<secret>" if e.secret else e.value) for k, e in config.items() if k.startswith(prefix)}
    check_overrides(cls, layer.project, overrides, base)


def check_secrets_present(layer: Layer, suffix: str, config: Mapping[str, ConfigEntry],
                          overrides: Mapping[str, str], env: Mapping[str, str]) -> None:
    for spec in STACK_SECRETS.get(layer.name, ()):
        full = f"{layer.project}:{spec.key}"
        if not spec.needed(layer, config, overrides):
            continue
        if full in config or spec.key in overrides or (spec.env_fallback and env.get(spec.env_fallback)):
            continue
        alternative = f", or export {spec.env_fallback}" if spec.env_fallback else ""
        raise ConfigError(f"stack {stack_label(layer, suffix)} has no secret {full}",
                          f"run `invoke secrets --suffix {suffix}` first{alternative}")


def check_upstream(backend: StackBackend, layer: Layer, suffix: str) -> None:
    """Every upstream stack exists and exports every output this layer reads."""
    for producer_name in upstream_of(layer.name):
        needed = reads_of(layer.name, producer_name)
        producer = get_layer(producer_name)
        fix = f"run `invoke up --layer {producer_name} --suffix {suffix}` first"
        count = backend.resource_count(producer, suffix)
        if not count:
            state = "does not exist" if count is None else "holds no resources"
            raise ContractError(f"layer {layer.name} reads stack {stack_label(producer, suffix)}, which {state}",
                                fix)
        outputs = backend.outputs(producer, suffix)
        missing = [name for name in needed if output_value(outputs, name) is None]
        if missing:
            raise ContractError(
                f"stack {stack_label(producer, suffix)} does not export {', '.join(missing)}, "
                f"which layer {layer.name} reads", fix)


def check_downstream(backend: StackBackend, layer: Layer, suffix: str) -> None:
    """No stack that reads this layer (directly or not) still holds resources."""
    for reader in reversed(downstream_of(layer.name)):
        count = backend.resource_count(reader, suffix)
        if count:
            raise ContractError(
                f"stack {stack_label(reader, suffix)} still holds {count} resources and depends on layer "
                f"{layer.name}",
                f"run `invoke down --layer {reader.name} --suffix {suffix}` first (or `invoke down-all "
                f"--suffix {suffix}`), or pass --force",
            )
