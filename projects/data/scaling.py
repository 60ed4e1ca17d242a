"""Reader auto scaling: Application Auto Scaling adds and removes Aurora replicas on average reader CPU.

Replicas it adds are named `application-autoscaling-*` and are not in Pulumi's state; they block the cluster's
deletion, so teardown removes every instance of the cluster that is not in the `managedInstanceIds` export."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi

from shared.runtime.autoscaling import target_tracking
from shared.runtime.naming import Service

NAMESPACE = "rds"
DIMENSION = "rds:cluster:ReadReplicaCount"
METRIC = "RDSReaderAverageCPUUtilization"
MIN_READERS = 2  # the mission's two readers


@dataclass(frozen=True)
class ReaderScalingArgs:
    name: Callable[[str, Service], str]
    cluster_id: pulumi.Input[str]
    max_readers: int
    cpu_target: float
    scale_out_cooldown: int
    scale_in_cooldown: int
    readers: Sequence[pulumi.Resource]


class ReaderScaling(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: ReaderScalingArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:data:ReaderScaling", resource_name, None, opts)
        self.resource_id = pulumi.Output.from_input(args.cluster_id).apply(lambda cid: f"cluster:{cid}")
        # Registered after the readers exist: auto scaling acts only when every replica is available.
        scaling = target_tracking(
            "readers", "reader-cpu", namespace=NAMESPACE, dimension=DIMENSION, resource_id=self.resource_id,
            min_capacity=MIN_READERS, max_capacity=args.max_readers,
            physical_policy_name=args.name("reader-cpu", Service.GENERIC), metric=METRIC,
            target_value=args.cpu_target, scale_out_cooldown=args.scale_out_cooldown,
            scale_in_cooldown=args.scale_in_cooldown, parent=self, depends_on=args.readers)
        self.target, self.policy = scaling.target, scaling.policy
        self.register_outputs({"resourceId": self.resource_id})
