"""cloudsplaining and parliament over every IAM document the project generates: the bootstrap's role, boundary,
trust and key policies, and the role policies each layer's plan declares. Each finding must be one the
project explains (EXPLAINED here, each key also in docs/delivery.md, "Linter findings"); anything new fails."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from projects.bootstrap import permissions as perms
from shared.plan.planner import Plan
from shared.runtime.layers import LAYER_NAMES, REPO_ROOT

parliament = pytest.importorskip("parliament")
cloudsplaining_doc = pytest.importorskip("cloudsplaining.scan.policy_document")

# cloudsplaining's report categories (its HTML report's columns) as PolicyDocument properties.
CLOUDSPLAINING = ("allows_privilege_escalation", "allows_data_exfiltration_actions", "credentials_exposure",
                  "permissions_management_without_constraints", "service_wildcard", "infrastructure_modification")


@dataclass(frozen=True)
class Finding:
    document: str  # <origin>/<name>:<kind>
    kind: str  # deploy, plan, boundary, trust, key, runtime
    tool: str
    issue: str
    detail: Any


def documents(boot: Plan, chain: dict[str, Plan], plan_with: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, kind, document) for every generated IAM document."""
    out = []
    for policy in boot.of_type("aws:iam/policy:Policy"):
        kind = "boundary" if policy.name.endswith("-boundary") else policy.name.split("-")[1]
        out.append((f"bootstrap/{policy.name}", kind, json.loads(policy.get("policy"))))
    out += [(f"bootstrap/{r.name}", "trust", json.loads(r.get("assumeRolePolicy"))) for r in boot.of_type(
        "aws:iam/role:Role")]
    out += [(f"bootstrap/{k.name}", "key", json.loads(k.get("policy"))) for k in boot.of_type("aws:kms/key:Key")]
    plans = {**chain, "data-sale": plan_with("data", {"catalog-data:saleWindows": _window()}),
             "app-apigw-account": plan_with("app", {"catalog-app:manageApiGatewayAccount": "true"})}
    for origin, plan in plans.items():
        for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
            doc = policy.get("policy")
            out.append((f"{origin}/{policy.name}", "runtime", json.loads(doc) if isinstance(doc, str) else doc))
        out += [(f"{origin}/{r.name}", "trust", json.loads(r.get("assumeRolePolicy")))
                for r in plan.of_type("aws:iam/role:Role")]
    return out


def _window() -> str:
    from tests.ops.test_sale_schedules import DATA_WINDOW, windows

    return windows(DATA_WINDOW)  # type: ignore[no-any-return]


def findings(docs: list[tuple[str, str, dict[str, Any]]]) -> list[Finding]:
    out = []
    for name, kind, doc in docs:
        for f in parliament.analyze_policy_string(json.dumps(doc)).findings:
            out.append(Finding(name, kind, "parliament", f.issue, f.detail))
        if kind in ("trust", "key"):
            continue  # resource policies: cloudsplaining reads identity policies only
        scanned = cloudsplaining_doc.PolicyDocument(doc)
        for category in CLOUDSPLAINING:
            if getattr(scanned, category):
                out.append(Finding(name, kind, "cloudsplaining", category, getattr(scanned, category)))
    return out


def _star_actions_are_declared_unscoped(f: Finding) -> bool:
    """Resource "*" only for what the table says AWS offers no resource for (describe, unscoped, create on any)."""
    patterns = {a for access in perms.ACCESS.values() for s in access.services
                for a in (*s.describe, *s.unscoped, *(s.create if s.create_on_any else ()))}
    return all(any(fnmatch.fnmatchcase(action, p) for p in patterns) for action in f.detail)


def _actions_in(allowed: set[str]) -> Callable[[Finding], bool]:
    def check(f: Finding) -> bool:
        actions = f.detail if isinstance(f.detail, list) else []
        named = {a["action"] if isinstance(a, dict) else a for a in actions}
        return bool(named) and named <= allowed
    return check


ALB_LISTENERS = {f"elasticloadbalancing:{a}" for a in ("DeleteListener", "ModifyListener", "DeleteRule",
                                                       "ModifyRule", "CreateRule", "SetRulePriorities")}
KMS_ALIAS = {"kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"}
# An experiment template's create/update is authorized on the template (tag-scoped) and on each FIS action it names
# (untagged AWS actions): one statement per resource type.
FIS_TEMPLATE_WRITES = {"fis:CreateExperimentTemplate", "fis:UpdateExperimentTemplate"}
# A function in a VPC manages its network interfaces: "*" in its own policy, as AWS's AWSLambdaVPCAccessExecutionRole
# grants them; the layer's boundary narrows them to the environment's network (access.py, RUNTIME_SCOPED).
VPC_LAMBDA = {"ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
              "ec2:UnassignPrivateIpAddresses"}
RUNTIME = {a for access in perms.ACCESS.values() for a in access.runtime}
# EC2 and RDS creates authorized per resource by two statements: the new resource (request tags), the VPC, subnet,
# group, cluster or proxy they name (the layer's resource tags).
EC2_SPLIT_CREATES = {a for access in perms.ACCESS.values() for s in access.services for a in s.create_targets
                     if s.create_targets[a][1]}

