"""Target-tracking auto scaling (Application Auto Scaling), the one shape both the Aurora readers and the API's
provisioned concurrency use: a scalable target with min/max and a policy on a predefined metric that also scales
in (the mission's "scale-in for cost")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class TargetTracking:
    target: aws.appautoscaling.Target
    policy: aws.appautoscaling.Policy


def target_tracking(
    target_name: str,
    policy_name: str,
    *,
    namespace: str,
    dimension: str,
    resource_id: pulumi.Input[str],
    min_capacity: int,
    max_capacity: int,
    physical_policy_name: str,
    metric: str,
    target_value: float,
    scale_out_cooldown: int,
    scale_in_cooldown: int,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
) -> TargetTracking:
    """Declare the scalable target and its target-tracking policy under `parent`."""
    # No role_arn: Application Auto Scaling uses its service-linked role for Lambda and RDS.
    target = aws.appautoscaling.Target(
        target_name,
        service_namespace=namespace,
        scalable_dimension=dimension,
        resource_id=resource_id,
        min_capacity=min_capacity,
        max_capacity=max_capacity,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
    config = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs
    metric_spec = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs
    policy = aws.appautoscaling.Policy(
        policy_name,
        name=physical_policy_name,
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        target_tracking_scaling_policy_configuration=config(
            target_value=target_value,
            predefined_metric_specification=metric_spec(predefined_metric_type=metric),
            disable_scale_in=False,  # scale in for cost when the spike is over
            scale_out_cooldown=scale_out_cooldown,
            scale_in_cooldown=scale_in_cooldown,
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return TargetTracking(target=target, policy=policy)
