"""Sale windows, app side: Application Auto Scaling scheduled actions on the live alias's provisioned concurrency.

For each declared window (`catalog-app:saleWindows`, written by `invoke sale plan`) two one-time actions on the
scalable target that target tracking already uses: at start - lead time, min/max become the sale's numbers (the
target scales out to the new minimum at once); at the end, the steady-state min/max come back and target tracking
scales in for cost. The scheduler is AWS's own, so the sale does not depend on anyone running a task on the day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pulumi
import pulumi_aws as aws

from shared.runtime.sale_windows import SaleWindow, active, at_expression


@dataclass(frozen=True)
class SaleScheduleArgs:
    windows: tuple[SaleWindow, ...]
    target: aws.appautoscaling.Target  # the live alias's provisioned-concurrency scalable target
    steady_min: int
    steady_max: int
    name: Callable[[str], str]  # kind -> physical name (ctx.name)
    now: datetime | None = None


class SaleSchedule(pulumi.ComponentResource):
    """Two scheduled actions per window that has not ended."""

    def __init__(self, resource_name: str, args: SaleScheduleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:app:SaleSchedule", resource_name, None, opts)
        self.actions: list[aws.appautoscaling.ScheduledAction] = []
        action = aws.appautoscaling.ScheduledActionScalableTargetActionArgs
        for w in active(args.windows, args.now):
            steps = (
                ("scale-out", w.scale_out_at, w.numbers["pcMin"], w.numbers["pcMax"]),
                ("restore", w.end, args.steady_min, args.steady_max),
            )
            for step, moment, lo, hi in steps:
                kind = f"sale-{w.key}-pc-{step}"
                self.actions.append(aws.appautoscaling.ScheduledAction(
                    kind,
                    name=args.name(kind),
                    service_namespace=args.target.service_namespace,
                    scalable_dimension=args.target.scalable_dimension,
                    resource_id=args.target.resource_id,
                    schedule=at_expression(moment),
                    timezone="UTC",  # at() is read in this timezone; the windows are stored in UTC
                    scalable_target_action=action(min_capacity=lo, max_capacity=hi),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[args.target]),
                ))
        self.register_outputs({})


def sale_schedule(resource_name: str, args: SaleScheduleArgs) -> SaleSchedule | None:
    """The component only when a window has not ended: a stack without a sale plans exactly as before."""
    return SaleSchedule(resource_name, args) if active(args.windows, args.now) else None
