"""Outputs of the data layer (owner: database team). Data only: no resources."""

from shared.runtime.contracts import LayerOutputs, OutputSpec

OUTPUTS = LayerOutputs("data", (
    OutputSpec("clusterId", str, 'Aurora cluster identifier'),
    OutputSpec("clusterArn", str, 'Aurora cluster ARN'),
    OutputSpec("clusterResourceId", str, 'Aurora cluster resource id (cluster-XXXX)'),
    OutputSpec("writerEndpoint", str, 'cluster writer endpoint (direct; the API goes through the proxy)'),
    OutputSpec("readerEndpoint", str, 'cluster reader endpoint (direct)'),
    OutputSpec("port", int, 'PostgreSQL port'),
    OutputSpec("databaseName", str, 'database name'),
    OutputSpec("databaseUser", str, 'app role the API connects as through the proxy (IAM auth); not the master'),
    OutputSpec("ownerUser", str, 'role owning the schema; the migrations run as it'),
    OutputSpec("masterUser", str, 'Aurora master user (role bootstrap only)'),
    OutputSpec("writerInstanceId", str, 'identifier of the writer instance'),
    OutputSpec("managedInstanceIds", list[str],
               'instance identifiers in Pulumi state; other instances of the cluster were added by reader '
               'auto scaling and are removed by `invoke down` before the cluster'),
    OutputSpec("readerScalingResourceId", str, 'Application Auto Scaling resource id (cluster:<id>)'),
    OutputSpec("maxAcu", float, 'Serverless v2 maximum capacity (ACU)'),
    OutputSpec("proxyName", str, 'RDS Proxy name'),
    OutputSpec("proxyArn", str, 'RDS Proxy ARN'),
    OutputSpec("proxyEndpoint", str, 'RDS Proxy read/write endpoint'),
    OutputSpec("proxyReadOnlyEndpoint", str, 'RDS Proxy read-only endpoint (readers)'),
    OutputSpec("proxyResourceId", str, 'proxy resource id (prx-...) for the rds-db:connect ARN'),
    OutputSpec("proxyMaxConnections", int, 'connections the proxy may open to the database (pool size)'),
    OutputSpec("secretArn", str, "the app role's secret (the one RDS Proxy serves); same as appSecretArn"),
    OutputSpec("appSecretArn", str, "Secrets Manager secret of the app role (RDS Proxy, migrate task)"),
    OutputSpec("ownerSecretArn", str, "Secrets Manager secret of the owner role (migrate task)"),
    OutputSpec("masterSecretArn", str, 'RDS-managed master secret (migrate task\'s role bootstrap); "" when '
               'manageMasterPassword=false'),
    OutputSpec("sessionsTableName", str, 'DynamoDB sessions table'),
    OutputSpec("sessionsTableArn", str, 'DynamoDB sessions table ARN'),
    OutputSpec("sessionsTableIndexNames", list[str], 'GSI names of the sessions table'),
    OutputSpec("cacheTableName", str, 'DynamoDB cache table'),
    OutputSpec("cacheTableArn", str, 'DynamoDB cache table ARN'),
    OutputSpec("cacheTableIndexNames", list[str], 'GSI names of the cache table'),
    OutputSpec("logsBucketName", str, 'bucket for ALB and CloudFront logs'),
    OutputSpec("logsBucketArn", str, 'logs bucket ARN'),
    OutputSpec("logsBucketDomainName", str, 'logs bucket domain name (CloudFront standard logging)'),
    OutputSpec("artifactsBucketName", str, 'bucket for deployment packages'),
    OutputSpec("artifactsBucketArn", str, 'artifacts bucket ARN'),
))
