"""Starting and stopping the rehearsal's Locust tasks on ECS Fargate (the stack holds only their definitions).

The master first (RunTask), then, once it is RUNNING and has a private address, the workers pointed at it
(`LOCUST_MASTER_NODE_HOST`, RunTask at most 10 tasks a call). No service: the master stops after its run time and
the workers with it. `stop_all` stops whatever is left, so the cluster can be destroyed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.runtime.errors import CatalogError

RUN_TASK_MAX = 10  # RunTask's `count` limit
STARTED_BY = "invoke-rehearse"
MASTER_START_TIMEOUT_S = 600  # image pull and ENI attach on Fargate take a minute or two


@dataclass(frozen=True)
class FleetOutputs:
    """The rehearsal stack's exports the run needs (projects/rehearsal/__main__.py)."""

    cluster_arn: str
    master_task_definition: str
    worker_task_definition: str
    worker_count: int
    subnet_ids: tuple[str, ...]
    security_group_id: str
    log_group: str

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> FleetOutputs:
        def need(name: str) -> Any:
            value = outputs.get(name)
            if value in (None, "", []):
                raise CatalogError(f"the rehearsal stack has no output {name}", "its `up` did not finish: run again")
            return value

        return cls(cluster_arn=str(need("clusterArn")), master_task_definition=str(need("masterTaskDefinitionArn")),
                   worker_task_definition=str(need("workerTaskDefinitionArn")), worker_count=int(need("workerCount")),
                   subnet_ids=tuple(str(s) for s in need("subnetIds")),
                   security_group_id=str(need("securityGroupId")), log_group=str(need("logGroupName")))


@dataclass
class Fleet:
    ecs: Any  # boto3 ECS client
    out: FleetOutputs
    say: Callable[[str], None]
    sleep: Callable[[float], None]
    master_arn: str = ""
    worker_arns: list[str] = field(default_factory=list)

    def _network(self) -> dict[str, Any]:
        return {"awsvpcConfiguration": {"subnets": list(self.out.subnet_ids),
                                        "securityGroups": [self.out.security_group_id], "assignPublicIp": "DISABLED"}}

    def _run(self, definition: str, count: int, overrides: dict[str, Any] | None = None) -> list[str]:
        kwargs: dict[str, Any] = {"cluster": self.out.cluster_arn, "taskDefinition": definition, "count": count,
                                  "launchType": "FARGATE", "networkConfiguration": self._network(),
                                  "startedBy": STARTED_BY}
        if overrides:
            kwargs["overrides"] = overrides
        answer = self.ecs.run_task(**kwargs)
        if answer.get("failures"):
            failure = answer["failures"][0]
            raise CatalogError(f"ECS could not start the rehearsal's tasks: {failure.get('reason', '?')} "
                               f"{failure.get('detail', '')}".strip(), "see the ECS console of the cluster, then run "
                               "again")
        return [task["taskArn"] for task in answer.get("tasks", [])]

    def describe(self, arns: list[str]) -> list[dict[str, Any]]:
        tasks: list[dict[str, Any]] = []
        for i in range(0, len(arns), 100):  # DescribeTasks takes up to 100
            tasks += self.ecs.describe_tasks(cluster=self.out.cluster_arn, tasks=arns[i:i + 100]).get("tasks", [])
        return tasks

    def start_master(self, timeout_s: float = MASTER_START_TIMEOUT_S, poll_s: float = 5) -> str:
        """RunTask the master, wait for RUNNING; its private IPv4 address."""
        self.master_arn = self._run(self.out.master_task_definition, 1)[0]
        self.say(f"rehearse: master task {self.master_arn.rsplit('/', 1)[-1]} starting")
        waited = 0.0
        while True:
            task = self.describe([self.master_arn])[0]
            status = task.get("lastStatus", "")
            if status == "RUNNING":
                return _private_ip(task)
            if status in ("DEPROVISIONING", "STOPPED"):
                raise CatalogError(f"the Locust master stopped before it ran: {task.get('stoppedReason', status)}",
                                   f"see its log group {self.out.log_group}")
            if waited >= timeout_s:
                raise CatalogError(f"the Locust master is still {status} after {timeout_s:.0f} s",
                                   "check the image and the subnets' route to ECR (NAT), then run again")
            self.sleep(poll_s)
            waited += poll_s

    def start_workers(self, master_ip: str) -> None:
        env = {"containerOverrides": [{"name": "worker", "environment": [
            {"name": "LOCUST_MASTER_NODE_HOST", "value": master_ip}]}]}
        left = self.out.worker_count
        while left > 0:
            batch = min(RUN_TASK_MAX, left)
            self.worker_arns += self._run(self.out.worker_task_definition, batch, env)
            left -= batch
        self.say(f"rehearse: {len(self.worker_arns)} worker task(s) started, pointed at the master {master_ip}")

    def master_state(self) -> tuple[str, int | None, str]:
        """(lastStatus, the container's exit code when it stopped, why it stopped)."""
        task = self.describe([self.master_arn])[0]
        code = next((c.get("exitCode") for c in task.get("containers", []) if c.get("name") == "master"), None)
        return task.get("lastStatus", ""), code, task.get("stoppedReason", "")

    def stop_all(self, reason: str) -> int:
        """Stop every task of the run that is not stopped yet; how many were stopped."""
        arns = [a for a in [self.master_arn, *self.worker_arns] if a]
        live = [t["taskArn"] for t in self.describe(arns) if t.get("lastStatus") != "STOPPED"] if arns else []
        for arn in live:
            self.ecs.stop_task(cluster=self.out.cluster_arn, task=arn, reason=reason[:255])
        return len(live)


def _private_ip(task: Mapping[str, Any]) -> str:
    for attachment in task.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address" and detail.get("value"):
                return str(detail["value"])
    raise CatalogError("the Locust master runs without a private address", "check the rehearsal stack's subnets")
