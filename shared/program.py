"""What every layer's `__main__.py` starts with: suffix, settings, tags, names, upstream reads, exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pulumi
from pulumi.runtime import config as runtime_config

from shared.config import describe, load_settings
from shared.contracts import Upstream, export_outputs
from shared.errors import ConfigError
from shared.layers import Layer, get_layer
from shared.naming import Service, physical_name, validate_suffix
from shared.settings import settings_class
from shared.tags import register_tagging

S = TypeVar("S")
ORG_CONFIG = "catalog:org"


def raw_layer_config(namespace: str) -> dict[str, Any]:
    """Every `<namespace>:<key>` value the engine passed, without the namespace."""
    merged = {**(runtime_config.get_config_env() or {}), **runtime_config.CONFIG.get()}
    prefix = f"{namespace}:"
    return {k[len(prefix):]: v for k, v in merged.items() if k.startswith(prefix)}


def stack_org() -> str:
    """Organization part of stack references: `catalog:org` if set, else the backend's own."""
    configured = pulumi.Config("catalog").get("org")
    if configured:
        return configured
    try:
        return pulumi.get_organization() or "organization"
    except Exception:  # older engines or mocks without an organization
        return "organization"


@dataclass
class LayerContext(Generic[S]):
    layer: Layer
    suffix: str
    settings: S
    org: str
    tags: dict[str, str]
    _upstreams: dict[str, Upstream] = field(default_factory=dict)

    def name(self, kind: str, service: Service = Service.GENERIC, **kwargs: Any) -> str:
        return physical_name(kind, self.suffix, service, **kwargs)

    def upstream(self, producer: str) -> Upstream:
        if producer not in self._upstreams:
            self._upstreams[producer] = Upstream(self.layer.name, producer, self.suffix, self.org)
        return self._upstreams[producer]

    def require(self, producer: str, output: str) -> pulumi.Output[Any]:
        return self.upstream(producer).require(output)

    def export(self, values: dict[str, Any]) -> None:
        export_outputs(self.layer.name, values)


def start_layer(layer_name: str) -> LayerContext[Any]:
    """Validate the stack name (the suffix) and the layer's config before any resource is declared."""
    layer = get_layer(layer_name)
    if pulumi.get_project() != layer.project:
        raise ConfigError(
            f"program of layer {layer.name} runs as project {pulumi.get_project()!r}",
            f"projects/{layer.name}/Pulumi.yaml must say `name: {layer.project}`",
        )
    suffix = validate_suffix(pulumi.get_stack())
    cls = settings_class(layer.name)
    settings: Any = None
    if cls is not None:
        raw = raw_layer_config(layer.project)
        config = pulumi.Config(layer.project)

        secret_keys = {i.key for i in describe(cls) if i.secret}
        secrets = {key: config.get_secret(key) for key in secret_keys if key in raw}
        plain = {k: v for k, v in raw.items() if k not in secret_keys}
        settings = load_settings(cls, layer.project, plain, secrets)
    tags = register_tagging(layer.name, suffix)
    return LayerContext(layer=layer, suffix=suffix, settings=settings, org=stack_org(), tags=tags)
