"""What the rehearsal reads of its target environment: the same typed views of stack outputs the layers use.

The rehearsal is not a layer, so it reads any layer (the layers' own rule, "only the layers before me", is about
their deploy order); the views and the read (shapes checked, a missing output named with the command that
exports it) are the layers' own.
"""

from __future__ import annotations

from typing import TypeVar

import pulumi

from projects.app.outputs import OUTPUTS as APP
from projects.edge.outputs import OUTPUTS as EDGE
from projects.network.outputs import OUTPUTS as NETWORK
from projects.observability.outputs import OUTPUTS as OBSERVABILITY
from shared.runtime.contracts import Upstream, declaration_of, read_view, reads
from shared.runtime.layers import get_layer

CONSUMER = "rehearsal"
V = TypeVar("V")


@reads(NETWORK)
class NetworkView:
    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]


@reads(APP)
class AppView:
    auth_issuer: pulumi.Output[str]
    auth_audience: pulumi.Output[str]


@reads(EDGE)
class EdgeView:
    distribution_domain_name: pulumi.Output[str]


@reads(OBSERVABILITY)
class ObservabilityView:
    dashboard_name: pulumi.Output[str]


class TargetUpstream(Upstream):
    """A layer's stack of the target environment, read by the rehearsal (not a layer: no order to respect)."""

    def __init__(self, producer: str, suffix: str, org: str) -> None:
        # Not super().__init__: that refuses a consumer outside the layers' order.
        self.consumer = CONSUMER
        self.producer = producer
        self.suffix = suffix
        self.stack_name = get_layer(producer).stack_reference(suffix, org)
        self._ref = pulumi.StackReference(self.stack_name)


def read_target(view: type[V], suffix: str, org: str) -> V:
    return read_view(TargetUpstream(declaration_of(view).producer, suffix, org), view)
