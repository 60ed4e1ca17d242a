"""Data layer settings (config namespace `catalog-data`) and the arithmetic the proxy pool depends on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shared.runtime import mission
from shared.runtime.aws_rules import LOG_RETENTION_DAYS
from shared.runtime.errors import ConfigError
from shared.runtime.sale_windows import parse_data_windows
from shared.runtime.settings import require, setting

NAMESPACE = "catalog-data"

# Aurora PostgreSQL versions that exist and that Aurora Serverless v2 supports in us-east-1 ("Version 16.1 and
# higher", "Version 17.4 and higher"): https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/
# Concepts.Aurora_Fea_Regions_DB-eng.Feature.ServerlessV2.html. Minor versions were checked against the Aurora
# PostgreSQL release notes / extension-version tables. Old minors are retired by AWS: check
# `aws rds describe-orderable-db-instance-options --engine aurora-postgresql --db-instance-class db.serverless`.
ENGINE_VERSIONS = ("16.6", "16.8", "16.9", "16.10", "17.4", "17.5", "17.6")
DEFAULT_ENGINE_VERSION = "16.8"

# Aurora Serverless v2 derives max_connections from the memory at the MAX ACU; with min ACU 0/0.5 it is capped at
# 2,000 (docs/aws-rules.md; aurora-serverless-v2.setting-capacity.html#aurora-serverless-v2.max-connections).
# Documented defaults: (max ACU, max_connections). A pinned value above what the memory supports starves it.
MAX_CONNECTIONS_BY_MAX_ACU = ((1.0, 189), (4.0, 823), (8.0, 1669), (16.0, 3360), (32.0, 5000))
LOW_MIN_ACU_CAP = 2000
MIN_ACU_FLOOR = 0.5  # 0 would auto-pause, which RDS Proxy does not support
MAX_ACU_CEILING = 256.0
AURORA_MAX_REPLICAS = 15
# CreateDBCluster: MasterUsername 1-16 letters or numbers, first a letter, not reserved.
RESERVED_USERS = ("rdsadmin", "rdsrepladmin", "rdstopmgr")
PASSWORD_FORBIDDEN = ('/', '"', "@")
PASSWORD_LENGTH = (8, 41)
MISSING_PASSWORD = ConfigError(
    f"{NAMESPACE}:dbPassword is not set",
    "run `invoke secrets --suffix <s>` or `pulumi config set --secret dbPassword ...` or export CATALOG_DB_PASSWORD",
)


def supported_max_connections(min_acu: float, max_acu: float) -> int:
    """The documented max_connections for this capacity range: the highest pinned value the memory supports."""
    ceiling = 0
    for acu, connections in MAX_CONNECTIONS_BY_MAX_ACU:
        if max_acu >= acu:
            ceiling = connections
    if min_acu <= 0.5:
        ceiling = min(ceiling, LOW_MIN_ACU_CAP)
    return ceiling


def pool_percent(pool: int, max_connections: int) -> int | None:
    """`max_connections_percent` giving exactly `pool` connections, or None when no whole percentage does."""
    if max_connections <= 0 or (pool * 100) % max_connections:
        return None
    percent = pool * 100 // max_connections
    return percent if 1 <= percent <= 100 else None


def working_max_connections(pool: int, ceiling: int, near: int) -> int | None:
    """The value of max_connections nearest to `near` (up to `ceiling`) for which the pool is a whole percent."""
    options = [m for m in range(pool, ceiling + 1) if pool_percent(pool, m) is not None]
    return min(options, key=lambda m: (abs(m - near), -m)) if options else None


def idle_percent(percent: int) -> int:
    """Idle connections kept open: half the pool (at least 1%), never above the pool (the API requires it)."""
    return max(1, percent // 2)


def check_password(password: str) -> None:
    """Refuse a master password CreateDBCluster would refuse, without printing it."""
    low, high = PASSWORD_LENGTH
    key = f"{NAMESPACE}:dbPassword"
    if not low <= len(password) <= high:
        raise ConfigError(f"{key} has {len(password)} characters; Aurora accepts {low}-{high}",
                          "set a longer/shorter password with `pulumi config set --secret dbPassword ...`")
    if any(not (32 <= ord(c) <= 126) for c in password) or any(c in password for c in PASSWORD_FORBIDDEN):
        raise ConfigError(f"{key} has a character Aurora refuses",
                          "use printable ASCII without / \" @ (CreateDBCluster MasterUserPassword)")


def _half_steps(value: float) -> bool:
    return (value * 2).is_integer()


@dataclass(frozen=True)
class Settings:
    engine_version: str = setting(
        "engineVersion", DEFAULT_ENGINE_VERSION,
        f"Aurora PostgreSQL version (Serverless v2 supported): {', '.join(ENGINE_VERSIONS)}")
    min_acu: float = setting("minAcu", 0.5, "Serverless v2 minimum capacity (ACU), >= 0.5 (RDS Proxy: no pause)")
    max_acu: float = setting("maxAcu", 16.0, "Serverless v2 maximum capacity (ACU), up to 256")
    database_name: str = setting("databaseName", "catalog", "database created in the cluster")
    master_username: str = setting(
        "masterUsername", "catalogadmin",
        "master user (1-16 letters/digits): only the migrate task's role bootstrap logs in as it")
    manage_master_password: bool = setting(
        "manageMasterPassword", True,
        "RDS generates the master password in Secrets Manager and rotates it every 7 days; false: dbPassword")
    db_password: Any = setting(
        "dbPassword", None,
        "master password (secret; else env CATALOG_DB_PASSWORD) when manageMasterPassword=false: never rotated, "
        "kept encrypted in Pulumi config/state; for test environments",
        secret=True)
    app_username: str = setting(
        "appUsername", "catalog_app", "database role the API connects as through the proxy (IAM auth)")
    owner_username: str = setting(
        "ownerUsername", "catalog_owner", "database role that owns the schema; the migrations run as it")
    rotation_days: int = setting(
        "rotationDays", 30, "rotation period of the app and owner role passwords (Secrets Manager, 1-365 days)")
    max_connections: int = setting(
        "maxConnections", 1000, "max_connections pinned in the cluster parameter group (per instance)")
    proxy_max_connections: int = setting(
        "proxyMaxConnections", mission.PROXY_MAX_CONNECTIONS,
        "connections RDS Proxy may open to the database (the pool)")
    proxy_idle_client_timeout: int = setting(
        "proxyIdleClientTimeout", 1800, "seconds an idle client connection stays open at the proxy (1-28800)")
    # Overload must end in a fast refusal (the API answers 503 + Retry-After), not a 30 s queue at the proxy.
    proxy_borrow_timeout: int = setting(
        "proxyBorrowTimeout", 1, "seconds a client waits for a pooled connection before an error (1-3600)")
    reader_max_count: int = setting("readerMaxCount", 5, "most readers reader auto scaling may run (2-15)")
    reader_cpu_target: float = setting(
        "readerCpuTarget", mission.SCALE_OUT_CPU_PERCENT, "average reader CPU (%) auto scaling tracks")
    reader_scale_out_cooldown: int = setting("readerScaleOutCooldown", 300, "seconds between scale-outs")
    reader_scale_in_cooldown: int = setting("readerScaleInCooldown", 600, "seconds between scale-ins")
    backup_retention_days: int = setting("backupRetentionDays", 7, "automated backup retention (1-35 days)")
    slow_query_ms: int = setting(
        "slowQueryMs", 1000, "log_min_duration_statement: log statements slower than this (ms; -1 off)")
    log_retention_days: int = setting(
        "logRetentionDays", mission.RETENTION_DAYS, "retention of the exported postgresql log (days)")
    sale_windows: str = setting(
        "saleWindows", "[]", "declared flash sales (JSON list written by `invoke sale plan`): readers and ACU "
        "scheduled for each window, DynamoDB warm throughput")

    @property
    def pool_percent(self) -> int:
        percent = pool_percent(self.proxy_max_connections, self.max_connections)
        assert percent is not None, "validate() guarantees a whole percentage"
        return percent

    @property
    def idle_percent(self) -> int:
        return idle_percent(self.pool_percent)

    @property
    def parameter_family(self) -> str:
        return f"aurora-postgresql{self.engine_version.split('.')[0]}"

    def validate(self) -> None:
        ns = NAMESPACE
        parse_data_windows(self.sale_windows, ns)
        require(self.engine_version in ENGINE_VERSIONS, ns, "engineVersion",
                f"{self.engine_version!r} is not an Aurora PostgreSQL version this platform supports with "
                "Serverless v2", ", ".join(ENGINE_VERSIONS))
        require(self.min_acu >= MIN_ACU_FLOOR and _half_steps(self.min_acu), ns, "minAcu",
                f"{self.min_acu} is below 0.5 or not a multiple of 0.5 (0 pauses the cluster, which RDS Proxy "
                "cannot serve)", "0.5, 1, 1.5, ... up to maxAcu")
        require(self.max_acu <= MAX_ACU_CEILING and _half_steps(self.max_acu) and self.max_acu >= 1, ns, "maxAcu",
                f"{self.max_acu} is outside 1-256 or not a multiple of 0.5", "1, 1.5, ... 256")
        require(self.min_acu <= self.max_acu, ns, "minAcu", f"min ACU {self.min_acu} is above max ACU {self.max_acu}",
                f"at most maxAcu ({self.max_acu})")
        self._validate_pool()
        require(2 <= self.reader_max_count <= AURORA_MAX_REPLICAS, ns, "readerMaxCount",
                f"{self.reader_max_count} is outside 2-{AURORA_MAX_REPLICAS} (the two readers are the minimum; "
                f"Aurora holds at most {AURORA_MAX_REPLICAS} replicas)", f"2-{AURORA_MAX_REPLICAS}")
        require(10 <= self.reader_cpu_target <= 90, ns, "readerCpuTarget",
                f"{self.reader_cpu_target} is outside 10-90", f"10-90 (the mission: {mission.SCALE_OUT_CPU_PERCENT:g})")
        for key, value in (("readerScaleOutCooldown", self.reader_scale_out_cooldown),
                           ("readerScaleInCooldown", self.reader_scale_in_cooldown)):
            require(0 <= value <= 86400, ns, key, f"{value} is outside 0-86400 seconds", "0-86400")
        require(1 <= self.backup_retention_days <= 35, ns, "backupRetentionDays",
                f"{self.backup_retention_days} is outside 1-35", "1-35 days")
        require(self.slow_query_ms >= -1, ns, "slowQueryMs", f"{self.slow_query_ms} is below -1",
                "-1 (off), 0 (every statement) or more milliseconds")
        require(self.log_retention_days in LOG_RETENTION_DAYS, ns, "logRetentionDays",
                f"{self.log_retention_days} is not a CloudWatch Logs retention period",
                ", ".join(map(str, LOG_RETENTION_DAYS)))
        require(1 <= self.proxy_idle_client_timeout <= 28800, ns, "proxyIdleClientTimeout",
                f"{self.proxy_idle_client_timeout} is outside 1-28800 seconds", "1-28800")
        require(1 <= self.proxy_borrow_timeout <= 3600, ns, "proxyBorrowTimeout",
                f"{self.proxy_borrow_timeout} is outside 1-3600 seconds", "1-3600")
        for key, role in (("appUsername", self.app_username), ("ownerUsername", self.owner_username)):
            # containers/catalog-api/src/db-roles.mjs ROLE_NAME; distinct from each other and from the master.
            require(re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role) is not None, ns, key,
                    f"{role!r} is not a lower-case PostgreSQL role name", "[a-z_][a-z0-9_]*, e.g. catalog_app")
        require(len({self.master_username.lower(), self.app_username, self.owner_username}) == 3, ns,
                "appUsername", "master, owner and app must be three different roles", "three distinct names")
        require(1 <= self.rotation_days <= 365, ns, "rotationDays", f"{self.rotation_days} is out of range",
                "1-365")
        require(re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,15}", self.master_username) is not None
                and self.master_username.lower() not in RESERVED_USERS, ns, "masterUsername",
                f"{self.master_username!r} is not a valid Aurora master user name",
                "1-16 letters or digits starting with a letter, not rdsadmin")
        require(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,62}", self.database_name) is not None, ns, "databaseName",
                f"{self.database_name!r} is not a valid database name",
                "1-63 letters, digits or underscores starting with a letter")

    def _validate_pool(self) -> None:
        ns, pool, pinned = NAMESPACE, self.proxy_max_connections, self.max_connections
        ceiling = supported_max_connections(self.min_acu, self.max_acu)
        require(pool >= 1, ns, "proxyMaxConnections", f"{pool} is below 1",
                f"1 or more (the mission: {mission.PROXY_MAX_CONNECTIONS})")
        require(pool <= ceiling, ns, "proxyMaxConnections",
                f"a pool of {pool} needs max_connections >= {pool}, but {self.min_acu}-{self.max_acu} ACU supports "
                f"at most {ceiling}", "raise maxAcu (or minAcu above 0.5) or lower proxyMaxConnections")
        fix = working_max_connections(pool, ceiling, pinned)
        require(pool <= pinned <= ceiling, ns, "maxConnections",
                f"{pinned} must be at least the pool ({pool}) and at most {ceiling}, what {self.min_acu}-"
                f"{self.max_acu} ACU supports", f"e.g. {fix}")
        require(pool_percent(pool, pinned) is not None, ns, "maxConnections",
                f"the proxy pool is max_connections_percent of max_connections, a whole number: {pool} x 100 / "
                f"{pinned} = {pool * 100 / pinned:g}%, so the pool cannot be exactly {pool}",
                f"a value that divides {pool * 100} evenly, e.g. {fix} ({pool} x 100 / {fix} = "
                f"{pool_percent(pool, fix) if fix else '-'}%)")
