"""The two Lambda@Edge functions, their execution role and the us-east-1 provider they are created with.

Lambda@Edge rules (docs/aws-rules.md, CloudFront "Restrictions on Lambda@Edge"): us-east-1, x86_64, zip,
a numbered published version (CloudFront is given `qualified_arn`, never `$LATEST` or an alias), no VPC, no
environment variables, no layers, no provisioned/reserved concurrency, no dead-letter queue; viewer triggers
at most 128 MB / 5 s / 1 MB. The role is assumable by lambda and edgelambda and may only write the functions'
own log groups, in every region (replicas log where they run, as `/aws/lambda/us-east-1.<name>`).

Teardown: AWS deletes replicas hours after the distribution lets go, and refuses to delete the function until
then. The functions are therefore `retain_on_delete` (the one exception the policy pack allows) and deleted
later by `shared/deploy/edge_teardown.py`; the role is not retained: deleting a function does not need it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from projects.edge.bundle import EdgePackage, checked_archive, package_hash
from shared.runtime import REGION

RUNTIME = aws.lambda_.Runtime.NODE_JS24D_X  # newest Node.js Lambda@Edge supports (functions/README.md, Runtime)
ARCHITECTURE = "x86_64"  # arm64 is not supported at the edge
VIEWER_MAX_MEMORY_MB, VIEWER_MAX_TIMEOUT_S = 128, 5
MEMORY_MB = 128
TIMEOUT_S = 5  # the viewer limit; origin-response may take 30 s but only rewrites headers
HANDLERS = {"viewerRequest": "viewer-request.handler", "originResponse": "origin-response.handler"}
LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")


@dataclass(frozen=True)
class EdgeFunctionsArgs:
    names: dict[str, str]  # role (viewerRequest, originResponse) -> function name
    role_name: str
    policy_name: str
    account_id: str
    packages: dict[str, pulumi.Input[EdgePackage]]  # role -> package (viewer-request's waits for app outputs)


def log_group_arns(account_id: str, function_name: str) -> list[str]:
    """The function's log groups in any region (`/aws/lambda/us-east-1.<fn>` for replicas, `/aws/lambda/<fn>`
    for test invocations in us-east-1), as group and stream ARNs."""
    arns = []
    for group in (f"/aws/lambda/{REGION}.{function_name}", f"/aws/lambda/{function_name}"):
        base = f"arn:aws:logs:*:{account_id}:log-group:{group}"
        arns += [base, f"{base}:*"]
    return arns


def trust_policy() -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "edgelambda.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }],
    }


def logs_policy(account_id: str, function_names: list[str]) -> dict[str, object]:
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "OwnLogGroupsInEveryRegion",
            "Effect": "Allow",
            "Action": list(LOG_ACTIONS),
            "Resource": [arn for name in function_names for arn in log_group_arns(account_id, name)],
        }],
    }


class EdgeFunctions(pulumi.ComponentResource):
    """viewer-request (JWT check on /api/* writes) and origin-response (security headers)."""

    def __init__(self, resource_name: str, args: EdgeFunctionsArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:edge:EdgeFunctions", resource_name, None, opts)
        # Explicit, whatever `aws:region` the stack has: Lambda@Edge exists only in us-east-1.
        self.provider = aws.Provider("us-east-1", region=REGION, opts=pulumi.ResourceOptions(parent=self))
        in_us_east_1 = pulumi.ResourceOptions(parent=self, provider=self.provider)

        self.role = aws.iam.Role(
            "edge-role", name=args.role_name, description="Lambda@Edge functions of the catalog edge layer",
            assume_role_policy=pulumi.Output.json_dumps(trust_policy()), opts=in_us_east_1)
        policy = aws.iam.RolePolicy(
            "edge-logs", name=args.policy_name, role=self.role.id,
            policy=pulumi.Output.json_dumps(logs_policy(args.account_id, list(args.names.values()))),
            opts=in_us_east_1)

        self.functions: dict[str, aws.lambda_.Function] = {}
        for role, name in args.names.items():
            self.functions[role] = aws.lambda_.Function(
                role,
                name=name,
                description=f"catalog Lambda@Edge {HANDLERS[role].split('.')[0]}",
                role=self.role.arn,
                runtime=RUNTIME,
                architectures=[ARCHITECTURE],
                package_type="Zip",
                handler=HANDLERS[role],
                code=pulumi.Output.from_input(args.packages[role]).apply(checked_archive),
                # The hash of the deterministic zip of the same files: plans (and tests) see what is shipped.
                source_code_hash=pulumi.Output.from_input(args.packages[role]).apply(package_hash),
                publish=True,  # CloudFront needs a numbered version
                memory_size=MEMORY_MB,
                timeout=TIMEOUT_S,
                opts=pulumi.ResourceOptions.merge(in_us_east_1, pulumi.ResourceOptions(
                    depends_on=[policy],
                    # Deleted later by shared/deploy/edge_teardown.py, once AWS has removed the replicas.
                    retain_on_delete=True,
                )),
            )
        self.register_outputs({role: fn.qualified_arn for role, fn in self.functions.items()})

    def qualified_arn(self, role: str) -> pulumi.Output[str]:
        return self.functions[role].qualified_arn

    def name(self, role: str) -> pulumi.Output[str]:
        return self.functions[role].name
