"""The bootstrap's resources: state bucket, GitHub OIDC provider, and per layer two roles, a stack key and a
permissions boundary."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from projects.bootstrap.access import OIDC_AUDIENCE, OIDC_URL, SESSION_SECONDS
from projects.bootstrap.permissions import (
    Facts,
    boundary_document,
    deploy_subjects,
    plan_subjects,
    policy_count,
    role_policies,
    state_key_policy,
    trust_policy,
)
from shared.runtime import APP
from shared.runtime.boundary import boundary_name
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


def secrets_alias_name(layer: str, suffix: str) -> str:
    return f"alias/{physical_name(f'{layer}-secrets', suffix, Service.KMS_ALIAS)}"


def secrets_provider_template(suffix: str) -> str:
    """The secrets provider URL of every layer's stack, `{layer}` standing for the layer's name."""
    return f"awskms://alias/{APP}-{{layer}}-secrets-{suffix}?region=us-east-1"


def team_roles(layer: str, trust_facts: pulumi.Output[Facts], suffix: str) -> TeamRoles:
    """A deploy role (its GitHub environment only) and a read-only plan role (its preview environment, drift);
    their policies come later (`attach_policies`), once the stack keys that name them exist."""
    roles = {}
    for kind, write in (("deploy", True), ("plan", False)):
        role_name = physical_name(f"{layer}-{kind}", suffix, Service.IAM_ROLE)
        trust = trust_facts.apply(lambda f, w=write: json.dumps(trust_policy(
            deploy_subjects(layer, f) if w else plan_subjects(layer, f), f)))
        roles[kind] = aws.iam.Role(f"{layer}-{kind}", name=role_name, assume_role_policy=trust,
                                   max_session_duration=SESSION_SECONDS,
                                   description=f"GitHub Actions {kind} role of the {layer} layer ({suffix})")
    return TeamRoles(deploy=roles["deploy"], plan=roles["plan"])


def stack_key(layer: str, suffix: str, policy: pulumi.Input[str]) -> tuple[aws.kms.Key, aws.kms.Alias]:
    """The layer's own secrets-provider key; its policy names the roles (which must exist: KMS checks)."""
    key = aws.kms.Key(f"{layer}-secrets", description=f"Pulumi stack secrets of the {layer} layer ({suffix})",
                      enable_key_rotation=True, deletion_window_in_days=7, policy=policy)
    alias = aws.kms.Alias(f"{layer}-secrets", name=secrets_alias_name(layer, suffix), target_key_id=key.key_id)
    return key, alias


def stack_keys(suffix: str, roles: dict[str, TeamRoles], facts: pulumi.Output[Facts]) -> dict[str, aws.kms.Key]:
    arns = pulumi.Output.all(**{f"{layer}:{kind}": getattr(r, kind).arn for layer, r in roles.items()
                                for kind in ("deploy", "plan")})

    def by_layer(flat: dict[str, str]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for key, arn in flat.items():
            layer, _, kind = key.partition(":")
            out.setdefault(layer, {})[kind] = arn
        return out

    keys = {}
    for layer in roles:
        policy = pulumi.Output.all(facts, arns).apply(
            lambda v, name=layer: json.dumps(state_key_policy(name, v[0], by_layer(v[1]))))
        keys[layer], _ = stack_key(layer, suffix, policy)
    return keys


def boundary(layer: str, suffix: str, facts: pulumi.Output[Facts]) -> aws.iam.Policy:
    """The ceiling of every role the layer's program creates (shared/runtime/boundary.py names it)."""
    return aws.iam.Policy(f"{layer}-boundary", name=boundary_name(layer, suffix),
                          description=f"Permissions boundary of the roles the {layer} layer creates ({suffix})",
                          policy=facts.apply(lambda f: json.dumps(boundary_document(layer, f))))


def attach_policies(layer: str, roles: TeamRoles, facts: pulumi.Output[Facts], suffix: str,
                    layers: tuple[str, ...]) -> None:
    for kind, write in (("deploy", True), ("plan", False)):
        role = getattr(roles, kind)
        documents = facts.apply(lambda f, w=write: role_policies(layer, f, write=w))
        # The number of documents is known offline (the table decides it, not the ids): one policy each.
        for index in range(policy_count(layer, suffix, write=write, layers=layers)):
            policy = aws.iam.Policy(
                f"{layer}-{kind}-{index + 1}",
                name=physical_name(f"{layer}-{kind}-{index + 1}", suffix, Service.IAM_POLICY),
                policy=documents.apply(lambda docs, i=index: json.dumps(docs[i])))
            aws.iam.RolePolicyAttachment(f"{layer}-{kind}-{index + 1}", role=role.name, policy_arn=policy.arn)


def github_oidc_provider() -> aws.iam.OpenIdConnectProvider:
    # AWS validates GitHub's certificate through its own trusted CAs; no thumbprint needs pinning.
    return aws.iam.OpenIdConnectProvider("github", url=OIDC_URL, client_id_lists=[OIDC_AUDIENCE])
