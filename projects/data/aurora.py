"""Aurora PostgreSQL Serverless v2: one writer and two readers in three AZs, private subnets only, with the
max_connections the proxy pool is computed from pinned in the cluster parameter group."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from shared.runtime.naming import Service, check_name

ENGINE = "aurora-postgresql"
PORT = 5432
INSTANCE_CLASS = "db.serverless"
PERFORMANCE_INSIGHTS_DAYS = 7  # the free tier of Performance Insights
BACKUP_WINDOW = "03:00-04:00"  # UTC; must not overlap the maintenance window
MAINTENANCE_WINDOW = "sun:04:30-sun:05:30"


@dataclass(frozen=True)
class AuroraArgs:
    name: Callable[[str, Service], str]
    engine_version: str
    parameter_family: str
    min_acu: float
    max_acu: float
    database_name: str
    master_username: str
    master_password: pulumi.Input[str] | None  # a secret Output; None: RDS manages (and rotates) it
    max_connections: int
    slow_query_ms: int
    backup_retention_days: int
    log_retention_days: int
    azs: pulumi.Input[Sequence[str]]
    private_subnet_ids: pulumi.Input[Sequence[str]]
    database_security_group_id: pulumi.Input[str]


class AuroraCluster(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: AuroraArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:data:AuroraCluster", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster_id = args.name("db", Service.RDS_CLUSTER)

        subnet_group = aws.rds.SubnetGroup(
            "db-subnets",
            name=args.name("db-subnets", Service.RDS_SUBNET_GROUP),
            description="Aurora: the three private subnets only",
            subnet_ids=args.private_subnet_ids,
            opts=child,
        )
        params = aws.rds.ClusterParameterGroup(
            "db-cluster-params",
            name=args.name("db-cluster-params", Service.RDS_PARAMETER_GROUP),
            family=args.parameter_family,
            description="Pinned max_connections (the proxy pool is a percentage of it) and slow-statement log",
            parameters=[
                # Static parameter: AWS refuses apply_method "immediate" for it.
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="max_connections", value=str(args.max_connections), apply_method="pending-reboot"),
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="log_min_duration_statement", value=str(args.slow_query_ms), apply_method="immediate"),
                # Audit trail of schema and role changes in the exported postgresql log, by pgaudit rather than
                # log_statement=ddl: log_statement writes ALTER ROLE ... PASSWORD '<literal>' as sent (the hosted
                # rotation function sends plain passwords), pgaudit's ROLE class redacts the password
                # (https://repost.aws/knowledge-center/rds-postgresql-cleartext-logging). The library is static
                # (loaded at start: set before the instances exist); the migrate task creates the extension.
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="shared_preload_libraries", value="pgaudit", apply_method="pending-reboot"),
                aws.rds.ClusterParameterGroupParameterArgs(
                    name="pgaudit.log", value="ddl,role", apply_method="immediate"),
            ],
            opts=child,
        )
        # RDS would create this group itself with no expiry and leave it behind on destroy.
        log_group_name = check_name(f"/aws/rds/cluster/{cluster_id}/postgresql", Service.LOG_GROUP)
        log_group = aws.cloudwatch.LogGroup(
            "db-postgresql-log", name=log_group_name, retention_in_days=args.log_retention_days, opts=child)

        self.cluster = aws.rds.Cluster(
            "db",
            cluster_identifier=cluster_id,
            engine=ENGINE,
            engine_mode="provisioned",  # Serverless v2 is the provisioned mode with db.serverless instances
            engine_version=args.engine_version,
            serverlessv2_scaling_configuration=aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
                min_capacity=args.min_acu, max_capacity=args.max_acu),
            database_name=args.database_name,
            master_username=args.master_username,
            master_password=args.master_password,
            # RDS generates the master password into Secrets Manager and rotates it every 7 days.
            manage_master_user_password=True if args.master_password is None else None,
            port=PORT,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[args.database_security_group_id],
            db_cluster_parameter_group_name=params.name,
            storage_encrypted=True,  # AWS managed key aws/rds
            iam_database_authentication_enabled=True,
            backup_retention_period=args.backup_retention_days,
            preferred_backup_window=BACKUP_WINDOW,
            preferred_maintenance_window=MAINTENANCE_WINDOW,
            enabled_cloudwatch_logs_exports=["postgresql"],
            copy_tags_to_snapshot=True,
            deletion_protection=False,
            skip_final_snapshot=True,  # a suffix must tear down cleanly
            # engineVersion is the creation version: the instances' auto minor upgrades move the cluster to a
            # newer minor, and a pinned 16.8 would then preview as a downgrade on every update.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group], ignore_changes=["engineVersion"]),
        )

        def instance(kind: str, index: int, tier: int, after: list[pulumi.Resource]) -> aws.rds.ClusterInstance:
            return aws.rds.ClusterInstance(
                kind,
                identifier=args.name(kind, Service.RDS_INSTANCE),
                cluster_identifier=self.cluster.id,
                instance_class=INSTANCE_CLASS,
                engine=ENGINE,
                engine_version=self.cluster.engine_version,
                availability_zone=pulumi.Output.from_input(args.azs).apply(lambda azs: azs[index]),
                promotion_tier=tier,
                db_subnet_group_name=subnet_group.name,
                publicly_accessible=False,
                performance_insights_enabled=True,
                performance_insights_retention_period=PERFORMANCE_INSIGHTS_DAYS,
                auto_minor_version_upgrade=True,  # so engineVersion is only the creation version (see the cluster)
                opts=pulumi.ResourceOptions(parent=self, depends_on=after, ignore_changes=["engineVersion"]),
            )

        # The first instance of an Aurora cluster becomes its writer: the readers wait for it.
        self.writer = instance("db-writer", 0, 0, [])
        # Tier 1 scales with the writer (a warm failover target); tier 2 scales on its own load.
        self.readers = [instance(f"db-reader-{n}", n, n, [self.writer]) for n in (1, 2)]
        self.instances = [self.writer, *self.readers]
        self.register_outputs({"clusterId": self.cluster.id})
