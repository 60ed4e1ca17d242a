"""Least privilege: no `*` actions, no `Resource: "*"` where the action supports resource-level permissions,
no public principals, no broad AWS managed policies."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from shared.policy.model import UNKNOWN, Context, Res, as_list, parse_json

# Actions that do not support resource-level permissions (IAM Service Authorization Reference): the only ones
# an Allow statement may grant on `Resource: "*"`. Patterns; `*` inside matches any characters.
STAR_RESOURCE_ACTIONS: tuple[str, ...] = (
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "xray:GetSamplingStatisticSummaries",
    "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses", "ec2:Describe*",
    "cloudwatch:PutMetricData", "cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics",
    "ecr:GetAuthorizationToken", "logs:DescribeLogGroups", "sts:GetCallerIdentity", "kms:ListAliases", "kms:ListKeys",
    "secretsmanager:GetRandomPassword", "secretsmanager:ListSecrets", "ssm:DescribeParameters", "tag:GetResources",
    "elasticloadbalancing:Describe*", "application-autoscaling:Describe*", "lambda:ListFunctions",
    "s3:ListAllMyBuckets", "cloudfront:ListDistributions", "iam:ListRoles",
)
# AWS managed policies that grant far more than any layer needs.
BROAD_MANAGED = re.compile(r"(AdministratorAccess|PowerUserAccess|IAMFullAccess|FullAccess|ReadOnlyAccess)$")

IDENTITY_DOCS: dict[str, str] = {"aws:iam/policy:Policy": "policy", "aws:iam/rolePolicy:RolePolicy": "policy"}
RESOURCE_DOCS: dict[str, str] = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy", "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:sns/topic:Topic": "policy", "aws:kms/key:Key": "policy", "aws:kms/keyPolicy:KeyPolicy": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy", "aws:secretsmanager/secret:Secret": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy", "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
    "aws:apigateway/restApiPolicy:RestApiPolicy": "policy", "aws:apigateway/restApi:RestApi": "policy",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "policyDocument",
}
KMS_DOCS = ("aws:kms/key:Key", "aws:kms/keyPolicy:KeyPolicy")
ROOT_PRINCIPAL = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:root$")


def _matches(pattern: str, action: str) -> bool:
    return re.match("^" + re.escape(pattern).replace(r"\*", ".*") + "$", action, re.IGNORECASE) is not None


def star_resource_ok(action: str) -> bool:
    return any(_matches(p, action) or p.lower() == action.lower() for p in STAR_RESOURCE_ACTIONS)


def is_service_wildcard(action: str) -> bool:
    return action == "*" or re.match(r"^[\w-]+:\*$", action) is not None


def _statements(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        return []
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, dict)]


def _root_only(principal: Any) -> bool:
    if not isinstance(principal, dict) or set(principal) != {"AWS"}:
        return False
    return all(isinstance(p, str) and ROOT_PRINCIPAL.match(p) for p in as_list(principal["AWS"]))


def _public(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))


def check_document(doc: Any, *, identity: bool, kms: bool = False) -> list[str]:
    """Problems of one policy document (Allow statements; Deny with wildcards is fine and good)."""
    if doc is UNKNOWN:
        return []
    if doc is None:
        return ["policy is not valid JSON"]
    problems = []
    for index, st in enumerate(_statements(doc)):
        if st.get("Effect") != "Allow":
            continue
        where = f"statement {st.get('Sid') or index}"
        if "NotAction" in st:
            problems.append(f"{where}: Allow with NotAction grants everything else")
        if "NotResource" in st:
            problems.append(f"{where}: Allow with NotResource grants every other resource")
        actions = [str(a) for a in as_list(st.get("Action"))]
        resources = [str(r) for r in as_list(st.get("Resource"))]
        root_kms = kms and _root_only(st.get("Principal"))  # the documented default key policy statement
        wild = [a for a in actions if is_service_wildcard(a)]
        if wild and not root_kms:
            problems.append(f"{where}: wildcard action(s) {', '.join(wild)}: name the actions")
        if "*" in resources and not kms:
            broad = [a for a in actions if not star_resource_ok(a)]
            if broad:
                problems.append(f"{where}: Resource \"*\" for {', '.join(broad)}, which support resource-level "
                                "permissions: name the resources")
        if not identity and _public(st.get("Principal")) and not st.get("Condition"):
            problems.append(f"{where}: Principal \"*\" without a condition makes it public")
    return problems


def check_least_privilege(res: Res, ctx: Context) -> Iterable[str]:
    if res.type in IDENTITY_DOCS:
        yield from check_document(parse_json(res.inputs.get(IDENTITY_DOCS[res.type])), identity=True)
    if res.type in RESOURCE_DOCS and res.inputs.get(RESOURCE_DOCS[res.type]) is not None:
        yield from check_document(parse_json(res.inputs.get(RESOURCE_DOCS[res.type])), identity=False,
                                  kms=res.type in KMS_DOCS)
    if res.type == "aws:iam/role:Role":
        for inline in as_list(res.inputs.get("inlinePolicies")):
            if isinstance(inline, dict) and inline.get("policy") is not None:
                for problem in check_document(parse_json(inline.get("policy")), identity=True):
                    yield f"inline policy {inline.get('name')}: {problem}"
        trust = parse_json(res.inputs.get("assumeRolePolicy"))
        if any(_public(st.get("Principal")) for st in _statements(trust) if st.get("Effect") == "Allow"):
            yield "trust policy lets any principal (*) assume the role"
        for arn in as_list(res.inputs.get("managedPolicyArns")):
            if isinstance(arn, str) and ":aws:policy/" in arn and BROAD_MANAGED.search(arn):
                yield f"managed policy {arn.rsplit('/', 1)[-1]} is far broader than least privilege"
    if res.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
        arn = res.inputs.get("policyArn")
        if isinstance(arn, str) and ":aws:policy/" in arn and BROAD_MANAGED.search(arn):
            yield f"managed policy {arn.rsplit('/', 1)[-1]} is far broader than least privilege"
    if res.type == "aws:lambda/permission:Permission" and res.inputs.get("principal") == "*":
        yield "lambda Permission for principal * makes the function publicly invocable"
