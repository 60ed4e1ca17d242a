"""Data layer (owner: database team): Aurora Serverless v2 behind RDS Proxy, DynamoDB tables, S3 buckets."""

import os

import pulumi
import pulumi_aws as aws

from projects.data.aurora import AuroraArgs, AuroraCluster
from projects.data.buckets import Buckets, BucketsArgs
from projects.data.credentials import CredentialsArgs, DatabaseCredentials
from projects.data.outputs import OUTPUTS
from projects.data.proxy import DatabaseProxy, ProxyArgs
from projects.data.sale_schedule import SaleScheduleArgs, sale_schedule, warm_args, warm_throughput
from projects.data.scaling import MIN_READERS, ReaderScaling, ReaderScalingArgs
from projects.data.settings import MISSING_PASSWORD, NAMESPACE, Settings, check_password
from projects.data.tables import Tables, TablesArgs, load_schema
from projects.data.upstream import NetworkView
from shared.runtime.naming import Service
from shared.runtime.program import raw_layer_config, start_layer
from shared.runtime.sale_windows import parse_data_windows

ctx = start_layer("data", Settings, OUTPUTS)
settings = ctx.settings


def master_password() -> pulumi.Output[str] | None:
    """None: RDS manages (and rotates) it. Else config secret `dbPassword`, else env CATALOG_DB_PASSWORD;
    checked before any resource, only ever secret."""
    if settings.manage_master_password:
        return None
    if settings.db_password is not None:
        check_password(str(raw_layer_config(NAMESPACE)["dbPassword"]))
        return pulumi.Output.secret(settings.db_password)
    from_env = os.environ.get("CATALOG_DB_PASSWORD", "")
    if not from_env:
        raise MISSING_PASSWORD
    check_password(from_env)
    return pulumi.Output.secret(from_env)


password = master_password()
network = ctx.read(NetworkView)
schema = load_schema()
account_id = aws.get_caller_identity().account_id

aurora = AuroraCluster("aurora", AuroraArgs(
    name=ctx.name,
    engine_version=settings.engine_version,
    parameter_family=settings.parameter_family,
    min_acu=settings.min_acu,
    max_acu=settings.max_acu,
    database_name=settings.database_name,
    master_username=settings.master_username,
    master_password=password,
    max_connections=settings.max_connections,
    slow_query_ms=settings.slow_query_ms,
    backup_retention_days=settings.backup_retention_days,
    log_retention_days=settings.log_retention_days,
    azs=network.azs,
    private_subnet_ids=network.private_subnet_ids,
    database_security_group_id=network.database_security_group_id,
))
scaling = ReaderScaling("reader-scaling", ReaderScalingArgs(
    name=ctx.name,
    cluster_id=aurora.cluster.id,
    max_readers=settings.reader_max_count,
    cpu_target=settings.reader_cpu_target,
    scale_out_cooldown=settings.reader_scale_out_cooldown,
    scale_in_cooldown=settings.reader_scale_in_cooldown,
    readers=aurora.readers,
))
credentials = DatabaseCredentials("credentials", CredentialsArgs(
    name=ctx.name,
    users={"app": settings.app_username, "owner": settings.owner_username},
    hmac_keys={"waiting-room": "the waiting room's queue tickets and admission passes"},
    rotation_days=settings.rotation_days,
    log_retention_days=settings.log_retention_days,
    account_id=account_id,
    private_subnet_ids=network.private_subnet_ids,
    rotation_security_group_id=network.db_admin_security_group_id,
))
proxy = DatabaseProxy("proxy", ProxyArgs(
    name=ctx.name,
    cluster_id=aurora.cluster.id,
    account_id=account_id,
    secret_arns={settings.app_username: credentials.secrets["app"].arn},
    pool_percent=settings.pool_percent,
    idle_percent=settings.idle_percent,
    idle_client_timeout=settings.proxy_idle_client_timeout,
    borrow_timeout=settings.proxy_borrow_timeout,
    private_subnet_ids=network.private_subnet_ids,
    proxy_security_group_id=network.proxy_security_group_id,
    instances=aurora.instances,
))
sale_windows = parse_data_windows(settings.sale_windows, NAMESPACE)
tables = Tables("tables", TablesArgs(name=ctx.name, schema=schema, warm_throughput={
    table: warm_args(units) for table, units in warm_throughput(sale_windows).items()}))
sale_schedule("sale-schedule", SaleScheduleArgs(
    windows=sale_windows, reader_target=scaling.target, cluster_id=aurora.cluster.id,
    cluster_arn=aurora.cluster.arn, account_id=account_id,
    steady_readers=(MIN_READERS, settings.reader_max_count), steady_acu=(settings.min_acu, settings.max_acu),
    name=lambda kind: ctx.name(kind, Service.GENERIC),
    # Scheduler names: 1-64 of [0-9A-Za-z_.-]; the Lambda rule (64, [A-Za-z0-9_-]) is a strict subset.
    schedule_name=lambda kind: ctx.name(kind, Service.LAMBDA),
    role_name=ctx.name("sale-scheduler", Service.IAM_ROLE)))
buckets = Buckets("buckets", BucketsArgs(name=ctx.name, account_id=account_id))

sessions, cache, room = (tables.tables[t] for t in ("sessions", "cache", "waitingRoom"))
ctx.export({
    "clusterId": aurora.cluster.id,
    "clusterArn": aurora.cluster.arn,
    "clusterResourceId": aurora.cluster.cluster_resource_id,
    "writerEndpoint": aurora.cluster.endpoint,
    "readerEndpoint": aurora.cluster.reader_endpoint,
    "port": aurora.cluster.port,
    "databaseName": settings.database_name,
    # The least-privileged app role (the migrate task creates it), never the master user.
    "databaseUser": settings.app_username,
    "ownerUser": settings.owner_username,
    "masterUser": settings.master_username,
    "writerInstanceId": aurora.writer.identifier,
    "managedInstanceIds": [i.identifier for i in aurora.instances],
    "readerScalingResourceId": scaling.resource_id,
    "maxAcu": settings.max_acu,
    "proxyName": proxy.proxy.name,
    "proxyArn": proxy.proxy.arn,
    "proxyEndpoint": proxy.proxy.endpoint,
    "proxyReadOnlyEndpoint": proxy.read_only.endpoint,
    "proxyResourceId": proxy.resource_id,
    "proxyMaxConnections": settings.proxy_max_connections,
    "secretArn": credentials.secrets["app"].arn,
    "appSecretArn": credentials.secrets["app"].arn,
    "ownerSecretArn": credentials.secrets["owner"].arn,
    "masterSecretArn": (aurora.cluster.master_user_secrets.apply(lambda s: s[0].secret_arn if s else "")
                        if password is None else ""),
    "sessionsTableName": sessions.name,
    "sessionsTableArn": sessions.arn,
    "sessionsTableIndexNames": tables.index_names["sessions"],
    "cacheTableName": cache.name,
    "cacheTableArn": cache.arn,
    "cacheTableIndexNames": tables.index_names["cache"],
    "waitingRoomTableName": room.name,
    "waitingRoomTableArn": room.arn,
    "waitingRoomTableIndexNames": tables.index_names["waitingRoom"],
    "waitingRoomKeySecretArn": credentials.keys["waiting-room"].arn,
    "logsBucketName": buckets.logs.bucket,
    "logsBucketArn": buckets.logs.arn,
    "logsBucketDomainName": buckets.logs.bucket_domain_name,
    "artifactsBucketName": buckets.artifacts.bucket,
    "artifactsBucketArn": buckets.artifacts.arn,
})
