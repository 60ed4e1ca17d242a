"""Aurora PostgreSQL Serverless v2 and RDS Proxy."""

from __future__ import annotations

from collections.abc import Iterable

from shared.policy.model import UNKNOWN, Context, Finding, Res, as_list, is_num, refers
from shared.runtime import mission

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
PROXY = "aws:rds/proxy:Proxy"
PROXY_TG = "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup"
PROXY_TARGET = "aws:rds/proxyTarget:ProxyTarget"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
POOL_CONNECTIONS = mission.PROXY_MAX_CONNECTIONS
INSTANCES = 3  # one writer, two readers


def _of_type(resources: list[Res], token: str) -> list[Res]:
    return [r for r in resources if r.type == token]


def check_aurora(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """Aurora PostgreSQL Serverless v2, encrypted, one writer and two readers (db.serverless), in a subnet group."""
    for cluster in _of_type(resources, CLUSTER):
        if cluster.inputs.get("engine") != "aurora-postgresql":
            yield cluster, f"engine is {cluster.inputs.get('engine')}: the mission asks for aurora-postgresql"
        if cluster.inputs.get("engineMode") not in (None, "provisioned"):
            yield cluster, f"engineMode is {cluster.inputs.get('engineMode')}: Serverless v2 uses provisioned"
        scaling = cluster.inputs.get("serverlessv2ScalingConfiguration")
        if not isinstance(scaling, dict):
            if scaling is not UNKNOWN:
                yield cluster, "no serverlessv2ScalingConfiguration: not Aurora Serverless v2"
        else:
            low, high = scaling.get("minCapacity"), scaling.get("maxCapacity")
            if is_num(low) and low < 0.5:
                yield cluster, f"minCapacity {low}: a cluster behind RDS Proxy keeps min ACU >= 0.5 (no auto-pause)"
            if is_num(low) and is_num(high) and high < low:
                yield cluster, f"maxCapacity {high} is below minCapacity {low}"
        if cluster.inputs.get("storageEncrypted") is not True:
            yield cluster, "storageEncrypted is not true"
        if not cluster.inputs.get("dbSubnetGroupName"):
            yield cluster, "no dbSubnetGroupName: the cluster would land in the default VPC"
        if not as_list(cluster.inputs.get("vpcSecurityGroupIds")):
            yield cluster, "no vpcSecurityGroupIds: the cluster would get the VPC's default group"
        members = [i for i in _of_type(resources, INSTANCE) if refers(i, "clusterIdentifier", cluster)]
        if len(members) != INSTANCES:
            yield cluster, (f"{len(members)} instance(s) in the program; the mission asks for one writer and "
                            f"two readers ({INSTANCES})")
        for inst in members:
            if inst.inputs.get("instanceClass") not in ("db.serverless", UNKNOWN):
                yield inst, f"instanceClass is {inst.inputs.get('instanceClass')}: Serverless v2 uses db.serverless"
            if inst.inputs.get("publiclyAccessible") is True:
                yield inst, "publiclyAccessible is true: the database stays private"
            if inst.inputs.get("engine") not in (None, UNKNOWN, cluster.inputs.get("engine")):
                yield inst, "instance engine differs from the cluster's"


def _parameter(group: Res, name: str) -> dict | None:
    for p in as_list(group.inputs.get("parameters")):
        if isinstance(p, dict) and p.get("name") == name:
            return p
    return None


def check_proxy_pool(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """The proxy pool is 100 connections: maxConnectionsPercent x the pinned max_connections / 100."""
    for tg in _of_type(resources, PROXY_TG):
        pool = tg.inputs.get("connectionPoolConfig")
        pct = pool.get("maxConnectionsPercent", 100) if isinstance(pool, dict) else 100
        idle = pool.get("maxIdleConnectionsPercent") if isinstance(pool, dict) else None
        if pct is UNKNOWN:
            continue
        if is_num(idle) and idle > pct:
            yield tg, f"maxIdleConnectionsPercent {idle} exceeds maxConnectionsPercent {pct}"
        proxies = [p for p in _of_type(resources, PROXY) if refers(tg, "dbProxyName", p)]
        targets = [t for t in _of_type(resources, PROXY_TARGET) if any(refers(t, "dbProxyName", p) for p in proxies)]
        clusters = [c for c in _of_type(resources, CLUSTER) if any(refers(t, "dbClusterIdentifier", c)
                                                                  for t in targets)]
        if len(clusters) != 1:
            yield tg, f"cannot find the one cluster behind the proxy (found {len(clusters)}): register a ProxyTarget"
            continue
        groups = [g for g in _of_type(resources, PARAMS) if refers(clusters[0], "dbClusterParameterGroupName", g)]
        param = _parameter(groups[0], "max_connections") if len(groups) == 1 else None
        if param is None:
            yield tg, ("max_connections is not pinned in the cluster parameter group: the percentage has no "
                       "fixed meaning (it follows max ACU)")
            continue
        if param.get("applyMethod") not in ("pending-reboot", UNKNOWN):
            yield groups[0], "max_connections is static: applyMethod must be pending-reboot"
        try:
            max_connections = int(str(param.get("value")))
        except ValueError:
            yield groups[0], f"max_connections {param.get('value')!r} is not a number"
            continue
        connections = pct * max_connections / 100
        if connections != POOL_CONNECTIONS:
            yield tg, (f"pool is {pct}% of max_connections {max_connections} = {connections:g} connections; "
                       f"the mission limits it to {POOL_CONNECTIONS}")


def check_proxy_auth(res: Res, ctx: Context) -> Iterable[str]:
    """RDS Proxy: IAM auth REQUIRED (credentials from Secrets Manager), TLS required, PostgreSQL, in subnets."""
    auths = [a for a in as_list(res.inputs.get("auths")) if isinstance(a, dict)]
    if not auths and res.inputs.get("auths") is not UNKNOWN:
        yield "no auths block: the proxy needs a Secrets Manager secret and IAM auth"
    for auth in auths:
        if auth.get("iamAuth") not in ("REQUIRED", UNKNOWN):
            yield f"iamAuth is {auth.get('iamAuth') or 'unset (DISABLED)'}: clients must sign IAM tokens"
        if not auth.get("secretArn"):
            yield "auth has no secretArn: the proxy reads the database credentials from Secrets Manager"
        if auth.get("authScheme") not in (None, "SECRETS", UNKNOWN):
            yield f"authScheme is {auth.get('authScheme')}: use SECRETS"
    if res.inputs.get("requireTls") not in (True, UNKNOWN):
        yield "requireTls is not true: IAM auth tokens travel over TLS only"
    if res.inputs.get("engineFamily") not in ("POSTGRESQL", UNKNOWN):
        yield f"engineFamily is {res.inputs.get('engineFamily')}: use POSTGRESQL"
    if not res.inputs.get("roleArn"):
        yield "no roleArn: the proxy needs a role that can read the secret"
    for key in ("vpcSubnetIds", "vpcSecurityGroupIds"):
        if res.inputs.get(key) is not UNKNOWN and not as_list(res.inputs.get(key)):
            yield f"{key} is empty"


def check_performance_insights(res: Res, ctx: Context) -> Iterable[str]:
    """Advisory: Performance Insights on every instance (query-level latency during peaks)."""
    if res.inputs.get("performanceInsightsEnabled") is not True:
        yield "performanceInsightsEnabled is not true"
