"""The layer registry: order, owners and project folders. Tasks and tests read it; nothing else lists layers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared import APP
from shared.errors import CatalogError

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECTS_DIR = REPO_ROOT / "projects"


@dataclass(frozen=True)
class Layer:
    name: str
    owner: str
    summary: str
    upstream: tuple[str, ...]

    @property
    def project(self) -> str:
        """Pulumi project name; also the config namespace (`catalog-data:minAcu`)."""
        return f"{APP}-{self.name}"

    @property
    def directory(self) -> Path:
        return PROJECTS_DIR / self.name

    @property
    def program(self) -> Path:
        return self.directory / "__main__.py"

    @property
    def exists(self) -> bool:
        return self.program.is_file()

    def stack_reference(self, suffix: str, org: str = "organization") -> str:
        return f"{org}/{self.project}/{suffix}"


LAYERS: tuple[Layer, ...] = (
    Layer("network", "network team", "VPC over three AZs, NAT per AZ, security groups", ()),
    Layer("data", "database team", "Aurora Serverless v2, RDS Proxy, DynamoDB, log and artifact buckets",
          ("network",)),
    Layer("app", "product API team", "API on Lambda (arm64 container), ALB, API Gateway", ("network", "data")),
    Layer("edge", "marketing/CDN team", "CloudFront, static site bucket, Lambda@Edge", ("data", "app")),
    Layer("observability", "operations", "dashboard, alarms, SNS notifications",
          ("network", "data", "app", "edge")),
)
LAYER_NAMES: tuple[str, ...] = tuple(layer.name for layer in LAYERS)
_BY_NAME = {layer.name: layer for layer in LAYERS}


def get_layer(name: str) -> Layer:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise CatalogError(
            f"unknown layer {name!r}", f"choose one of: {', '.join(LAYER_NAMES)}; e.g. --layer data"
        ) from None


def forward_order(names: list[str] | None = None) -> list[Layer]:
    """Layers in deploy order (network first); `names` filters."""
    wanted = set(names) if names else set(LAYER_NAMES)
    for name in wanted:
        get_layer(name)
    return [layer for layer in LAYERS if layer.name in wanted]


def reverse_order(names: list[str] | None = None) -> list[Layer]:
    """Layers in teardown order (observability first)."""
    return list(reversed(forward_order(names)))


def downstream_of(name: str) -> list[Layer]:
    """Layers that read `name`'s outputs, directly or not."""
    result: list[Layer] = []
    frontier = {name}
    for layer in LAYERS:
        if frontier.intersection(layer.upstream):
            result.append(layer)
            frontier.add(layer.name)
    return result
