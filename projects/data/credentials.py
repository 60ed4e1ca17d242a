"""Least-privilege database logins: one Secrets Manager secret per role the platform logs in as, each rotated.

- master: RDS-managed (`manage_master_user_password`): RDS generates it and rotates it every 7 days
  (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html). Only the migrate
  function's role bootstrap reads it.
- owner (`ownerUsername`) and app (`appUsername`): secrets created here WITHOUT a value. No password passes through
  this program, its config or its state: the migrate task (containers/catalog-api/src/db-secrets.mjs) finds the
  secret without an AWSCURRENT version, generates the password inside the account and writes the whole RDS-shaped
  value (engine, host, port, dbname, username, password) straight into Secrets Manager, then creates the role
  with it (src/db-roles.mjs). From then on the layer's own rotation function (`rotation/index.mjs`: the
  single-user PostgreSQL strategy, the same four-step protocol as AWS's template) rotates it every `rotationDays`.
  RDS Proxy serves the app secret only (the migrate task logs in to the cluster endpoint directly).

Why our own function and not AWS's hosted template (Serverless Application Repository): that one is deployed as a
CloudFormation stack running with the deploy role's rights and creating a role without the layer's permissions
boundary, so no deploy role may use CloudFormation (projects/bootstrap/access.py). Declared here, the function's
role gets the boundary like every role of the layer, and its policy names exactly the two secrets.

Signing keys (`hmac_keys`: the waiting room's ticket and pass key): also created WITHOUT a value, and rotated by the
same function with its HMAC-key strategy (`rotation/hmac-key.mjs`: a random 48-byte key, nothing to update
elsewhere). Their rotation starts at once (`rotate_immediately=True`): that first rotation of the empty secret is what
writes the first key, inside the account, once (Secrets Manager does not rotate again until `rotationDays` later);
the API accepts AWSCURRENT and AWSPREVIOUS, so a ticket signed before a rotation keeps verifying.

Order: data deploy (empty secrets, rotation scheduled with rotate_immediately=False) -> app deploy runs the migrate
task (first value, roles) -> first scheduled rotation `rotationDays` later, which rotates from that AWSCURRENT value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from projects.data.rotation_package import rotation_archive
from shared.runtime import REGION, mission
from shared.runtime.naming import Service

# Printable ASCII minus what breaks a connection string or the RDS rules ("/", "@", '"', " ", "\\", "'", "`"): the
# rotation function generates every password after the first without these (its EXCLUDE_CHARACTERS).
EXCLUDE_CHARACTERS = "/@\"' \\`"
RUNTIME = "nodejs24.x"
HANDLER = "index.handler"
TIMEOUT_S = 30  # four short steps, each a Secrets Manager call or two and one database login
# Lambda's Node.js 20+ runtimes load Amazon's CA certificates (RDS's among them) only when told: the function
# verifies the cluster's certificate with them.
AMAZON_CA_BUNDLE = "/var/runtime/ca-cert.pem"
# What the function calls on the secrets it rotates (rotation/index.mjs, hmac-key.mjs), nothing else: no
# GetRandomPassword (passwords and keys are generated with node:crypto), no DeleteSecret, no RotateSecret.
SECRET_ACTIONS = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
                  "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage")
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# Attaching the function to the VPC (AWSLambdaVPCAccessExecutionRole minus its logs:* on "*"); no resource-level
# permissions for these: Lambda checks them with Resource "*".
ENI_ACTIONS = ("ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
               "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:UnassignPrivateIpAddresses")
XRAY_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")


@dataclass(frozen=True)
class CredentialsArgs:
    name: Callable[[str, Service], str]
    users: dict[str, str]  # role kind (app, owner) -> database user name
    hmac_keys: dict[str, str]  # key kind (waiting-room) -> what signs with it
    rotation_days: int
    log_retention_days: int
    account_id: str
    private_subnet_ids: pulumi.Input[Sequence[str]]
    rotation_security_group_id: pulumi.Input[str]


def trust_policy() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def rotation_policy(log_group_arn: str, secret_arns: list[str]) -> str:
    """The rotation function's role: exactly the secrets it rotates, its log group, its VPC attachment, its traces."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "RotateOwnSecrets", "Effect": "Allow", "Action": list(SECRET_ACTIONS), "Resource": secret_arns},
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": list(LOG_ACTIONS),
         "Resource": [log_group_arn, f"{log_group_arn}:*"]},
        {"Sid": "VpcNetworkInterfaces", "Effect": "Allow", "Action": list(ENI_ACTIONS), "Resource": "*"},
        {"Sid": "Traces", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"},
    ]})


