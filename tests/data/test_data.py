"""Data layer under mocks: the real program with the longest legal suffix, upstream network exports from `chain`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from projects.data.settings import DEFAULT_ENGINE_VERSION, ENGINE_VERSIONS
from projects.data.tables import SCHEMA_PATH
from shared.declarations import outputs_of
from shared.plan.computed import ACCOUNT_ID
from shared.plan.planner import Plan, Resource
from shared.runtime.naming import Service, check_name
from shared.runtime.tags import is_taggable
from tests.conftest import DB_PASSWORD, SUFFIX

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
PROXY = "aws:rds/proxy:Proxy"
TABLE = "aws:dynamodb/table:Table"
BUCKET = "aws:s3/bucket:Bucket"

NAMED = {  # type -> (input holding the physical name, service rule)
    CLUSTER: ("clusterIdentifier", Service.RDS_CLUSTER),
    INSTANCE: ("identifier", Service.RDS_INSTANCE),
    PROXY: ("name", Service.RDS_PROXY),
    "aws:rds/proxyEndpoint:ProxyEndpoint": ("dbProxyEndpointName", Service.RDS_PROXY),
    PARAMS: ("name", Service.RDS_PARAMETER_GROUP),
    "aws:rds/subnetGroup:SubnetGroup": ("name", Service.RDS_SUBNET_GROUP),
    "aws:secretsmanager/secret:Secret": ("name", Service.SECRET),
    "aws:iam/role:Role": ("name", Service.IAM_ROLE),
    TABLE: ("name", Service.DYNAMODB_TABLE),
    BUCKET: ("bucket", Service.S3_BUCKET),
    "aws:cloudwatch/logGroup:LogGroup": ("name", Service.LOG_GROUP),
    "aws:appautoscaling/policy:Policy": ("name", Service.GENERIC),
    "aws:lambda/function:Function": ("name", Service.LAMBDA),
}


@pytest.fixture(scope="module")
def data(chain: dict[str, Plan]) -> Plan:
    if "data" not in chain:
        pytest.skip("projects/data has no program")
    return chain["data"]


@pytest.fixture(scope="module")
def net(chain: dict[str, Plan]) -> Plan:
    return chain["network"]


def computed(resource: Resource, key: str) -> Any:
    """What the planner's mocks computed for a resource output (ids, ARNs)."""
    from shared.plan.computed import computed_state

    return computed_state(resource.type, resource.name, resource.inputs)[1][key]


def plain_strings(value: Any) -> Iterator[str]:
    """Every string outside secret wrappers, at any depth."""
    if isinstance(value, dict):
        if set(value) == {"$secret"}:
            return
        for item in value.values():
            yield from plain_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from plain_strings(item)
    elif isinstance(value, str):
        yield value


# --- names, tags, exports -------------------------------------------------------------------------------------

def test_names_are_valid_for_their_service_and_carry_the_whole_suffix(data: Plan) -> None:
    seen = 0
    for type_token, (field, service) in NAMED.items():
        for resource in data.of_type(type_token):
            name = resource.get(field)
            check_name(name, service)
            assert SUFFIX in name, (resource.name, name)
            seen += 1
    # cluster, 3 instances, proxy + endpoint, 2 groups, 3 secrets (app, owner, waiting-room key), 2 roles (proxy,
    # rotation), 3 tables (sessions, cache, waiting room), 2 buckets, 2 log groups (postgresql, rotation), policy,
    # rotation function
    assert seen == 22


def test_every_taggable_resource_is_tagged(data: Plan) -> None:
    for resource in data.custom_resources():
        if is_taggable(resource.type):
            tags = resource.get("tags") or {}
            assert tags.get("Layer") == "data" and tags.get("Owner") == "database team", resource.name
            assert tags.get("Environment") == SUFFIX


