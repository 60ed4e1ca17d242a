"""The `logs` bucket (ALB and CloudFront access logs) and the `artifacts` bucket (deployment packages).

Both carry the shared baseline (shared/s3_baseline.py): versioning, SSE-S3, 30-day expiry of current and
noncurrent versions, public access blocked, TLS-only policy, force_destroy. A bucket has one policy, so each
bucket's statements are built together here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from shared.runtime.naming import Service
from shared.runtime.s3_baseline import BaselineBucket, baseline_bucket, bucket_policy

ALB_LOG_PREFIX = "alb"  # the app layer writes ALB access logs under this prefix
CLOUDFRONT_LOG_PREFIX = "cloudfront/"  # for the edge layer's distribution logging


@dataclass(frozen=True)
class BucketsArgs:
    name: Callable[..., str]
    account_id: str


class Buckets(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: BucketsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:data:Buckets", resource_name, None, opts)
        # Logs: ACLs enabled (BucketOwnerPreferred) because CloudFront standard (legacy) logs need them.
        logs = self._bucket("logs", args, ownership="BucketOwnerPreferred")
        # Deployment packages: ACLs disabled, the bucket owner owns every object.
        artifacts = self._bucket("artifacts", args, ownership="BucketOwnerEnforced")
        self.logs, self.artifacts = logs.bucket, artifacts.bucket
        self._cloudfront_log_acl(logs)

        # ALB access logs (us-east-1 predates the log-delivery service principal: the ELB account writes them).
        elb = aws.elb.get_service_account()
        bucket_policy("logs", logs, [{
            "Sid": "AlbAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"AWS": elb.arn},
            "Action": "s3:PutObject",
            "Resource": pulumi.Output.concat(logs.bucket.arn, f"/{ALB_LOG_PREFIX}/AWSLogs/{args.account_id}/*"),
        }], parent=self)
        bucket_policy("artifacts", artifacts, [], parent=self)
        self.register_outputs({})

    def _bucket(self, kind: str, args: BucketsArgs, *, ownership: str) -> BaselineBucket:
        return baseline_bucket(kind, args.name(kind, Service.S3_BUCKET, account_id=args.account_id), parent=self,
                               object_ownership=ownership, expire_current=True)

    def _cloudfront_log_acl(self, logs: BaselineBucket) -> None:
        """CloudFront standard logs need the awslogsdelivery account holding FULL_CONTROL. CloudFront adds that
        grant itself when logging is turned on; stating it here keeps Pulumi from removing it on the next update."""
        owner = aws.s3.get_canonical_user_id()
        cloudfront = aws.cloudfront.get_log_delivery_canonical_user_id()

        def grant(canonical_id: str) -> aws.s3.BucketAclAccessControlPolicyGrantArgs:
            return aws.s3.BucketAclAccessControlPolicyGrantArgs(
                permission="FULL_CONTROL",
                grantee=aws.s3.BucketAclAccessControlPolicyGrantGranteeArgs(type="CanonicalUser", id=canonical_id))

        aws.s3.BucketAcl(
            "logs", bucket=logs.bucket.id,
            access_control_policy=aws.s3.BucketAclAccessControlPolicyArgs(
                owner=aws.s3.BucketAclAccessControlPolicyOwnerArgs(id=owner.id),
                grants=[grant(owner.id), grant(cloudfront.id)]),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs.ownership, logs.public_access_block]))
