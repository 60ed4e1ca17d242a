"""Tags on every taggable resource, applied once per program by a stack transformation."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

import pulumi

from shared import APP
from shared.layers import get_layer


def layer_tags(layer: str, suffix: str) -> dict[str, str]:
    return {
        "Project": APP,
        "Layer": layer,
        "Environment": suffix,
        "ManagedBy": "pulumi",
        "Owner": get_layer(layer).owner,
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


def register_tagging(layer: str, suffix: str) -> dict[str, str]:
    """Merge the layer's tags into every taggable AWS resource the program declares; return the tags."""
    base = layer_tags(layer, suffix)

    def add_tags(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if not isinstance(args.resource, pulumi.CustomResource):
            return None
        if not isinstance(getattr(type(args.resource), "tags", None), property) or "tags" not in args.props:
            return None
        own: Any = args.props.get("tags")
        if isinstance(own, pulumi.Output):
            merged: Any = own.apply(lambda t: {**base, **(t or {})})
        else:
            merged = {**base, **(own or {})}
        return pulumi.ResourceTransformationResult({**args.props, "tags": merged}, args.opts)

    pulumi.runtime.register_stack_transformation(add_tags)
    return base
