"""The `logs` bucket (ALB and CloudFront access logs) and the `artifacts` bucket (deployment packages).

Both: versioning, SSE-S3, 30-day expiry of current and noncurrent versions, public access blocked, TLS-only
policy, force_destroy. A bucket has one policy, so each bucket's statements are built together here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from shared.naming import Service

RETENTION_DAYS = 30  # the mission's 30-day retention
ABORT_UPLOAD_DAYS = 7
ALB_LOG_PREFIX = "alb"  # the app layer writes ALB access logs under this prefix
CLOUDFRONT_LOG_PREFIX = "cloudfront/"  # for the edge layer's distribution logging


@dataclass(frozen=True)
class BucketsArgs:
    name: Callable[..., str]
    account_id: str


def tls_only(bucket_arn: pulumi.Input[str]) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


class Buckets(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: BucketsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:data:Buckets", resource_name, None, opts)
        self._blocks: dict[str, aws.s3.BucketPublicAccessBlock] = {}
        self.logs = self._bucket("logs", args, acls=True)
        self.artifacts = self._bucket("artifacts", args, acls=False)

        # ALB access logs (us-east-1 predates the log-delivery service principal: the ELB account writes them).
        elb = aws.elb.get_service_account()
        logs_policy = [tls_only(self.logs.arn), {
            "Sid": "AlbAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"AWS": elb.arn},
            "Action": "s3:PutObject",
            "Resource": pulumi.Output.concat(self.logs.arn, f"/{ALB_LOG_PREFIX}/AWSLogs/{args.account_id}/*"),
        }]
        self._policy("logs", self.logs, logs_policy)
        self._policy("artifacts", self.artifacts, [tls_only(self.artifacts.arn)])
        self.register_outputs({})

    def _bucket(self, kind: str, args: BucketsArgs, *, acls: bool) -> aws.s3.Bucket:
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            kind,
            bucket=args.name(kind, Service.S3_BUCKET, account_id=args.account_id),
            force_destroy=True,  # teardown works with objects and versions inside
            opts=child,
        )
        self._blocks[kind] = aws.s3.BucketPublicAccessBlock(
            kind, bucket=bucket.id, block_public_acls=True, block_public_policy=True, ignore_public_acls=True,
            restrict_public_buckets=True, opts=child)
        versioning = aws.s3.BucketVersioning(
            kind, bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child)
        # SSE-S3 (AES256): ALB access logs refuse SSE-KMS buckets.
        aws.s3.BucketServerSideEncryptionConfiguration(
            kind, bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3
                .BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"))],
            opts=child)
        aws.s3.BucketLifecycleConfiguration(
            kind, bucket=bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id=f"expire-after-{RETENTION_DAYS}-days",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),  # every object
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=RETENTION_DAYS),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=RETENTION_DAYS),
                abort_incomplete_multipart_upload=aws.s3
                .BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=ABORT_UPLOAD_DAYS),
            )],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]))
        if acls:
            # CloudFront standard (legacy) logs need ACLs: ownership BucketOwnerPreferred, and the awslogsdelivery
            # account holding FULL_CONTROL. CloudFront adds that grant itself when logging is turned on; stating
            # it here keeps Pulumi from removing it on the next update.
            ownership = aws.s3.BucketOwnershipControls(
                kind, bucket=bucket.id,
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerPreferred"), opts=child)
            owner = aws.s3.get_canonical_user_id()
            cloudfront = aws.cloudfront.get_log_delivery_canonical_user_id()

            def grant(canonical_id: str) -> aws.s3.BucketAclAccessControlPolicyGrantArgs:
                return aws.s3.BucketAclAccessControlPolicyGrantArgs(
                    permission="FULL_CONTROL",
                    grantee=aws.s3.BucketAclAccessControlPolicyGrantGranteeArgs(type="CanonicalUser",
                                                                               id=canonical_id))

            aws.s3.BucketAcl(
                kind, bucket=bucket.id,
                access_control_policy=aws.s3.BucketAclAccessControlPolicyArgs(
                    owner=aws.s3.BucketAclAccessControlPolicyOwnerArgs(id=owner.id),
                    grants=[grant(owner.id), grant(cloudfront.id)]),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[ownership, self._blocks[kind]]))
        else:
            # Deployment packages: ACLs disabled, the bucket owner owns every object.
            aws.s3.BucketOwnershipControls(
                kind, bucket=bucket.id,
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=child)
        return bucket

    def _policy(self, kind: str, bucket: aws.s3.Bucket, statements: list[dict[str, Any]]) -> None:
        aws.s3.BucketPolicy(
            kind, bucket=bucket.id,
            policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
            # After the public access block: the two S3 calls conflict when they run at once.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self._blocks[kind]]))