class DatabaseCredentials(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: CredentialsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:data:DatabaseCredentials", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.secrets: dict[str, aws.secretsmanager.Secret] = {}
        for kind, user in args.users.items():
            self.secrets[kind] = aws.secretsmanager.Secret(
                f"db-{kind}-credentials",
                name=args.name(f"db-{kind}", Service.SECRET),
                description=f"Aurora role {user} ({kind}): first value written by the migrate task, rotated every "
                            f"{args.rotation_days} days",
                recovery_window_in_days=0,  # delete at once, so the suffix can be recreated right away
                opts=child,
            )

        self.keys: dict[str, aws.secretsmanager.Secret] = {}
        for kind, purpose in args.hmac_keys.items():
            self.keys[kind] = aws.secretsmanager.Secret(
                f"{kind}-key",
                name=args.name(f"{kind}-key", Service.SECRET),
                description=f"HMAC key of {purpose}: first value made by its first rotation, rotated every "
                            f"{args.rotation_days} days",
                recovery_window_in_days=0,
                opts=child,
            )
        rotated = [*self.secrets.values(), *self.keys.values()]

        function_name = args.name("db-rotation", Service.LAMBDA)
        self.log_group = aws.cloudwatch.LogGroup(
            "db-rotation-logs", name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days, opts=child)
        self.role = aws.iam.Role(
            "db-rotation-role", name=args.name("db-rotation", Service.IAM_ROLE),
            description="Secrets Manager rotation of the data layer's database secrets and signing keys",
            assume_role_policy=json.dumps(trust_policy()), opts=child)
        self.role_policy = aws.iam.RolePolicy(
            "db-rotation-policy", role=self.role.id,
            policy=pulumi.Output.all(self.log_group.arn, *[s.arn for s in rotated]).apply(
                lambda a: rotation_policy(a[0], list(a[1:]))),
            opts=child)
        # arm64 and 3 GB like every function outside the edge (the mission's Lambda rules; it runs a few seconds a
        # month, so the size costs nothing), but a zip: it is not the API, and the data layer builds no image.
        # In the private subnets with the db-admin group: 5432 to Aurora, 443 to Secrets Manager through NAT.
        self.function = aws.lambda_.Function(
            "db-rotation",
            name=function_name,
            role=self.role.arn,
            package_type="Zip",
            code=rotation_archive(),
            runtime=RUNTIME,
            handler=HANDLER,
            architectures=[mission.API_ARCHITECTURE],
            memory_size=mission.API_MEMORY_MB,
            timeout=TIMEOUT_S,
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=args.private_subnet_ids, security_group_ids=[args.rotation_security_group_id]),
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=self.log_group.name),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={
                "SECRETS_MANAGER_ENDPOINT": f"https://secretsmanager.{REGION}.amazonaws.com",
                "EXCLUDE_CHARACTERS": EXCLUDE_CHARACTERS,
                "NODE_EXTRA_CA_CERTS": AMAZON_CA_BUNDLE,
                # The secrets its HMAC-key strategy rotates (every other one is a database login).
                "HMAC_KEY_SECRET_ARNS": pulumi.Output.all(*[k.arn for k in self.keys.values()]).apply(",".join),
            }),
            # The role must create ENIs and write logs before the first start, and outlive the function on destroy.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, self.role_policy]),
        )
        # Secrets Manager may invoke it, for secrets of this account only (confused-deputy guard).
        self.permission = aws.lambda_.Permission(
            "db-rotation-invoke", action="lambda:InvokeFunction", function=self.function.name,
            principal="secretsmanager.amazonaws.com", source_account=args.account_id, opts=child)

        def rotation(name: str, secret: aws.secretsmanager.Secret, immediately: bool) -> None:
            aws.secretsmanager.SecretRotation(
                name, secret_id=secret.id, rotation_lambda_arn=self.function.arn,
                rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                    automatically_after_days=args.rotation_days),
                rotate_immediately=immediately,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.permission]))

        # Single user: the function sets a new password for the same role. Open connections keep working; RDS Proxy
        # opens new database connections with the new AWSCURRENT value. Rotation starts from AWSCURRENT, which the
        # migrate task writes during the app deploy: no rotation now, the first one `rotationDays` later. (Without
        # an immediate rotation, Secrets Manager only runs the function's testSecret step once, asynchronously; its
        # failure here changes nothing.)
        for kind, secret in self.secrets.items():
            rotation(f"db-{kind}-rotation", secret, immediately=False)
        # A key's first rotation, now, writes its first value into the empty secret (module docstring).
        for kind, key in self.keys.items():
            rotation(f"{kind}-key-rotation", key, immediately=True)
        self.register_outputs({kind: s.arn for kind, s in {**self.secrets, **self.keys}.items()})
