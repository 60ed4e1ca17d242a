"""RDS Proxy in front of the cluster: IAM auth required from clients, TLS required, and a pool of exactly
`proxyMaxConnections` database connections (a whole percentage of the pinned max_connections)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from shared.runtime.naming import Service

DEFAULT_TARGET_GROUP = "default"  # the one target group every proxy has


@dataclass(frozen=True)
class ProxyArgs:
    name: Callable[[str, Service], str]
    cluster_id: pulumi.Input[str]
    account_id: str
    # One secret per database user the proxy serves: the app role only (migrations log in to the cluster).
    secret_arns: dict[str, pulumi.Input[str]]  # user name -> secret ARN
    pool_percent: int
    idle_percent: int
    idle_client_timeout: int
    borrow_timeout: int
    private_subnet_ids: pulumi.Input[Sequence[str]]
    proxy_security_group_id: pulumi.Input[str]
    instances: Sequence[pulumi.Resource]


class DatabaseProxy(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: ProxyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:data:DatabaseProxy", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        role = aws.iam.Role(
            "proxy-role",
            name=args.name("db-proxy", Service.IAM_ROLE),
            description="RDS Proxy: read the database credentials secrets it serves",
            assume_role_policy=pulumi.Output.json_dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"},
                               "Action": "sts:AssumeRole",
                               # Confused-deputy guard: only RDS acting for this account (RDS documents
                               # aws:SourceAccount/SourceArn in service-role trust policies:
                               # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/cross-service-confused-deputy-prevention.html).
                               "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}}}],
            }),
            opts=child,
        )
        # The secret uses the AWS managed key aws/secretsmanager, whose key policy already lets principals of
        # this account decrypt through Secrets Manager: no kms:Decrypt grant is needed here.
        aws.iam.RolePolicy(
            "proxy-read-secret",
            role=role.id,
            policy=pulumi.Output.json_dumps({
                "Version": "2012-10-17",
                "Statement": [{"Sid": "ReadDatabaseCredentials", "Effect": "Allow",
                               "Action": "secretsmanager:GetSecretValue",
                               "Resource": list(args.secret_arns.values())}],
            }),
            opts=child,
        )
        self.proxy = aws.rds.Proxy(
            "db-proxy",
            name=args.name("db-proxy", Service.RDS_PROXY),
            engine_family="POSTGRESQL",
            require_tls=True,
            idle_client_timeout=args.idle_client_timeout,
            role_arn=role.arn,
            vpc_subnet_ids=args.private_subnet_ids,
            vpc_security_group_ids=[args.proxy_security_group_id],
            auths=[aws.rds.ProxyAuthArgs(
                auth_scheme="SECRETS",
                secret_arn=arn,
                iam_auth="REQUIRED",
                client_password_auth_type="POSTGRES_SCRAM_SHA_256",
                description=f"Aurora role {user}; clients sign IAM tokens (rds-db:connect)",
            ) for user, arn in args.secret_arns.items()],
            debug_logging=False,  # it would log SQL text
            # The app secret has no value until the migrate task writes it: the proxy reads it only when it
            # opens database connections, and logs in as the app role from then on.
            opts=child,
        )
        self.target_group = aws.rds.ProxyDefaultTargetGroup(
            "db-proxy-pool",
            db_proxy_name=self.proxy.name,
            connection_pool_config=aws.rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs(
                max_connections_percent=args.pool_percent,
                max_idle_connections_percent=args.idle_percent,
                connection_borrow_timeout=args.borrow_timeout,
            ),
            opts=child,
        )
        target = aws.rds.ProxyTarget(
            "db-proxy-target",
            db_proxy_name=self.proxy.name,
            target_group_name=DEFAULT_TARGET_GROUP,
            db_cluster_identifier=args.cluster_id,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.target_group, *args.instances]),
        )
        self.read_only = aws.rds.ProxyEndpoint(
            "db-proxy-read-only",
            db_proxy_name=self.proxy.name,
            db_proxy_endpoint_name=args.name("db-proxy-ro", Service.RDS_PROXY),
            target_role="READ_ONLY",
            vpc_subnet_ids=args.private_subnet_ids,
            vpc_security_group_ids=[args.proxy_security_group_id],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[target]),
        )
        # rds-db:connect names the proxy by its resource id, the `prx-...` last segment of its ARN.
        self.resource_id = self.proxy.arn.apply(lambda arn: arn.rsplit(":", 1)[-1])
        self.register_outputs({"proxyName": self.proxy.name})
