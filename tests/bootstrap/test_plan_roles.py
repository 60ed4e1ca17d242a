"""Plan roles read no secret and change nothing but their stack's lock; each stack's key names exactly who may
decrypt it; previews run only in the layer's protected preview environment."""

from __future__ import annotations

import json

import pytest

from projects.bootstrap import access
from shared.declarations import upstream_of
from shared.plan.planner import Plan
from shared.runtime.layers import LAYER_NAMES
from tests.bootstrap.conftest import ACCOUNT, REPO, role_documents, statements
from tests.bootstrap.iam_eval import allows_action
from tests.conftest import SUFFIX

# Verbs of IAM actions that change something (the Service Authorization Reference's "Write", "Permissions
# management" and "Tagging" access levels start with these).
MUTATING = ("Create", "Delete", "Put", "Update", "Modify", "Attach", "Detach", "Pass", "Tag", "Untag", "Register",
            "Deregister", "Authorize", "Revoke", "Invoke", "Set", "Publish", "Add", "Remove", "Associate",
            "Disassociate", "Enable", "Disable", "Execute", "Start", "Stop", "Reboot", "Rotate", "Restore",
            "Replace", "Release", "Allocate", "Upload", "Initiate", "Complete", "Encrypt", "ReEncrypt",
            "Generate", "Schedule", "Cancel", "Reset", "Copy", "Import", "Send", "Subscribe", "Unsubscribe",
            "Apply", "Post", "Patch", "POST", "PUT", "PATCH", "DELETE", "Run", "Promote", "Failover")


def role(layer: str, kind: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/catalog-{layer}-{kind}-{SUFFIX}"


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_a_plan_role_reads_no_secret_value(boot: Plan, layer: str) -> None:
    docs = role_documents(boot, layer, "plan")
    for action in access.SECRET_READS:
        if action == "kms:Decrypt":
            continue  # only the stack keys: below
        assert not allows_action(docs, action), action  # on any resource, under any condition


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_a_plan_role_changes_nothing_but_its_lock(boot: Plan, layer: str) -> None:
    lock = f"arn:aws:s3:::catalog-state-{SUFFIX}-{ACCOUNT}/.pulumi/locks/organization/catalog-{layer}/{SUFFIX}/*"
    for statement in statements(role_documents(boot, layer, "plan")):
        if statement["Effect"] != "Allow":
            continue
        # BatchGetImage reads, BatchDeleteImage writes: the verb after "Batch" decides.
        writes = [a for a in statement["Action"] if a.split(":")[1].removeprefix("Batch").startswith(MUTATING)]
        if writes:
            assert set(writes) <= {"s3:PutObject", "s3:DeleteObject"} and statement["Resource"] == [lock], statement


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_a_plan_role_decrypts_only_its_stack_and_the_outputs_it_reads(boot: Plan, layer: str) -> None:
    keys = {name: boot.one("aws:kms/key:Key", f"{name}-secrets") for name in LAYER_NAMES}
    for kind in ("plan", "deploy"):
        decrypts = {r for s in statements(role_documents(boot, layer, kind)) if s["Effect"] == "Allow"
                    and any(a in ("kms:Decrypt", "kms:*", "kms:Decrypt*") for a in s["Action"]) for r in s["Resource"]}
        assert "*" not in decrypts
        assert len(decrypts) == 1 + len(upstream_of(layer)), decrypts
    # The key policies: the one place KMS decides (the account root has no kms:Decrypt to delegate).
    for name, key in keys.items():
        policy = json.loads(key.get("policy"))
        decrypters = {p for s in policy["Statement"] if s["Effect"] == "Allow" and "kms:Decrypt" in s["Action"]
                      for p in (s["Principal"]["AWS"] if isinstance(s["Principal"]["AWS"], list)
                                else [s["Principal"]["AWS"]])}
        readers = [n for n in LAYER_NAMES if name in upstream_of(n)]
        assert decrypters == {role(name, "deploy"), role(name, "plan"),
                              *(role(r, k) for r in readers for k in ("deploy", "plan"))}, name
        for statement in policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not [a for a in actions if a in ("kms:*", "kms:CreateGrant") or a.startswith("kms:Generate")]
            if statement["Principal"]["AWS"] == f"arn:aws:iam::{ACCOUNT}:root":
                assert not [a for a in actions if a in ("kms:Decrypt", "kms:Encrypt") or a.startswith("kms:ReEncrypt")]
        encrypters = {p for s in policy["Statement"] if "kms:Encrypt" in s["Action"]
                      for p in [s["Principal"]["AWS"]]}
        assert encrypters == {role(name, "deploy")}
    assert layer in keys


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_previews_run_only_in_the_protected_preview_environment(boot: Plan, layer: str) -> None:
    trust = json.loads(boot.by_name(f"{layer}-plan").get("assumeRolePolicy"))
    subjects = trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert f"repo:{REPO}:pull_request" not in subjects  # any pull request could assume it
    # Not the main ref: every layer's workflow runs on main, so that subject would let one layer's drift job
    # assume another layer's plan role.
    assert subjects == [f"repo:{REPO}:environment:{layer}-preview", f"repo:{REPO}:environment:{layer}-drift"]


def test_the_secrets_provider_names_each_layers_key(boot: Plan) -> None:
    template = boot.export_value("secretsProvider")
    for layer in LAYER_NAMES:
        alias = boot.one("aws:kms/alias:Alias", f"{layer}-secrets").get("name")
        assert template.replace("{layer}", layer) == f"awskms://{alias}?region=us-east-1"