def test_exports_are_the_contract_and_agree_with_the_resources(data: Plan) -> None:
    assert set(data.exports) == set(outputs_of("data"))
    cluster = data.one(CLUSTER)
    assert data.export_value("clusterId") == cluster.get("clusterIdentifier")
    assert data.export_value("port") == 5432
    assert data.export_value("databaseName") == cluster.get("databaseName") == "catalog"
    # The API's least-privileged role, never the master (the migrate task creates it).
    assert data.export_value("databaseUser") == "catalog_app" != cluster.get("masterUsername")
    assert data.export_value("masterUser") == cluster.get("masterUsername") == "catalogadmin"
    assert data.export_value("secretArn") == data.export_value("appSecretArn")
    assert data.export_value("maxAcu") == 16
    instances = {r.name: r.get("identifier") for r in data.of_type(INSTANCE)}
    assert data.export_value("writerInstanceId") == instances["db-writer"]
    assert sorted(data.export_value("managedInstanceIds")) == sorted(instances.values())
    assert data.export_value("proxyName") == data.one(PROXY).get("name")
    assert data.export_value("readerScalingResourceId") == f"cluster:{cluster.get('clusterIdentifier')}"
    assert data.export_value("sessionsTableIndexNames") == ["byUser"]
    assert data.export_value("cacheTableIndexNames") == ["byTag"]
    assert data.export_value("logsBucketDomainName").endswith(".s3.amazonaws.com")
    assert not data.secret_exports


# --- Aurora ---------------------------------------------------------------------------------------------------

def test_cluster_is_serverless_v2_encrypted_iam_auth_and_destroyable(data: Plan) -> None:
    cluster = data.one(CLUSTER)
    assert cluster.get("engine") == "aurora-postgresql"
    assert cluster.get("engineMode") == "provisioned"
    assert cluster.get("engineVersion") == DEFAULT_ENGINE_VERSION in ENGINE_VERSIONS
    assert cluster.get("serverlessv2ScalingConfiguration") == {"minCapacity": 0.5, "maxCapacity": 16}
    assert cluster.get("storageEncrypted") is True
    assert cluster.get("iamDatabaseAuthenticationEnabled") is True
    assert cluster.get("deletionProtection") is False and cluster.get("skipFinalSnapshot") is True
    assert cluster.get("backupRetentionPeriod") == 7
    assert cluster.get("enabledCloudwatchLogsExports") == ["postgresql"]
    assert cluster.get("dbClusterParameterGroupName") == data.one(PARAMS).get("name")
    log = data.one("aws:cloudwatch/logGroup:LogGroup", "db-postgresql-log")
    assert log.get("name") == f"/aws/rds/cluster/{cluster.get('clusterIdentifier')}/postgresql"
    assert log.get("retentionInDays") == 30


def test_cluster_sits_in_the_private_subnets_only_behind_the_database_group(data: Plan, net: Plan) -> None:
    subnets = data.one("aws:rds/subnetGroup:SubnetGroup")
    private, public = net.export_value("privateSubnetIds"), net.export_value("publicSubnetIds")
    assert subnets.get("subnetIds") == private and len(private) == 3
    assert not set(subnets.get("subnetIds")) & set(public)
    cluster = data.one(CLUSTER)
    assert cluster.get("dbSubnetGroupName") == subnets.get("name")
    assert cluster.get("vpcSecurityGroupIds") == [net.export_value("databaseSecurityGroupId")]
    for instance in data.of_type(INSTANCE):
        assert instance.get("publiclyAccessible") is False
        assert instance.get("dbSubnetGroupName") == subnets.get("name")


def test_one_writer_and_two_readers_in_three_azs(data: Plan, net: Plan) -> None:
    azs = net.export_value("azs")
    by_name = {r.name: r for r in data.of_type(INSTANCE)}
    assert set(by_name) == {"db-writer", "db-reader-1", "db-reader-2"}
    placement = {name: (r.get("promotionTier"), r.get("availabilityZone")) for name, r in by_name.items()}
    assert placement == {"db-writer": (0, azs[0]), "db-reader-1": (1, azs[1]), "db-reader-2": (2, azs[2])}
    cluster_id = data.one(CLUSTER).get("clusterIdentifier")
    for instance in by_name.values():
        assert instance.get("instanceClass") == "db.serverless"
        assert instance.get("clusterIdentifier") == cluster_id
        assert instance.get("engine") == "aurora-postgresql"
        assert instance.get("engineVersion") == DEFAULT_ENGINE_VERSION
        assert instance.get("performanceInsightsEnabled") is True
        assert instance.get("performanceInsightsRetentionPeriod") == 7


