"""What every layer's `__main__.py` starts with: suffix, typed settings, tags, names, upstream views, exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pulumi
from pulumi.runtime import config as runtime_config

from shared.runtime.boundary import register_boundary
from shared.runtime.contracts import LayerOutputs, Upstream, declaration_of, export_outputs, read_view
from shared.runtime.errors import ConfigError
from shared.runtime.layers import Layer, get_layer
from shared.runtime.naming import Service, physical_name, validate_suffix
from shared.runtime.settings import describe, load_settings
from shared.runtime.tags import register_tagging

S = TypeVar("S")
V = TypeVar("V")
ORG_CONFIG = "catalog:org"


def raw_layer_config(namespace: str) -> dict[str, Any]:
    """Every `<namespace>:<key>` value the engine passed, without the namespace.

    The public `pulumi.Config` reads one key at a time and cannot list them; listing is what lets an unknown
    (mistyped) key be refused, so this reads the SDK's config store (`pulumi.runtime.config`), the one
    private API the programs use.
    """
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
    outputs: LayerOutputs
    org: str
    tags: dict[str, str]
    _upstreams: dict[str, Upstream] = field(default_factory=dict)

    def name(self, kind: str, service: Service = Service.GENERIC, **kwargs: Any) -> str:
        return physical_name(kind, self.suffix, service, **kwargs)

    def read(self, view: type[V]) -> V:
        """The producer's outputs as the consumer's typed view (`projects/<layer>/upstream.py`)."""
        producer = declaration_of(view).producer
        if producer not in self._upstreams:
            self._upstreams[producer] = Upstream(self.layer.name, producer, self.suffix, self.org)
        return read_view(self._upstreams[producer], view)

    def export(self, values: dict[str, Any]) -> None:
        export_outputs(self.outputs, values)


def start_layer(layer_name: str, settings_class: type[S], outputs: LayerOutputs) -> LayerContext[S]:
    """Validate the stack name (the suffix) and the layer's config before any resource is declared."""
    layer = get_layer(layer_name)
    if pulumi.get_project() != layer.project:
        raise ConfigError(
            f"program of layer {layer.name} runs as project {pulumi.get_project()!r}",
            f"projects/{layer.name}/Pulumi.yaml must say `name: {layer.project}`",
        )
    if outputs.layer != layer.name:
        raise ConfigError(f"layer {layer.name} exports the contract of layer {outputs.layer}",
                          f"pass projects/{layer.name}/outputs.py OUTPUTS")
    suffix = validate_suffix(pulumi.get_stack())
    raw = raw_layer_config(layer.project)
    config = pulumi.Config(layer.project)
    secret_keys = {i.key for i in describe(settings_class) if i.secret}
    secrets = {key: config.get_secret(key) for key in secret_keys if key in raw}
    plain = {k: v for k, v in raw.items() if k not in secret_keys}
    settings = load_settings(settings_class, layer.project, plain, secrets)
    tags = register_tagging(layer, suffix)
    register_boundary(layer.name, suffix)  # every role the layer creates carries its permissions boundary
    return LayerContext(layer=layer, suffix=suffix, settings=settings, outputs=outputs, org=stack_org(), tags=tags)
