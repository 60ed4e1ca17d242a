"""What the AWS rehearsal's tests stand on: a moto server on loopback for ECS, CloudWatch Logs, FIS and CloudWatch,
the in-memory stack backend for Pulumi state, and a stand-in for the Locust containers.

moto runs no container, so `FakeLocust` plays the Fargate tasks' part: once the master and every worker RUN, it
writes the master's log lines (`bench/rehearsal_locustfile.py`'s format with `REHEARSAL_STATUS_FILE=-`: history
rows each second, the worker count, then the stats rows and status totals) and stops the master after its run time;
`test_rehearsal_master_log.py` holds that format to the real locustfile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto.moto_api import state_manager
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from shared.deploy.interface import StackOutput
from shared.ops.rehearsal_log import stream_name

SUFFIX = "qa"
LOG_GROUP = f"/catalog/catalog-rehearsal-{SUFFIX}"
PERCENTILES = ("50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%")
HISTORY_HEADER = ",".join(["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s", *PERCENTILES,
                           "Total Request Count", "Total Failure Count"])
STATS_HEADER = ",".join(["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                         "Average Response Time", "Min Response Time", "Max Response Time", "Average Content Size",
                         "Requests/s", "Failures/s", *PERCENTILES])


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # moto runs no task: an ECS task stays RUNNING until stopped; a FIS experiment moves one state per GetExperiment.
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})
    try:
        yield f"http://{host}:{port}"
    finally:
        state_manager.unset_transition("ecs::task")
        state_manager.unset_transition("fis::experiment")
        server.stop()


def session() -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                 region_name="us-east-1")


@dataclass
class Account:
    """The target account on moto, with what `up` of the rehearsal stack would have created."""

    url: str
    exports: dict[str, StackOutput] = field(default_factory=dict)
    template_id: str = ""

    def client(self, service: str) -> Any:
        return session().client(service, endpoint_url=self.url)


def prepare(url: str, fault_steps: int) -> Account:
    """A fresh moto: the VPC's private subnets, the fleet (cluster, task definitions, log group), a FIS template."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).read()
    state_manager.set_transition("fis::experiment", {"progression": "manual", "times": fault_steps})
    account = Account(url)
    ec2, ecs, logs, fis = (account.client(s) for s in ("ec2", "ecs", "logs", "fis"))
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # as the network layer's VPC
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24")["Subnet"]["SubnetId"] for i in (1, 2)]
    group = ec2.create_security_group(GroupName="locust", Description="locust", VpcId=vpc)["GroupId"]
    cluster = ecs.create_cluster(clusterName=f"catalog-rehearsal-{SUFFIX}")["cluster"]["clusterArn"]
    definitions = {}
    for name in ("master", "worker"):
        definitions[name] = ecs.register_task_definition(
            family=f"catalog-rehearsal-{name}-{SUFFIX}", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
            cpu="1024", memory="2048",
            # moto sizes tasks from the containers' own cpu/memory (Fargate takes the task's).
            containerDefinitions=[{"name": name, "image": "locust", "essential": True, "cpu": 1024, "memory": 2048}],
        )["taskDefinition"]["taskDefinitionArn"]
    logs.create_log_group(logGroupName=LOG_GROUP)
    account.template_id = fis.create_experiment_template(
        clientToken="t", description="Sale rehearsal: fail the Aurora writer over", roleArn="arn:aws:iam::123456789012:"
        "role/catalog-fault-injection-qa", stopConditions=[{"source": "aws:cloudwatch:alarm", "value":
                                                            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x"}],
        targets={"target": {"resourceType": "aws:rds:cluster", "selectionMode": "ALL",
                            "resourceArns": ["arn:aws:rds:us-east-1:123456789012:cluster:catalog-db-qa"]}},
        actions={"aurora-failover": {"actionId": "aws:rds:failover-db-cluster", "targets": {"Clusters": "target"}}},
        tags={"Layer": "observability", "Environment": SUFFIX, "Name": "aurora-failover", "Project": "catalog"},
    )["experimentTemplate"]["id"]
    account.exports = {k: StackOutput(v) for k, v in {
        "clusterArn": cluster, "masterTaskDefinitionArn": definitions["master"],
        "workerTaskDefinitionArn": definitions["worker"], "workerCount": 3, "subnetIds": subnets,
        "securityGroupId": group, "logGroupName": LOG_GROUP, "dashboardName": f"catalog-{SUFFIX}"}.items()}
    return account


def put_metrics(account: Account, at: float, function: str, instances: list[str], proxy: str, service: str) -> None:
    """What CloudWatch would hold for the run: concurrency, throttles, ACU, proxy connections, shed."""
    cw = account.client("cloudwatch")
    when = [at + 30 * i for i in range(3)]
    series = [("AWS/Lambda", "ConcurrentExecutions", {"FunctionName": function}, (40, 180, 150)),
              ("AWS/Lambda", "Throttles", {"FunctionName": function}, (0, 0, 0)),
              # per instance: the writer busy, a reader not; the cluster-level average (5.25) would hide the writer
              ("AWS/RDS", "ServerlessDatabaseCapacity", {"DBInstanceIdentifier": instances[0]}, (2, 9.5, 8)),
              ("AWS/RDS", "ServerlessDatabaseCapacity", {"DBInstanceIdentifier": instances[1]}, (0.5, 1, 1)),
              ("AWS/RDS", "ServerlessDatabaseCapacity", {"DBClusterIdentifier": "catalog-db-qa"}, (1.25, 5.25, 4.5)),
              ("AWS/RDS", "DatabaseConnections",
               {"ProxyName": proxy, "TargetGroup": "default", "TargetRole": "READ_WRITE"}, (30, 100, 60)),
              ("CatalogApi", "RequestsShed", {"service": service}, (0, 12, 3))]
    for namespace, metric, dims, values in series:
        cw.put_metric_data(Namespace=namespace, MetricData=[
            {"MetricName": metric, "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
             "Timestamp": t, "Value": float(v)} for t, v in zip(when, values, strict=True)])


@dataclass
class FakeLocust:
    """The Fargate containers' visible behaviour: log lines in the master's stream, the master's stop."""

    account: Account
    duration_s: int
    users: int
    die_at_s: float | None = None  # the master crashes then, without its totals
    start: float | None = None
    written_to: int = 0
    done: bool = False

    def _tasks(self) -> list[dict[str, Any]]:
        ecs = self.account.client("ecs")
        cluster = self.account.exports["clusterArn"].value
        arns = ecs.list_tasks(cluster=cluster).get("taskArns", [])
        return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []

    def _put(self, stream: str, now: float, lines: list[str]) -> None:
        logs = self.account.client("logs")
        if not logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=stream)["logStreams"]:
            logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                            logEvents=[{"timestamp": int(now * 1000), "message": line} for line in lines])

    def advance(self, now: float) -> None:
        if self.done:
            return
        tasks = [t for t in self._tasks() if t["lastStatus"] == "RUNNING"]
        master = next((t for t in tasks if "master" in t["taskDefinitionArn"]), None)
        workers = [t for t in tasks if "worker" in t["taskDefinitionArn"]]
        if master is None:
            return
        stream = stream_name("master", master["taskArn"])
        if self.start is None:
            self._put(stream, now, [f"rehearsal-history-header {HISTORY_HEADER}", f"rehearsal-workers {len(workers)}"])
            if len(workers) < self.account.exports["workerCount"].value:
                return
            self.start = int(now)
            self.written_to = self.start - 1
        end = min(int(now), self.start + self.duration_s)
        rows = []
        for second in range(self.written_to + 1, end + 1):
            t = second - self.start
            slow = 20 <= t < 35  # the fault's window: slower, and some failures
            p = (8, 9, 10, 11, 14, 30, 60, 350 if slow else 120, 400, 400, 400)
            rows.append(f"rehearsal-history {second},{min(self.users, 50 * (t + 1))},,Aggregated,"
                        f"{100.0:2f},{(5.0 if slow else 0.0):2f},{','.join(map(str, p))},{100 * t},{5 * t}")
        self.written_to = end
        if rows:
            self._put(stream, now, rows)
        if self.die_at_s is not None and now - self.start >= self.die_at_s:
            self._stop(master, workers, "Essential container in task exited")
            return
        if now - self.start >= self.duration_s:
            stats = [STATS_HEADER,
                     "GET,browse,1800,0,7,9,2,300,900,30.0,0.0,7,8,9,10,14,40,90,150,300,300,300",
                     "GET,view,3000,0,6,8,2,250,500,50.0,0.0,6,7,8,9,12,30,70,120,250,250,250",
                     "POST,reserve,1200,75,12,20,5,900,300,20.0,1.2,12,13,14,15,20,60,150,420,900,900,900",
                     ",Aggregated,6000,75,7,11,2,900,600,100.0,1.2,7,8,9,10,14,40,90,180,900,900,900"]
            self._put(stream, now, [f"rehearsal-stats {i} {row}" for i, row in enumerate(stats)] + [
                'rehearsal-statuses {"browse 200": 1800, "view 200": 3000, "reserve 201": 400, '
                '"reserve 409": 725, "reserve-shed 503": 75}'])
            for worker in workers:
                self._put(stream_name("worker", worker["taskArn"]), now, ["rehearsal-worker-cpu-seconds 21.50"])
            self._stop(master, [], "Essential container in task exited")

    def _stop(self, master: dict[str, Any], others: list[dict[str, Any]], reason: str) -> None:
        ecs = self.account.client("ecs")
        for task in [master, *others]:
            ecs.stop_task(cluster=self.account.exports["clusterArn"].value, task=task["taskArn"], reason=reason)
        self.done = True


@dataclass
class Clock:
    """Wall time that moves only when the run sleeps; each sleep lets the containers do their part."""

    now: float = field(default_factory=lambda: float(int(time.time())))
    locust: FakeLocust | None = None
    interrupt_at: float | None = None  # raise KeyboardInterrupt (Ctrl-C) once this much time has passed
    began: float = 0.0

    def __post_init__(self) -> None:
        self.began = self.now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.interrupt_at is not None and self.now - self.began >= self.interrupt_at:
            raise KeyboardInterrupt
        if self.locust is not None:
            self.locust.advance(self.now)
