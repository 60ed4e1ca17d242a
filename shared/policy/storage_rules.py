"""S3 buckets, DynamoDB tables, and what keeps teardown clean (no deletion protection, no retain)."""

from __future__ import annotations

from collections.abc import Iterable

from shared.policy.compute_rules import is_edge
from shared.policy.model import UNKNOWN, Context, Finding, Res, as_list, parse_json, refers
from shared.runtime import mission

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
RETENTION_DAYS = mission.RETENTION_DAYS
NONCURRENT_GRACE_DAYS = 1  # an expired object's noncurrent version may outlive it by a day
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def check_dynamodb(res: Res, ctx: Context) -> Iterable[str]:
    """DynamoDB is on-demand: PAY_PER_REQUEST, no capacities on the table or its global secondary indexes."""
    mode = res.inputs.get("billingMode")
    if mode is not UNKNOWN and mode != "PAY_PER_REQUEST":
        yield f"billingMode is {mode or 'unset (PROVISIONED)'}: the mission requires PAY_PER_REQUEST"
    for key in ("readCapacity", "writeCapacity"):
        if res.inputs.get(key) not in (None, 0, UNKNOWN):
            yield f"{key} is set: an on-demand table has no provisioned capacity"
    for index in as_list(res.inputs.get("globalSecondaryIndexes")):
        if isinstance(index, dict):
            for key in ("readCapacity", "writeCapacity"):
                if index.get(key) not in (None, 0, UNKNOWN):
                    yield f"index {index.get('name')}: {key} is set on an on-demand table"


def check_dynamodb_recovery(res: Res, ctx: Context) -> Iterable[str]:
    """Advisory: point-in-time recovery, a TTL attribute (sessions, cache entries and queue tickets expire) and
    encryption under a KMS key (the AWS managed aws/dynamodb key: its use shows in CloudTrail)."""
    if res.get("pointInTimeRecovery", "enabled") is not True:
        yield "pointInTimeRecovery is not enabled"
    if res.get("serverSideEncryption", "enabled") is not True:
        yield "serverSideEncryption is not enabled: the table is encrypted with an AWS owned key, not a KMS key"
    if res.get("ttl", "enabled") is not True or not res.get("ttl", "attributeName"):
        yield "no TTL attribute: expired sessions and cache entries would stay forever"


def _configs(resources: list[Res], token: str, bucket: Res) -> list[Res]:
    return [r for r in resources if r.type == token and refers(r, "bucket", bucket)]


def _whole_bucket(rule: dict) -> bool:
    """A lifecycle rule without a narrowing filter applies to every object."""
    flt = rule.get("filter")
    if flt in (None, {}, []):
        return not rule.get("prefix")
    if isinstance(flt, list):
        flt = flt[0] if len(flt) == 1 else {}
    return isinstance(flt, dict) and not flt.get("prefix") and not any(
        flt.get(k) for k in ("tag", "and", "objectSizeGreaterThan", "objectSizeLessThan"))


def _lifecycle_problems(config: Res) -> list[str]:
    rules = [r for r in as_list(config.inputs.get("rules")) if isinstance(r, dict) and r.get("status") == "Enabled"]
    problems = []
    expiring = False
    for rule in rules:
        days = (rule.get("expiration") or {}).get("days") if isinstance(rule.get("expiration"), dict) else None
        noncurrent = rule.get("noncurrentVersionExpiration")
        ndays = noncurrent.get("noncurrentDays") if isinstance(noncurrent, dict) else None
        if days is not None and days != RETENTION_DAYS:
            problems.append(f"rule {rule.get('id')}: expiration.days is {days}; retention is {RETENTION_DAYS} days")
        if ndays is not None and ndays > RETENTION_DAYS:
            problems.append(f"rule {rule.get('id')}: noncurrentVersionExpiration.noncurrentDays is {ndays}; "
                            f"retention is {RETENTION_DAYS} days")
        elif days is not None and ndays is not None and days + ndays > RETENTION_DAYS + NONCURRENT_GRACE_DAYS:
            # An expired current object stays as a noncurrent version for ndays more.
            problems.append(f"rule {rule.get('id')}: keeps data {days + ndays} days (expiration.days {days} + "
                            f"noncurrentDays {ndays}); retention is {RETENTION_DAYS} days")
        if _whole_bucket(rule) and RETENTION_DAYS in (days, ndays):
            expiring = True
    if not expiring:
        problems.append(f"no enabled whole-bucket rule expires objects after {RETENTION_DAYS} days")
    return problems