def test_parameter_group_pins_max_connections_and_logs_slow_statements(data: Plan) -> None:
    group = data.one(PARAMS)
    assert group.get("family") == f"aurora-postgresql{DEFAULT_ENGINE_VERSION.split('.')[0]}"
    params = {p["name"]: p for p in group.get("parameters")}
    # max_connections is static: AWS refuses apply_method "immediate" for it.
    assert params["max_connections"] == {"name": "max_connections", "value": "1000", "applyMethod": "pending-reboot"}
    assert params["log_min_duration_statement"]["value"] == "1000"


def test_reader_auto_scaling_tracks_70_percent_cpu_between_2_and_5_readers(data: Plan) -> None:
    cluster_id = data.one(CLUSTER).get("clusterIdentifier")
    target = data.one("aws:appautoscaling/target:Target")
    assert target.get("serviceNamespace") == "rds"
    assert target.get("scalableDimension") == "rds:cluster:ReadReplicaCount"
    assert target.get("resourceId") == f"cluster:{cluster_id}"
    assert (target.get("minCapacity"), target.get("maxCapacity")) == (2, 5)
    policy = data.one("aws:appautoscaling/policy:Policy")
    assert policy.get("policyType") == "TargetTrackingScaling"
    assert (policy.get("serviceNamespace"), policy.get("scalableDimension"), policy.get("resourceId")) == (
        "rds", "rds:cluster:ReadReplicaCount", f"cluster:{cluster_id}")
    tracking = policy.get("targetTrackingScalingPolicyConfiguration")
    assert tracking["predefinedMetricSpecification"] == {"predefinedMetricType": "RDSReaderAverageCPUUtilization"}
    assert tracking["targetValue"] == 70
    assert tracking["disableScaleIn"] is False
    assert tracking["scaleOutCooldown"] == 300 and tracking["scaleInCooldown"] == 600


# --- RDS Proxy ------------------------------------------------------------------------------------------------

def test_proxy_requires_tls_and_iam_auth_in_the_private_subnets(data: Plan, net: Plan) -> None:
    proxy = data.one(PROXY)
    assert proxy.get("engineFamily") == "POSTGRESQL"
    assert proxy.get("requireTls") is True
    assert proxy.get("debugLogging") is False
    assert proxy.get("idleClientTimeout") == 1800
    assert proxy.get("vpcSubnetIds") == net.export_value("privateSubnetIds")
    assert proxy.get("vpcSecurityGroupIds") == [net.export_value("proxySecurityGroupId")]
    secret_arn = computed(data.by_name("db-app-credentials"), "arn")
    (auth,) = proxy.get("auths")  # the app role only: migrations log in to the cluster endpoint directly
    assert {k: auth[k] for k in ("authScheme", "secretArn", "iamAuth", "clientPasswordAuthType")} == {
        "authScheme": "SECRETS", "secretArn": secret_arn, "iamAuth": "REQUIRED",
        "clientPasswordAuthType": "POSTGRES_SCRAM_SHA_256"}
    assert proxy.get("roleArn") == computed(data.by_name("proxy-role"), "arn")


def test_proxy_pool_is_exactly_100_connections(data: Plan) -> None:
    pool = data.one("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup")
    assert pool.get("dbProxyName") == data.one(PROXY).get("name")
    config = pool.get("connectionPoolConfig")
    max_connections = int({p["name"]: p["value"] for p in data.one(PARAMS).get("parameters")}["max_connections"])
    percent = config["maxConnectionsPercent"]
    assert float(percent).is_integer() and 1 <= percent <= 100
    assert max_connections * percent / 100 == 100 == data.export_value("proxyMaxConnections")
    assert 1 <= config["maxIdleConnectionsPercent"] <= percent
    assert config["connectionBorrowTimeout"] == 1  # overload sheds fast instead of queueing 30 s


