"""Tags on every taggable resource, applied once per program by a resource transform."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

import pulumi

from shared.runtime import APP
from shared.runtime.layers import Layer


def layer_tags(layer: Layer, suffix: str) -> dict[str, str]:
    return {
        "Project": APP,
        "Layer": layer.name,
        "Environment": suffix,
        "ManagedBy": "pulumi",
        "Owner": layer.owner,
    }


@cache
def resource_class(type_token: str) -> type | None:
    """The pulumi_aws class of a type token such as `aws:ec2/vpc:Vpc` (None for non-AWS types)."""
    package, _, rest = type_token.partition(":")
    if package != "aws" or ":" not in rest:
        return None
    module_path, _, class_name = rest.partition(":")
    module = module_path.split("/")[0]
    module = {"lambda": "lambda_", "index": ""}.get(module, module)
    try:
        mod = importlib.import_module(f"pulumi_aws.{module}" if module else "pulumi_aws")
    except ModuleNotFoundError:
        return None
    return getattr(mod, class_name, None)


def is_taggable(type_token: str) -> bool:
    """True when the AWS resource type takes a `tags` map."""
    cls = resource_class(type_token)
    return cls is not None and isinstance(getattr(cls, "tags", None), property)


def tag_transform(base: dict[str, str]) -> Any:
    """A resource transform merging `base` under each taggable AWS resource's own tags."""

    def add_tags(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if not args.custom or not is_taggable(args.type_):
            return None
        own: Any = args.props.get("tags")
        if isinstance(own, pulumi.Output):
            merged: Any = own.apply(lambda t: {**base, **(t or {})})
        else:
            merged = {**base, **(own or {})}
        return pulumi.ResourceTransformResult({**args.props, "tags": merged}, args.opts)

    return add_tags


def register_tagging(layer: Layer, suffix: str) -> dict[str, str]:
    """Merge the layer's tags into every taggable AWS resource the program declares; return the tags."""
    base = layer_tags(layer, suffix)
    pulumi.runtime.register_resource_transform(tag_transform(base))
    return base
