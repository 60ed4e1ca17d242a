"""The rehearsal's Locust fleet on ECS Fargate: a cluster, one log group, one security group, an execution role and
two task definitions (master, worker). No service: `invoke rehearse` starts the master once (RunTask), then the
workers pointed at its private address; the master stops after its run time and the workers with it, so nothing
keeps running, or restarts into a second load, once the rehearsal is over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from shared.runtime.naming import Service, physical_name
from shared.runtime.rehearsal_sizing import (
    MASTER_CPU_UNITS,
    MASTER_MEMORY_MIB,
    MASTER_PORT,
    WORKER_CPU_UNITS,
    WORKER_MEMORY_MIB,
)

LOCUSTFILE = "/home/locust/rehearsal_locustfile.py"  # where bench/rehearsal.Dockerfile puts the shopper
LOG_RETENTION_DAYS = 14


@dataclass(frozen=True)
class FleetArgs:
    suffix: str
    account_id: str
    region: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    image: str
    image_repository: str  # the ECR repository name inside `image`
    signing_key_secret_arn: str
    target_url: pulumi.Input[str]  # https://<the distribution's domain>: shoppers go through the edge
    issuer: pulumi.Input[str]
    audience: pulumi.Input[str]
    users: int
    spawn_rate: float
    duration_seconds: int
    workers: int
    think_time_seconds: float
    mix: str  # "browse,view,reserve" shares: the capacity model's
    sale_sku: str


def _trust(account_id: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole",
        # Only tasks of this account's ECS may assume it (confused deputy).
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}}]})


def execution_policy(args: FleetArgs, log_group_arn: str) -> str:
    """Pull the one image repository, write the one log group, read the one signing-key secret: nothing else."""
    repo_arn = f"arn:aws:ecr:{args.region}:{args.account_id}:repository/{args.image_repository}"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        # GetAuthorizationToken has no resource-level permissions (the ECR authorization reference): "*" only.
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PullImage", "Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
         "Resource": repo_arn},
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn}:log-stream:*"},
        {"Sid": "SigningKey", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": args.signing_key_secret_arn},
    ]})


def container(name: str, args: FleetArgs, log_group: str, command: list[str], env: dict[str, str],
              secrets: list[dict[str, str]], ports: list[int]) -> dict[str, Any]:
    return {
        "name": name, "image": args.image, "essential": True, "command": command,
        "environment": [{"name": k, "value": v} for k, v in sorted(env.items())],
        "secrets": secrets,
        "portMappings": [{"containerPort": p, "protocol": "tcp"} for p in ports],
        "readonlyRootFilesystem": False,  # Locust writes its CSV and gevent its temp files
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group, "awslogs-region": args.region, "awslogs-stream-prefix": name}},
    }


class LocustFleet(pulumi.ComponentResource):
    def __init__(self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:rehearsal:LocustFleet", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        suffix = args.suffix
        self.cluster = aws.ecs.Cluster("cluster", name=physical_name("rehearsal", suffix),
                                       settings=[{"name": "containerInsights", "value": "enabled"}], opts=child)
        self.log_group = aws.cloudwatch.LogGroup(
            "logs", name=f"/catalog/{physical_name('rehearsal', suffix, Service.LOG_GROUP)}",
            retention_in_days=LOG_RETENTION_DAYS, opts=child)

        # Workers reach the master on its port, inside the group; everyone reaches the edge (HTTPS) out of the VPC.
        self.security_group = aws.ec2.SecurityGroup(
            "locust", name=physical_name("rehearsal-locust", suffix, Service.SECURITY_GROUP),
            description="Locust master and workers of the sale rehearsal", vpc_id=args.vpc_id, opts=child)
        aws.vpc.SecurityGroupIngressRule(
            "locust-master-port", security_group_id=self.security_group.id,
            referenced_security_group_id=self.security_group.id, ip_protocol="tcp", from_port=MASTER_PORT,
            to_port=MASTER_PORT, description="Locust workers to their master", opts=child)
        aws.vpc.SecurityGroupEgressRule(
            "locust-to-master", security_group_id=self.security_group.id,
            referenced_security_group_id=self.security_group.id, ip_protocol="tcp", from_port=MASTER_PORT,
            to_port=MASTER_PORT, description="Locust workers to their master", opts=child)
        aws.vpc.SecurityGroupEgressRule(
            "locust-https", security_group_id=self.security_group.id, cidr_ipv4="0.0.0.0/0", ip_protocol="tcp",
            from_port=443, to_port=443, description="shoppers to CloudFront, ECR, Logs, Secrets Manager (via NAT)",
            opts=child)

        self.execution_role = aws.iam.Role(
            "execution", name=physical_name("rehearsal-exec", suffix, Service.IAM_ROLE),
            assume_role_policy=_trust(args.account_id), opts=child)
        aws.iam.RolePolicy("execution", role=self.execution_role.id,
                           policy=self.log_group.arn.apply(lambda arn: execution_policy(args, arn)), opts=child)

        shopper = {"REHEARSAL_THINK_S": f"{args.think_time_seconds:g}", "REHEARSAL_MIX": args.mix,
                   "REHEARSAL_SALE_SKU": args.sale_sku}
        master_cmd = ["-f", LOCUSTFILE, "--master", "--headless", "--expect-workers", str(args.workers),
                      "--expect-workers-max-wait", "300", "--users", str(args.users), "--spawn-rate",
                      f"{args.spawn_rate:g}", "--run-time", f"{args.duration_seconds}s", "--stop-timeout", "10",
                      "--master-bind-port", str(MASTER_PORT), "--only-summary", "--json"]

        def definitions(values: list[Any]) -> tuple[str, str]:
            log_group, url, issuer, audience = values
            master = container("master", args, log_group, [*master_cmd, "--host", url],
                               {**shopper, "REHEARSAL_STATUS_FILE": "-"}, [], [MASTER_PORT])
            # The master's address is given at start (RunTask override of LOCUST_MASTER_NODE_HOST).
            worker = container("worker", args, log_group, ["-f", LOCUSTFILE, "--worker", "--master-port",
                                                           str(MASTER_PORT)],
                               {**shopper, "REHEARSAL_ISSUER": issuer, "REHEARSAL_AUDIENCE": audience},
                               [{"name": "REHEARSAL_KEY_PEM", "valueFrom": args.signing_key_secret_arn}], [])
            return json.dumps([master]), json.dumps([worker])

        defs = pulumi.Output.all(self.log_group.name, args.target_url, args.issuer, args.audience).apply(definitions)
        common: dict[str, Any] = {"network_mode": "awsvpc", "requires_compatibilities": ["FARGATE"],
                                  "execution_role_arn": self.execution_role.arn,
                                  "runtime_platform": {"operating_system_family": "LINUX",
                                                       "cpu_architecture": "X86_64"}}
        self.master = aws.ecs.TaskDefinition(
            "master", family=physical_name("rehearsal-master", suffix), cpu=str(MASTER_CPU_UNITS),
            memory=str(MASTER_MEMORY_MIB), container_definitions=defs.apply(lambda d: d[0]), **common, opts=child)
        self.worker = aws.ecs.TaskDefinition(
            "worker", family=physical_name("rehearsal-worker", suffix), cpu=str(WORKER_CPU_UNITS),
            memory=str(WORKER_MEMORY_MIB), container_definitions=defs.apply(lambda d: d[1]), **common, opts=child)
        self.register_outputs({})
