"""Least-privilege database logins: one Secrets Manager secret per role the platform logs in as, each rotated.

- master: RDS-managed (`manage_master_user_password`): RDS generates it and rotates it every 7 days
  (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html). Only the migrate
  function's role bootstrap reads it.
- owner (`ownerUsername`) and app (`appUsername`): secrets created here WITHOUT a value. No password passes through
  this program, its config or its state: the migrate task (containers/catalog-api/src/db-secrets.mjs) finds the
  secret without an AWSCURRENT version, generates the password inside the account and writes the whole RDS-shaped
  value (engine, host, port, dbname, username, password) straight into Secrets Manager, then creates the role
  with it (src/db-roles.mjs). From then on AWS's single-user PostgreSQL rotation function from the Serverless
  Application Repository rotates it every `rotationDays`
  (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_available-rotation-templates.html).
  RDS Proxy serves the app secret only (the migrate task logs in to the cluster endpoint directly).

Order: data deploy (empty secrets, rotation scheduled with rotate_immediately=False) -> app deploy runs the migrate
task (first value, roles) -> first scheduled rotation `rotationDays` later, which rotates from that AWSCURRENT value.
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
# Printable ASCII minus what breaks a connection string or the RDS rules ("/", "@", '"', " ", "\\", "'"): the
# rotation function generates every password after the first with these exclusions.
EXCLUDE_CHARACTERS = "/@\"' \\`"


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
        for kind, user in args.users.items():
            secret = aws.secretsmanager.Secret(
                f"db-{kind}-credentials",
                name=args.name(f"db-{kind}", Service.SECRET),
                description=f"Aurora role {user} ({kind}): first value written by the migrate task, rotated every "
                            f"{args.rotation_days} days",
                recovery_window_in_days=0,  # delete at once, so the suffix can be recreated right away
                opts=child,
            )
            # Single user: the function sets a new password for the same role. Open connections keep working;
            # RDS Proxy opens new database connections with the new AWSCURRENT value.
            aws.secretsmanager.SecretRotation(
                f"db-{kind}-rotation",
                secret_id=secret.id,
                rotation_lambda_arn=rotation_arn,
                rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                    automatically_after_days=args.rotation_days),
                # Rotation starts from AWSCURRENT, which the migrate task writes during the app deploy: no rotation
                # now, the first one `rotationDays` later. (Without an immediate rotation, Secrets Manager only
                # runs the function's testSecret step once, asynchronously; its failure here changes nothing.)
                rotate_immediately=False,
                opts=child,
            )
            self.secrets[kind] = secret
        self.register_outputs({kind: s.arn for kind, s in self.secrets.items()})
