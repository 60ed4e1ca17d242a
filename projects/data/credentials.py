"""Least-privilege database logins: one Secrets Manager secret per role the platform logs in as, each rotated.

- master: RDS-managed (`manage_master_user_password`): RDS generates it and rotates it every 7 days
  (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html). Only the migrate
  function's role bootstrap reads it.
- owner (`ownerUsername`) and app (`appUsername`): secrets in the RDS shape (engine, host, port, dbname,
  username, password) that the migrate task (containers/catalog-api/src/db-roles.mjs) uses to create the roles,
  rotated every `rotationDays` by AWS's single-user PostgreSQL rotation function from the Serverless Application
  Repository (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_available-rotation-templates.html).
  RDS Proxy serves the app secret only (the migrate task logs in to the cluster endpoint directly).

The first password comes from Secrets Manager's GetRandomPassword (no new dependency, no operator step); the
version keeps it (`ignore_changes`), so later deploys never reset a password rotation has changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from shared.runtime import REGION
from shared.runtime.naming import Service

# AWS's hosted rotation application (account 297356227824 publishes the Secrets Manager templates).
ROTATION_APPLICATION = (
    f"arn:aws:serverlessrepo:{REGION}:297356227824:applications/SecretsManagerRDSPostgreSQLRotationSingleUser"
)
ROTATION_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"]
# Printable ASCII minus what breaks a connection string or the RDS rules ("/", "@", '"', " ", "\\", "'").
EXCLUDE_CHARACTERS = "/@\"' \\`"
PASSWORD_LENGTH = 32


@dataclass(frozen=True)
class CredentialsArgs:
    name: Callable[[str, Service], str]
    users: dict[str, str]  # role kind (app, owner) -> database user name
    host: pulumi.Input[str]  # the cluster writer endpoint: rotation logs in there, not through the proxy
    port: int
    database_name: str
    rotation_days: int
    private_subnet_ids: pulumi.Input[Sequence[str]]
    rotation_security_group_id: pulumi.Input[str]


class DatabaseCredentials(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: CredentialsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:data:DatabaseCredentials", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        function_name = args.name("db-rotation", Service.LAMBDA)
        # The rotation function runs in the private subnets with the db-admin group: 5432 to Aurora, 443 to
        # Secrets Manager through NAT. Its IAM role and resource policy come from AWS's template.
        self.rotation_app = aws.serverlessrepository.CloudFormationStack(
            "db-rotation",
            name=args.name("db-rotation", Service.GENERIC),
            application_id=ROTATION_APPLICATION,
            capabilities=ROTATION_CAPABILITIES,
            parameters={
                "endpoint": f"https://secretsmanager.{REGION}.amazonaws.com",
                "functionName": function_name,
                "vpcSubnetIds": pulumi.Output.from_input(args.private_subnet_ids).apply(",".join),
                "vpcSecurityGroupIds": args.rotation_security_group_id,
                "excludeCharacters": EXCLUDE_CHARACTERS,
            },
            opts=child,
        )
        rotation_arn = self.rotation_app.outputs.apply(lambda o: o["RotationLambdaARN"])

        self.secrets: dict[str, aws.secretsmanager.Secret] = {}
        self.versions: list[aws.secretsmanager.SecretVersion] = []
        for kind, user in args.users.items():
            secret = aws.secretsmanager.Secret(
                f"db-{kind}-credentials",
                name=args.name(f"db-{kind}", Service.SECRET),
                description=f"Aurora role {user} ({kind}); rotated every {args.rotation_days} days",
                recovery_window_in_days=0,  # delete at once, so the suffix can be recreated right away
                opts=child,
            )
            initial = aws.secretsmanager.get_random_password_output(
                password_length=PASSWORD_LENGTH, exclude_characters=EXCLUDE_CHARACTERS)
            version = aws.secretsmanager.SecretVersion(
                f"db-{kind}-credentials-version",
                secret_id=secret.id,
                secret_string=pulumi.Output.secret(pulumi.Output.json_dumps({
                    "engine": "postgres", "host": args.host, "port": args.port, "dbname": args.database_name,
                    "username": user, "password": initial.random_password})),
                # Rotation owns the value after the first deploy; a fresh random value per plan must not reset it.
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["secretString"]),
            )
            # Single user: the function sets a new password for the same role. Open connections keep working;
            # RDS Proxy opens new database connections with the new AWSCURRENT value.
            aws.secretsmanager.SecretRotation(
                f"db-{kind}-rotation",
                secret_id=secret.id,
                rotation_lambda_arn=rotation_arn,
                rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                    automatically_after_days=args.rotation_days),
                # The role must exist (the migrate task creates it) before a rotation can log in as it; the first
                # rotation right after creation may fail once and is retried on schedule.
                rotate_immediately=False,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[version]),
            )
            self.secrets[kind] = secret
            self.versions.append(version)
        self.register_outputs({kind: s.arn for kind, s in self.secrets.items()})
