"""Remove the Aurora readers that reader auto scaling added before the data stack is destroyed.

Application Auto Scaling creates reader instances (`application-autoscaling-<id>`) that are not in Pulumi's
state; while they exist the cluster cannot be deleted, so `pulumi destroy` of the data layer would fail. The data
stack exports `clusterId` and `managedInstanceIds` (the instances in state): every other instance of the cluster
is deleted here and waited for. Reader auto scaling is deregistered first, so it cannot add a reader between
this clean-up and the cluster's deletion. Running it again after a partial run finishes the job (idempotent).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError

from shared.runtime.errors import CatalogError

NOT_FOUND = {"DBInstanceNotFound", "DBInstanceNotFoundFault"}
BUSY = {"InvalidDBInstanceState", "InvalidDBInstanceStateFault", "InvalidDBClusterStateFault"}


class ReaderCleanupError(Exception):
    """The extra readers did not go away in time (operational, not bad input)."""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _cluster_members(rds: Any, cluster_id: str) -> list[str] | None:
    """Instance identifiers of the cluster; None when the cluster does not exist (nothing to do)."""
    try:
        clusters = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
    except ClientError as exc:
        if _code(exc) == "DBClusterNotFoundFault":
            return None
        raise
    if not clusters:
        return None
    return [m["DBInstanceIdentifier"] for m in clusters[0].get("DBClusterMembers", [])]


def _status(rds: Any, instance_id: str) -> str | None:
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"]
    except ClientError as exc:
        if _code(exc) in NOT_FOUND:
            return None
        raise
    return found[0].get("DBInstanceStatus") if found else None


def _delete(rds: Any, instance_id: str, say: Callable[[str], None]) -> None:
    """Ask for deletion unless already under way; an instance busy (creating, modifying) is retried later."""
    status = _status(rds, instance_id)
    if status in (None, "deleting"):
        return
    try:
        # Aurora keeps backups per cluster: no final instance snapshot is made (the flag is what applies
        # to a replica and is accepted for an Aurora instance).
        rds.delete_db_instance(DBInstanceIdentifier=instance_id, SkipFinalSnapshot=True)
        say(f"  deleting reader {instance_id} (added by auto scaling, not in Pulumi state)")
    except ClientError as exc:
        if _code(exc) in NOT_FOUND:
            return
        if _code(exc) in BUSY:
            say(f"  reader {instance_id} is {status}; will retry")
            return
        raise


def stop_reader_scaling(autoscaling: Any, cluster_id: str, say: Callable[[str], None] = print) -> bool:
    """Deregister the cluster's reader auto scaling target; False when there was none (already gone)."""
    try:
        autoscaling.deregister_scalable_target(ServiceNamespace="rds", ResourceId=f"cluster:{cluster_id}",
                                               ScalableDimension="rds:cluster:ReadReplicaCount")
    except ClientError as exc:
        # AWS documents ObjectNotFoundException; some endpoints (and moto) answer a ValidationException saying
        # no scalable target was found. Either way there is nothing to stop.
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if _code(exc) == "ObjectNotFoundException" or "No scalable target" in message:
            return False
        raise
    say(f"  reader auto scaling of cluster {cluster_id} stopped, so it adds no reader during the teardown")
    return True


def remove_autoscaled_readers(
    rds: Any,
    cluster_id: str,
    managed_ids: Iterable[str],
    *,
    autoscaling: Any = None,
    say: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = 20.0,
    timeout_seconds: float = 3600.0,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """Delete every instance of `cluster_id` not in `managed_ids` and wait until they are gone.

    Returns the identifiers that were (or were being) removed; [] when there was nothing to do.
    """
    managed = {str(i).lower() for i in managed_ids}
    if not managed:
        raise CatalogError(f"the data stack exports no managedInstanceIds for cluster {cluster_id}",
                           "refusing to guess which instances Pulumi manages: the data program must export it")
    if autoscaling is not None:
        stop_reader_scaling(autoscaling, cluster_id, say)
    removed: list[str] = []
    deadline = clock() + timeout_seconds
    while True:
        # Re-read the members every round: auto scaling may add a reader while we wait.
        members = _cluster_members(rds, cluster_id)
        extra = sorted(i for i in members or [] if i.lower() not in managed)
        if not extra:
            return removed
        removed.extend(i for i in extra if i not in removed)
        if clock() >= deadline:
            raise ReaderCleanupError(
                f"readers {', '.join(extra)} of cluster {cluster_id} still exist after "
                f"{int(timeout_seconds)} s; run the teardown again later")
        for instance_id in extra:
            _delete(rds, instance_id, say)
        if set(extra) & set(_cluster_members(rds, cluster_id) or []):
            sleep(poll_seconds)