def check_bucket_baseline(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """Every bucket has versioning, SSE, a 30-day lifecycle and a full public access block (v7: own resources)."""
    for bucket in (r for r in resources if r.type == BUCKET):
        versioning = _configs(resources, VERSIONING, bucket)
        if not any(v.get("versioningConfiguration", "status") in ("Enabled", UNKNOWN) for v in versioning):
            yield bucket, "no BucketVersioning with status Enabled"
        sse = _configs(resources, SSE, bucket)
        algorithms = [rule.get("applyServerSideEncryptionByDefault", {}).get("sseAlgorithm")
                      for c in sse for rule in as_list(c.inputs.get("rules")) if isinstance(rule, dict)
                      and isinstance(rule.get("applyServerSideEncryptionByDefault"), dict)]
        if not any(a in (*SSE_ALGORITHMS, UNKNOWN) for a in algorithms):
            yield bucket, "no BucketServerSideEncryptionConfiguration with AES256 or aws:kms"
        lifecycle = _configs(resources, LIFECYCLE, bucket)
        if not lifecycle:
            yield bucket, f"no BucketLifecycleConfiguration ({RETENTION_DAYS}-day retention)"
        for config in lifecycle:
            if config.inputs.get("rules") is not UNKNOWN:
                for problem in _lifecycle_problems(config):
                    yield bucket, problem
        blocks = _configs(resources, PUBLIC_ACCESS_BLOCK, bucket)
        if not blocks:
            yield bucket, "no BucketPublicAccessBlock"
        for block in blocks:
            off = [f for f in PAB_FLAGS if block.inputs.get(f) not in (True, UNKNOWN)]
            if off:
                yield bucket, f"public access block leaves {', '.join(off)} off"


def check_current_version_expiry(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """Advisory: the mission asks both current and noncurrent versions to expire after 30 days."""
    for bucket in (r for r in resources if r.type == BUCKET):
        for config in _configs(resources, LIFECYCLE, bucket):
            rules = [r for r in as_list(config.inputs.get("rules")) if isinstance(r, dict)]
            kinds = {f"{block}.{days}" for r in rules if r.get("status") == "Enabled" and _whole_bucket(r)
                     for block, days in (("expiration", "days"), ("noncurrentVersionExpiration", "noncurrentDays"))
                     if isinstance(r.get(block), dict) and r[block].get(days)}
            missing = {"expiration.days", "noncurrentVersionExpiration.noncurrentDays"} - kinds
            if missing and config.inputs.get("rules") is not UNKNOWN:
                yield bucket, f"lifecycle has no whole-bucket {' or '.join(sorted(missing))}"


def check_bucket_tls_only(resources: list[Res], ctx: Context) -> Iterable[Finding]:
    """Advisory: each bucket policy denies requests without TLS (aws:SecureTransport false)."""
    for bucket in (r for r in resources if r.type == BUCKET):
        docs = [parse_json(p.inputs.get("policy")) for p in _configs(resources, BUCKET_POLICY, bucket)]
        if any(d is UNKNOWN for d in docs):
            continue
        denies = any(isinstance(st, dict) and st.get("Effect") == "Deny" and "aws:SecureTransport" in str(
            st.get("Condition")) for d in docs if isinstance(d, dict) for st in as_list(d.get("Statement")))
        if not denies:
            yield bucket, "no bucket policy statement denies aws:SecureTransport=false"


# input -> resource types where True means "cannot be deleted"
PROTECTION = {
    "deletionProtection": ("aws:rds/cluster:Cluster", "aws:rds/instance:Instance",
                           "aws:rds/globalCluster:GlobalCluster"),
    "enableDeletionProtection": ("aws:lb/loadBalancer:LoadBalancer",),
    "deletionProtectionEnabled": ("aws:dynamodb/table:Table", "aws:cloudwatch/logGroup:LogGroup"),
    "disableApiTermination": ("aws:ec2/instance:Instance",),
}


def check_no_deletion_protection(res: Res, ctx: Context) -> Iterable[str]:
    """Nothing is protected from deletion: teardown must work without manual steps."""
    for key, types in PROTECTION.items():
        if res.type in types and res.inputs.get(key) is True:
            yield f"{key} is true: every resource must be destroyable (set it false)"
    if res.protect:
        yield "resource option protect=True: every resource must be destroyable"


def check_no_retain(res: Res, ctx: Context) -> Iterable[str]:
    """No retain-on-delete (option) or skipDestroy (input); Lambda@Edge functions are the documented exception."""
    if is_edge(res, ctx):
        return  # replicas block deletion for hours: retain + a later idempotent cleanup is the documented way
    if res.inputs.get("skipDestroy") is True:
        yield "skipDestroy is true: destroy would leave the resource behind"
    if res.retain_on_delete:
        yield "resource option retain_on_delete=True: destroy would leave the resource behind"


def check_destroyable(res: Res, ctx: Context) -> Iterable[str]:
    """What destroy needs to finish cleanly and a same-suffix re-deploy to work."""
    if res.type == BUCKET and res.inputs.get("forceDestroy") not in (True, UNKNOWN):
        yield "forceDestroy is not true: destroy fails on a bucket with objects or versions"
    if res.type in ("aws:rds/cluster:Cluster", "aws:rds/instance:Instance") and \
            res.inputs.get("skipFinalSnapshot") not in (True, UNKNOWN):
        yield "skipFinalSnapshot is not true: destroy would need a final snapshot name and leave a snapshot"
    if res.type == "aws:ecr/repository:Repository" and res.inputs.get("forceDelete") not in (True, UNKNOWN):
        yield "forceDelete is not true: destroy fails while the repository holds images"
    if res.type == "aws:secretsmanager/secret:Secret" and res.inputs.get("recoveryWindowInDays") not in (0, UNKNOWN):
        yield ("recoveryWindowInDays is not 0: the deleted secret keeps its name for up to 30 days and a "
               "re-deploy with the same suffix fails")
