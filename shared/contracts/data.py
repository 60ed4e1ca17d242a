"""Outputs of the data layer (owner: database team)."""

from shared.contracts import OutputSpec

OUTPUTS = (
    OutputSpec("clusterId", "Aurora cluster identifier", readers=("observability",)),
    OutputSpec("clusterArn", "Aurora cluster ARN"),
    OutputSpec("clusterResourceId", "Aurora cluster resource id (cluster-XXXX)"),
    OutputSpec("writerEndpoint", "cluster writer endpoint (direct; the API goes through the proxy)"),
    OutputSpec("readerEndpoint", "cluster reader endpoint (direct)"),
    OutputSpec("port", "PostgreSQL port", readers=("app",)),
    OutputSpec("databaseName", "database name", readers=("app",)),
    OutputSpec("databaseUser", "database user the API connects as through the proxy (IAM auth)",
               readers=("app",)),
    OutputSpec("writerInstanceId", "identifier of the writer instance", readers=("observability",)),
    OutputSpec("managedInstanceIds", "instance identifiers in Pulumi state; other instances of the cluster "
               "were added by reader auto scaling and are removed by `invoke down` before the cluster"),
    OutputSpec("readerScalingResourceId", "Application Auto Scaling resource id (cluster:<id>)"),
    OutputSpec("maxAcu", "Serverless v2 maximum capacity (ACU)", readers=("observability",)),
    OutputSpec("proxyName", "RDS Proxy name", readers=("observability",)),
    OutputSpec("proxyArn", "RDS Proxy ARN"),
    OutputSpec("proxyEndpoint", "RDS Proxy read/write endpoint", readers=("app",)),
    OutputSpec("proxyReadOnlyEndpoint", "RDS Proxy read-only endpoint (readers)", readers=("app",)),
    OutputSpec("proxyResourceId", "proxy resource id (prx-...) for the rds-db:connect ARN", readers=("app",)),
    OutputSpec("proxyMaxConnections", "connections the proxy may open to the database (pool size)",
               readers=("observability",)),
    OutputSpec("secretArn", "Secrets Manager secret with the database user's credentials (used by the proxy)"),
    OutputSpec("sessionsTableName", "DynamoDB sessions table", readers=("app", "observability")),
    OutputSpec("sessionsTableArn", "DynamoDB sessions table ARN", readers=("app",)),
    OutputSpec("sessionsTableIndexNames", "GSI names of the sessions table", readers=("app",)),
    OutputSpec("cacheTableName", "DynamoDB cache table", readers=("app", "observability")),
    OutputSpec("cacheTableArn", "DynamoDB cache table ARN", readers=("app",)),
    OutputSpec("cacheTableIndexNames", "GSI names of the cache table", readers=("app",)),
    OutputSpec("logsBucketName", "bucket for ALB and CloudFront logs", readers=("app", "edge")),
    OutputSpec("logsBucketArn", "logs bucket ARN"),
    OutputSpec("logsBucketDomainName", "logs bucket domain name (CloudFront standard logging)", readers=("edge",)),
    OutputSpec("artifactsBucketName", "bucket for deployment packages"),
    OutputSpec("artifactsBucketArn", "artifacts bucket ARN"),
)
