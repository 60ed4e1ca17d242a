"""The static site bucket, what CloudFront reads it as (OAI or OAC), its objects and its policy.

Lifecycle: only *noncurrent* versions expire (30 days) and incomplete uploads are aborted. Current objects
must never expire: they are the live site, and expiring them would take index.html and the error pages
offline 30 days after a deploy. Versioning keeps the previous deploy for 30 days as a rollback.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from projects.edge.site_files import SiteObject
from shared.runtime.s3_baseline import baseline_bucket, bucket_policy


@dataclass(frozen=True)
class StaticSiteArgs:
    bucket_name: str
    origin_access: str  # "oai" or "oac"
    oac_name: str
    suffix: str
    objects: list[SiteObject]


def resource_suffix(source: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", source)


class StaticSite(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: StaticSiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:edge:StaticSite", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.origin_access = args.origin_access
        # ACLs off: the bucket owner owns every object, access is by policy only (required for OAC, fine for OAI).
        # Only noncurrent versions expire: current objects are the live site.
        self.baseline = baseline_bucket("static", args.bucket_name, parent=self,
                                        object_ownership="BucketOwnerEnforced", expire_current=False)
        self.bucket = self.baseline.bucket
        self.public_access_block = self.baseline.public_access_block
        bucket_id = self.bucket.id
        ownership, versioning = self.baseline.ownership, self.baseline.versioning

        self.oai: aws.cloudfront.OriginAccessIdentity | None = None
        self.oac: aws.cloudfront.OriginAccessControl | None = None
        if args.origin_access == "oai":
            self.oai = aws.cloudfront.OriginAccessIdentity(
                "static", comment=f"catalog static site {args.suffix}", opts=child)
        else:
            self.oac = aws.cloudfront.OriginAccessControl(
                "static", name=args.oac_name, description=f"catalog static site {args.suffix}",
                origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4",
                opts=child)

        self.objects: list[aws.s3.BucketObjectv2] = []
        for obj in args.objects:
            try:
                body: dict[str, str] = {"content": obj.body.decode("utf-8")}
            except UnicodeDecodeError:
                body = {"content_base64": base64.b64encode(obj.body).decode()}
            self.objects.append(aws.s3.BucketObjectv2(
                f"site-{resource_suffix(obj.source)}", bucket=bucket_id, key=obj.key,
                content_type=obj.content_type, cache_control=obj.cache_control, source_hash=obj.sha256,
                **body, opts=pulumi.ResourceOptions(parent=self, depends_on=[ownership, versioning])))
        self.register_outputs({"bucket": self.bucket.bucket})

    def grant_read(self, distribution_arn: pulumi.Input[str]) -> aws.s3.BucketPolicy:
        """The bucket policy: `s3:GetObject` for exactly the distribution's principal, plus TLS only."""
        objects = pulumi.Output.concat(self.bucket.arn, "/*")
        if self.oai is not None:
            reader: dict[str, Any] = {
                "Sid": "CloudFrontOriginAccessIdentityRead",
                "Effect": "Allow",
                "Principal": {"AWS": self.oai.iam_arn},
                "Action": "s3:GetObject",
                "Resource": objects,
            }
        else:
            reader = {
                "Sid": "CloudFrontOriginAccessControlRead",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": objects,
                "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
            }
        return bucket_policy("static", self.baseline, [reader], parent=self)
