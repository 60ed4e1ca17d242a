"""The bucket baseline every catalog bucket shares: versioning, SSE-S3, the full public access block, object
ownership, a 30-day lifecycle, `force_destroy`, and a TLS-only policy statement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from shared.runtime import mission

RETENTION_DAYS = mission.RETENTION_DAYS
# With versioning, an expired current object becomes a noncurrent version (behind a delete marker) that is kept
# until its own noncurrent expiry: 1 day here, so "30 days" means about 31 days of data, not 60.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
NONCURRENT_AFTER_EXPIRY_DAYS = 1
ABORT_UPLOAD_DAYS = 7


def tls_only(bucket_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Deny every request that does not use TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


@dataclass(frozen=True)
class BaselineBucket:
    bucket: aws.s3.Bucket
    versioning: aws.s3.BucketVersioning
    public_access_block: aws.s3.BucketPublicAccessBlock
    ownership: aws.s3.BucketOwnershipControls


def baseline_bucket(logical: str, bucket_name: str, *, parent: pulumi.Resource, object_ownership: str,
                    expire_current: bool) -> BaselineBucket:
    """Declare a bucket and its baseline under `parent`; every child takes the logical name `logical`.

    `expire_current=False` keeps current objects forever (a website's live files) and expires noncurrent
    versions after 30 days (rollback); otherwise current objects expire after 30 days and their noncurrent
    versions 1 day later (overwritten or deleted objects too), so no data outlives ~31 days.
    """
    child = pulumi.ResourceOptions(parent=parent)
    bucket = aws.s3.Bucket(logical, bucket=bucket_name, force_destroy=True, opts=child)  # empties on destroy
    block = aws.s3.BucketPublicAccessBlock(
        logical, bucket=bucket.id, block_public_acls=True, block_public_policy=True, ignore_public_acls=True,
        restrict_public_buckets=True, opts=child)
    versioning = aws.s3.BucketVersioning(
        logical, bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=child)
    # SSE-S3 (AES256): ALB access logs refuse SSE-KMS buckets, and CloudFront reads SSE-S3 objects through OAI.
    aws.s3.BucketServerSideEncryptionConfiguration(
        logical, bucket=bucket.id,
        rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3
            .BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"))],
        opts=child)
    noncurrent_days = RETENTION_DAYS
    if expire_current:
        rule_id = f"expire-after-{RETENTION_DAYS}-days"
        # A Days expiration also removes the expired-object delete markers it leaves (S3 "Managing delete
        # markers"); ExpiredObjectDeleteMarker may not be set alongside Days in the same rule.
        expiration = aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=RETENTION_DAYS)
        noncurrent_days = NONCURRENT_AFTER_EXPIRY_DAYS
    else:
        rule_id = f"noncurrent-versions-{RETENTION_DAYS}-days"
        # Drops delete markers once no older version is left behind them (current objects untouched).
        expiration = aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True)
    aws.s3.BucketLifecycleConfiguration(
        logical, bucket=bucket.id,
        rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
            id=rule_id,
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),  # every object
            expiration=expiration,
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=noncurrent_days),
            abort_incomplete_multipart_upload=aws.s3
            .BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=ABORT_UPLOAD_DAYS),
        )],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[versioning]))
    ownership = aws.s3.BucketOwnershipControls(
        logical, bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership=object_ownership), opts=child)
    return BaselineBucket(bucket=bucket, versioning=versioning, public_access_block=block, ownership=ownership)


def bucket_policy(logical: str, baseline: BaselineBucket, statements: list[dict[str, Any]], *,
                  parent: pulumi.Resource) -> aws.s3.BucketPolicy:
    """The bucket's one policy: `statements` plus TLS only."""
    return aws.s3.BucketPolicy(
        logical, bucket=baseline.bucket.id,
        policy=pulumi.Output.json_dumps({"Version": "2012-10-17",
                                         "Statement": [*statements, tls_only(baseline.bucket.arn)]}),
        # After the public access block: the two S3 calls conflict when they run at once.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[baseline.public_access_block]))