def test_proxy_targets_the_cluster_and_serves_readers_on_a_read_only_endpoint(data: Plan, net: Plan) -> None:
    proxy_name = data.one(PROXY).get("name")
    target = data.one("aws:rds/proxyTarget:ProxyTarget")
    assert target.get("dbProxyName") == proxy_name and target.get("targetGroupName") == "default"
    assert target.get("dbClusterIdentifier") == data.one(CLUSTER).get("clusterIdentifier")
    assert target.get("dbInstanceIdentifier") is None
    endpoint = data.one("aws:rds/proxyEndpoint:ProxyEndpoint")
    assert endpoint.get("dbProxyName") == proxy_name and endpoint.get("targetRole") == "READ_ONLY"
    assert endpoint.get("vpcSubnetIds") == net.export_value("privateSubnetIds")
    assert endpoint.get("vpcSecurityGroupIds") == [net.export_value("proxySecurityGroupId")]


def test_proxy_role_may_read_exactly_the_credentials_secret(data: Plan) -> None:
    secret = data.by_name("db-app-credentials")
    assert secret.get("recoveryWindowInDays") == 0
    assert secret.get("kmsKeyId") is None  # AWS managed key: no kms grant needed
    role = data.by_name("proxy-role")
    trust = json.loads(role.get("assumeRolePolicy"))
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"},
                                   "Action": "sts:AssumeRole",
                                   "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}}]
    policy = data.by_name("proxy-read-secret")
    assert policy.get("role") == role.get("name")
    (statement,) = json.loads(policy.get("policy"))["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Resource"] == [computed(secret, "arn")]


def test_role_secrets_are_created_without_a_value(data: Plan) -> None:
    # The migrate task writes the RDS-shaped value (containers/catalog-api/src/db-secrets.mjs): nothing in state.
    assert data.of_type("aws:secretsmanager/secretVersion:SecretVersion") == []
    for kind in ("app", "owner"):
        secret = data.by_name(f"db-{kind}-credentials")
        assert "secretString" not in secret.inputs and "secretBinary" not in secret.inputs
    assert not [i for i in data.invokes if i["token"].startswith("aws:secretsmanager/")]


def test_password_never_appears_in_plain_text(data: Plan) -> None:
    for resource in data.resources:
        for text in plain_strings(resource.inputs):
            assert DB_PASSWORD not in text, f"{resource.type} {resource.name} holds the password in plain text"
    for name, value in data.exports.items():
        for text in plain_strings(value):
            assert DB_PASSWORD not in text, f"export {name}"
    cluster = data.one(CLUSTER)
    assert "masterPassword" not in cluster.inputs  # RDS-managed by default (manageMasterPassword)


# --- DynamoDB -------------------------------------------------------------------------------------------------

def _walk_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_keys(item)


@pytest.mark.parametrize("kind", ["sessions", "cache"])
def test_tables_follow_the_key_schema_contract_on_demand(data: Plan, kind: str) -> None:
    spec = json.loads(SCHEMA_PATH.read_text())[kind]  # the same file the API's tests build tables from
    table = data.one(TABLE, kind)
    assert table.get("name") == f"catalog-{kind}-{SUFFIX}"
    assert table.get("billingMode") == "PAY_PER_REQUEST"
    assert not {"readCapacity", "writeCapacity"} & set(_walk_keys(table.inputs))
    assert table.get("hashKey") == spec["hashKey"]["name"] and table.get("rangeKey") is None
    keys = [spec["hashKey"], *[k for i in spec["indexes"] for k in (i["hashKey"], i.get("rangeKey")) if k]]
    assert {(a["name"], a["type"]) for a in table.get("attributes")} == {(k["name"], k["type"]) for k in keys}
    assert len(table.get("attributes")) == len({k["name"] for k in keys})
    indexes = {i["name"]: i for i in table.get("globalSecondaryIndexes")}
    assert set(indexes) == {i["name"] for i in spec["indexes"]}
    for index in spec["indexes"]:
        built = indexes[index["name"]]
        assert built["projectionType"] == index["projection"]
        expected = [{"attributeName": index["hashKey"]["name"], "keyType": "HASH"}]
        if index.get("rangeKey"):
            expected.append({"attributeName": index["rangeKey"]["name"], "keyType": "RANGE"})
        assert built["keySchemas"] == expected
    assert table.get("ttl") == {"attributeName": spec["ttlAttribute"], "enabled": True}
    assert table.get("pointInTimeRecovery", "enabled") is True
    assert table.get("serverSideEncryption", "enabled") is True
    assert table.get("deletionProtectionEnabled") is False