# (tool, issue, kind) -> a check of the finding's detail; each key is explained in docs/delivery.md.
EXPLAINED: dict[tuple[str, str, str], Callable[[Finding], bool]] = {
    ("parliament", "RESOURCE_STAR", "deploy"): _star_actions_are_declared_unscoped,
    ("parliament", "RESOURCE_STAR", "plan"): _star_actions_are_declared_unscoped,
    ("parliament", "RESOURCE_STAR", "boundary"): _actions_in(RUNTIME),
    ("parliament", "RESOURCE_STAR", "key"): lambda f: all(a.startswith("kms:") for a in f.detail),
    ("parliament", "RESOURCE_MISMATCH", "deploy"): _actions_in(ALB_LISTENERS | KMS_ALIAS | EC2_SPLIT_CREATES
                                                               | FIS_TEMPLATE_WRITES),
    # Both are authorized on the new resource and on what the call names, granted by separate statements (the
    # VPC or the environment's tagged subnets and groups).
    ("parliament", "RESOURCE_MISMATCH", "boundary"): _actions_in({"ec2:CreateNetworkAcl",
                                                                  "ec2:CreateNetworkInterface"}),
    # parliament's table predates ELB's documented key for tagging inside a create call.
    ("parliament", "UNKNOWN_CONDITION_FOR_ACTION", "deploy"): lambda f: f.detail == (
        "Unknown condition elasticloadbalancing:CreateAction for action elasticloadbalancing:AddTags"),
    ("parliament", "RESOURCE_POLICY_PRIVILEGE_ESCALATION", "deploy"): lambda f: "arn:aws:s3:::catalog-" in f.detail,
    ("parliament", "MALFORMED", "trust"): lambda f: f.detail == "Statement contains neither Resource nor "
                                                                 "NotResource",
    ("parliament", "UNKNOWN_FEDERATION_SOURCE", "trust"): lambda f: f.detail.endswith(
        f":oidc-provider/{perms.OIDC_HOST}"),
    ("cloudsplaining", "allows_data_exfiltration_actions", "boundary"): _actions_in(
        {"secretsmanager:GetSecretValue"}),
    ("cloudsplaining", "credentials_exposure", "boundary"): _actions_in({"rds-db:connect"}),
    ("cloudsplaining", "credentials_exposure", "deploy"): _actions_in({"ecr:GetAuthorizationToken"}),
    ("cloudsplaining", "permissions_management_without_constraints", "boundary"): _actions_in({"rds-db:connect"}),
    ("cloudsplaining", "infrastructure_modification", "boundary"): _actions_in(RUNTIME),
    ("cloudsplaining", "infrastructure_modification", "runtime"): _actions_in(VPC_LAMBDA | {"rds:ModifyDBCluster"}),
    ("parliament", "RESOURCE_STAR", "runtime"): _actions_in(VPC_LAMBDA),
}


@pytest.fixture(scope="module")
def all_findings(boot: Plan, chain: dict[str, Plan], plan_with: Any) -> list[Finding]:
    docs = documents(boot, chain, plan_with)
    assert len(docs) >= 50  # 24 role and boundary documents, 10 trusts, 5 keys, the layers' role policies
    return findings(docs)


def test_every_finding_is_explained(all_findings: list[Finding]) -> None:
    unexplained = [f for f in all_findings
                   if not EXPLAINED.get((f.tool, f.issue, f.kind), lambda _: False)(f)]
    assert not unexplained, "\n".join(f"{f.tool} {f.issue} in {f.document}: {str(f.detail)[:300]}"
                                      for f in unexplained)


def test_no_privilege_escalation_anywhere(all_findings: list[Finding]) -> None:
    assert not [f for f in all_findings if f.issue in ("allows_privilege_escalation", "service_wildcard")]


def test_each_explanation_is_in_the_delivery_docs() -> None:
    text = (REPO_ROOT / "docs" / "delivery.md").read_text()
    for tool, issue, kind in EXPLAINED:
        assert f"`{issue}` ({kind})" in text, f"docs/delivery.md does not explain {tool} {issue} ({kind})"


def test_the_linters_catch_a_wildcard_admin_policy() -> None:
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
    found = findings([("probe", "deploy", admin)])
    assert any(f.issue == "allows_privilege_escalation" for f in found)
    assert any(f.issue == "RESOURCE_STAR" for f in found)
    assert not EXPLAINED[("parliament", "RESOURCE_STAR", "deploy")](
        next(f for f in found if f.issue == "RESOURCE_STAR"))


def test_the_layers_are_all_linted(boot: Plan, chain: dict[str, Plan], plan_with: Any) -> None:
    names = [name for name, _, _ in documents(boot, chain, plan_with)]
    for layer in LAYER_NAMES:
        assert f"bootstrap/{layer}-boundary" in names and f"bootstrap/{layer}-deploy-1" in names
