"""The layer registry: deploy order, owners and project folders. Nothing else lists the layers.

What each layer reads from the others is not listed here: it is derived from the consumers' declared views
(`projects/<layer>/upstream.py`, see `shared.declarations.upstream_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.runtime import APP
from shared.runtime.errors import CatalogError

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECTS_DIR = REPO_ROOT / "projects"


@dataclass(frozen=True)
class Layer:
    name: str
    owner: str  # also the Owner tag: IAM and ELBv2 accept only letters, digits, spaces and _ . : / = + - @
    summary: str

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

    def stack_reference(self, suffix: str, org: str = "organization") -> str:
        return f"{org}/{self.project}/{suffix}"


LAYERS: tuple[Layer, ...] = (
    Layer("network", "network team", "VPC over three AZs, NAT per AZ, security groups"),
    Layer("data", "database team", "Aurora Serverless v2, RDS Proxy, DynamoDB, log and artifact buckets"),
    Layer("app", "product API team", "API on Lambda (arm64 container), ALB, API Gateway"),
    Layer("edge", "marketing CDN team", "CloudFront, static site bucket, Lambda@Edge"),
    Layer("observability", "operations", "dashboard, alarms, SNS notifications"),
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