# --- S3 -------------------------------------------------------------------------------------------------------

def _by_bucket(data: Plan, type_token: str) -> dict[str, Resource]:
    found = {r.get("bucket"): r for r in data.of_type(type_token)}
    assert len(found) == len(data.of_type(type_token)), f"two {type_token} on one bucket"
    return found


def test_buckets_are_versioned_encrypted_expiring_private_and_destroyable(data: Plan) -> None:
    buckets = {r.name: r.get("bucket") for r in data.of_type(BUCKET)}
    assert buckets == {"logs": f"catalog-logs-{SUFFIX}-123456789012",
                       "artifacts": f"catalog-artifacts-{SUFFIX}-123456789012"}
    assert all(r.get("forceDestroy") is True for r in data.of_type(BUCKET))
    versioning = _by_bucket(data, "aws:s3/bucketVersioning:BucketVersioning")
    sse = _by_bucket(data, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    lifecycle = _by_bucket(data, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    blocks = _by_bucket(data, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    for name in buckets.values():
        assert versioning[name].get("versioningConfiguration", "status") == "Enabled"
        (rule,) = sse[name].get("rules")
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"  # ALB logs refuse SSE-KMS
        (life,) = lifecycle[name].get("rules")
        assert life["status"] == "Enabled" and life["filter"] == {"prefix": ""}
        assert life["expiration"] == {"days": 30}
        assert life["noncurrentVersionExpiration"] == {"noncurrentDays": 1}  # ~31 days of data, not 60
        assert life["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
            assert blocks[name].get(flag) is True


def test_each_bucket_has_one_tls_only_policy_and_the_logs_bucket_takes_alb_logs(data: Plan) -> None:
    policies = {name: json.loads(r.get("policy")) for name, r in _by_bucket(
        data, "aws:s3/bucketPolicy:BucketPolicy").items()}
    logs, artifacts = (data.one(BUCKET, n).get("bucket") for n in ("logs", "artifacts"))
    assert set(policies) == {logs, artifacts}
    for name, policy in policies.items():
        deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
        assert deny == [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                         "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    (allow,) = [s for s in policies[logs]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}  # ELB account of us-east-1
    assert allow["Action"] == "s3:PutObject"
    assert allow["Resource"] == f"arn:aws:s3:::{logs}/alb/AWSLogs/123456789012/*"
    assert not [s for s in policies[artifacts]["Statement"] if s["Effect"] == "Allow"]


def test_logs_bucket_has_acls_for_cloudfront_standard_logging(data: Plan) -> None:
    logs, artifacts = (data.one(BUCKET, n).get("bucket") for n in ("logs", "artifacts"))
    ownership = _by_bucket(data, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership[logs].get("rule", "objectOwnership") == "BucketOwnerPreferred"
    assert ownership[artifacts].get("rule", "objectOwnership") == "BucketOwnerEnforced"
    acl = data.one("aws:s3/bucketAcl:BucketAcl")
    assert acl.get("bucket") == logs
    grants = {(g["grantee"]["type"], g["grantee"]["id"], g["permission"])
              for g in acl.get("accessControlPolicy", "grants")}
    cloudfront = "c4c1ede66af53448b93c283ce9448c4ba468c9432aa01d700d3878632f77d2d0"  # awslogsdelivery
    owner = acl.get("accessControlPolicy", "owner", "id")
    assert grants == {("CanonicalUser", owner, "FULL_CONTROL"), ("CanonicalUser", cloudfront, "FULL_CONTROL")}
    assert not [g for g in acl.get("accessControlPolicy", "grants") if g["grantee"]["type"] == "Group"]
