"""The bootstrap's resources: state bucket, secrets key, GitHub OIDC provider, two roles per layer."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from projects.bootstrap.permissions import (
    OIDC_AUDIENCE,
    OIDC_URL,
    Facts,
    deploy_subjects,
    plan_subjects,
    policy_count,
    role_policies,
    trust_policy,
)
from shared.runtime.naming import Service, physical_name


def tls_only_policy(bucket_arn: str) -> str:
    """Deny every request to the state bucket that does not use TLS (aws:SecureTransport)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }]})


class StateBucket(pulumi.ComponentResource):
    """Versioned (a bad write can be rolled back), encrypted, private, owner-enforced, TLS-only."""

    def __init__(self, name: str, bucket_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:bootstrap:StateBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # force_destroy: the bootstrap is destroyable like every stack (docs/delivery.md says what that costs).
        self.bucket = aws.s3.Bucket(name, bucket=bucket_name, force_destroy=True, opts=child)
        aws.s3.BucketVersioning(f"{name}-versioning", bucket=self.bucket.id,
                                versioning_configuration={"status": "Enabled"}, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse", bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"},
                    "bucket_key_enabled": True}], opts=child)
        block = aws.s3.BucketPublicAccessBlock(f"{name}-public-access", bucket=self.bucket.id,
                                               block_public_acls=True, block_public_policy=True,
                                               ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        aws.s3.BucketOwnershipControls(f"{name}-ownership", bucket=self.bucket.id,
                                       rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        aws.s3.BucketPolicy(f"{name}-tls-only", bucket=self.bucket.id, policy=self.bucket.arn.apply(tls_only_policy),
                            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]))
        self.register_outputs({"bucket": self.bucket.bucket})


@dataclass(frozen=True)
class TeamRoles:
    deploy: aws.iam.Role
    plan: aws.iam.Role


def secrets_key(suffix: str) -> tuple[aws.kms.Key, aws.kms.Alias]:
    key = aws.kms.Key("secrets", description=f"Pulumi stack secrets of the catalog platform ({suffix})",
                      enable_key_rotation=True, deletion_window_in_days=7)
    alias = aws.kms.Alias("secrets", name=f"alias/{physical_name('secrets', suffix, Service.KMS_ALIAS)}",
                          target_key_id=key.key_id)
    return key, alias


def github_oidc_provider() -> aws.iam.OpenIdConnectProvider:
    # AWS validates GitHub's certificate through its own trusted CAs; no thumbprint needs pinning.
    return aws.iam.OpenIdConnectProvider("github", url=OIDC_URL, client_id_lists=[OIDC_AUDIENCE])


def team_roles(layer: str, facts: pulumi.Output[Facts], suffix: str) -> TeamRoles:
    """A deploy role (its GitHub environment only) and a read-only plan role (pull requests, drift)."""
    roles = {}
    for kind, write in (("deploy", True), ("plan", False)):
        role_name = physical_name(f"{layer}-{kind}", suffix, Service.IAM_ROLE)
        trust = facts.apply(lambda f, w=write: json.dumps(trust_policy(
            deploy_subjects(layer, f) if w else plan_subjects(f), f)))
        role = aws.iam.Role(f"{layer}-{kind}", name=role_name, assume_role_policy=trust, max_session_duration=3600,
                            description=f"GitHub Actions {kind} role of the {layer} layer ({suffix})")
        documents = facts.apply(lambda f, w=write: role_policies(layer, f, write=w))
        # The number of documents is known offline (the table decides it, not the ids): one policy each.
        for index in range(policy_count(layer, suffix, write=write)):
            policy = aws.iam.Policy(
                f"{layer}-{kind}-{index + 1}",
                name=physical_name(f"{layer}-{kind}-{index + 1}", suffix, Service.IAM_POLICY),
                policy=documents.apply(lambda docs, i=index: json.dumps(docs[i])))
            aws.iam.RolePolicyAttachment(f"{layer}-{kind}-{index + 1}", role=role.name, policy_arn=policy.arn)
        roles[kind] = role
    return TeamRoles(deploy=roles["deploy"], plan=roles["plan"])
