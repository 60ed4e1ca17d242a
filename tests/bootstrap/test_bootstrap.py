"""The bootstrap under mocks: state bucket, secrets key, GitHub OIDC provider and two roles per layer; each role
trusted only by its layer's workflows and allowed only its layer's services, tagged resources and state."""

from __future__ import annotations

import fnmatch
import json
import runpy
from typing import Any

import pytest
from invoke import Program

from projects.bootstrap import access as table
from projects.bootstrap import permissions as perms
from shared.declarations import upstream_of
from shared.deploy import bootstrap as project
from shared.plan.planner import Plan
from shared.runtime.errors import CatalogError
from shared.runtime.layers import LAYER_NAMES, REPO_ROOT
from tests.bootstrap.conftest import BootstrapMemory
from tests.conftest import SUFFIX

REPO = "acme/catalog-platform"
ACCOUNT = "123456789012"
APP_ONLY = ("lambda:", "elasticloadbalancing:", "apigateway:", "ecr:", "cloudfront:")


@pytest.fixture(scope="module")
def boot() -> Plan:
    return project.plan(SUFFIX, project.config_for(REPO))


def docs_of(plan: Plan, layer: str, kind: str) -> list[dict[str, Any]]:
    prefix = f"{layer}-{kind}-"
    return [json.loads(r.get("policy")) for r in plan.of_type("aws:iam/policy:Policy") if r.name.startswith(prefix)]


def statements(plan: Plan, layer: str, kind: str) -> list[dict[str, Any]]:
    return [s for doc in docs_of(plan, layer, kind) for s in doc["Statement"]]


def actions(stmts: list[dict[str, Any]], effect: str = "Allow") -> set[str]:
    return {a for s in stmts if s["Effect"] == effect for a in s["Action"]}


def test_the_bootstrap_is_not_a_layer() -> None:
    assert project.NAME not in LAYER_NAMES
    assert (REPO_ROOT / "projects" / "bootstrap" / "README.md").is_file()


def test_plans_the_state_bucket_with_its_baseline(boot: Plan) -> None:
    bucket = boot.one("aws:s3/bucket:Bucket")
    assert bucket.get("bucket") == f"catalog-state-{SUFFIX}-{ACCOUNT}"
    assert bucket.get("forceDestroy") is True  # destroyable like every stack
    assert boot.one("aws:s3/bucketVersioning:BucketVersioning").get("versioningConfiguration", "status") == "Enabled"
    sse = boot.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.get("rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm") in ("AES256", "aws:kms")
    block = boot.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block.get(k) is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                               "restrictPublicBuckets"))
    ownership = boot.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ownership.get("rule", "objectOwnership") == "BucketOwnerEnforced"
    policy = json.loads(boot.one("aws:s3/bucketPolicy:BucketPolicy").get("policy"))
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_plans_the_secrets_key_and_the_oidc_provider(boot: Plan) -> None:
    assert all(key.get("enableKeyRotation") is True for key in boot.of_type("aws:kms/key:Key"))
    assert boot.one("aws:kms/alias:Alias", "data-secrets").get("name") == f"alias/catalog-data-secrets-{SUFFIX}"
    assert boot.export_value("secretsProvider") == f"awskms://alias/catalog-{{layer}}-secrets-{SUFFIX}?region=us-east-1"
    assert boot.export_value("stateBackend") == f"s3://catalog-state-{SUFFIX}-{ACCOUNT}"
    oidc = boot.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.get("url") == "https://token.actions.githubusercontent.com"
    assert oidc.get("clientIdLists") == ["sts.amazonaws.com"]


def test_plans_a_deploy_and_a_plan_role_per_layer(boot: Plan) -> None:
    names = sorted(r.name for r in boot.of_type("aws:iam/role:Role"))
    assert names == sorted(f"{layer}-{kind}" for layer in LAYER_NAMES for kind in ("deploy", "plan"))
    for role in boot.of_type("aws:iam/role:Role"):
        assert role.get("name").endswith(f"-{SUFFIX}")  # named through physical_name
        assert role.get("tags", "Layer") == "bootstrap"  # so no layer role can touch it (Layer tag conditions)
    for layer in LAYER_NAMES:
        for kind in ("deploy", "plan"):
            attached = [r for r in boot.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                        if r.name.startswith(f"{layer}-{kind}-")]
            assert len(attached) == perms.policy_count(layer, SUFFIX, write=kind == "deploy") >= 1


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_each_role_is_trusted_only_by_its_layers_workflows(boot: Plan, layer: str) -> None:
    for kind, subjects in (("deploy", [f"repo:{REPO}:environment:{layer}-{SUFFIX}"]),
                           ("plan", [f"repo:{REPO}:environment:{layer}-preview",
                                     f"repo:{REPO}:environment:{layer}-drift"])):
        trust = json.loads(boot.by_name(f"{layer}-{kind}").get("assumeRolePolicy"))
        (statement,) = trust["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"]["Federated"] == boot.export_value("oidcProviderArn")
        assert statement["Condition"] == {"StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": subjects}}


def test_the_data_role_cannot_touch_the_app_layers_resource_types(boot: Plan) -> None:
    rotation = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:catalog-db-rotation-{SUFFIX}"
    for kind in ("deploy", "plan"):
        stmts = statements(boot, "data", kind)
        # The one exception: the layer's own rotation function (its exact name).
        assert all(s["Resource"] == [rotation] for s in stmts
                   if s["Effect"] == "Allow" and any(a.startswith("lambda:") for a in s["Action"]))
        allowed = actions([s for s in stmts if s["Resource"] != [rotation]])
        assert allowed, kind
        assert not [a for a in allowed if a.startswith(APP_ONLY)], kind


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_tag_scoped_services_require_the_layer_tag(layer: str) -> None:
    facts = perms.placeholder_facts(SUFFIX)
    rendered = {s.sid: s.render() for s in perms.service_statements(layer, facts, write=True)}
    for index, service in enumerate(perms.ACCESS[layer].services):
        base = perms._sid(layer, service.prefix, str(index))
        for part in ("Inspect", "Manage"):
            statement = rendered.get(f"{base}{part}")
            if statement is None:
                continue
            if service.tag_scoped:
                tags = {"aws:ResourceTag/Layer": layer, "aws:ResourceTag/Environment": SUFFIX}
                assert statement["Condition"]["StringEquals"] == tags, statement["Sid"]
            else:
                assert "*" not in statement["Resource"], statement["Sid"]  # scoped by name or ARN type instead
        create = rendered.get(f"{base}Create")
        if create and service.tag_scoped:
            assert create["Condition"]["StringEquals"] == {"aws:RequestTag/Layer": layer,
                                                           "aws:RequestTag/Environment": SUFFIX}
            assert create["Condition"]["ForAllValues:StringEquals"] == {"aws:TagKeys": list(perms.TAG_KEYS)}
    # Wildcard resources only on the statements that say AWS forces them.
    for sid, statement in rendered.items():
        if statement["Resource"] == ["*"] and statement["Effect"] == "Allow":
            if sid.endswith("Create"):  # a create call without a resource type (kms:CreateKey): tags decide
                assert statement["Condition"]["StringEquals"]["aws:RequestTag/Layer"] == layer, sid
                continue
            assert sid.endswith(("Describe", "Unscoped")), sid


def test_data_statements_on_tag_scoped_services_name_the_data_layer(boot: Plan) -> None:
    scoped = [s for s in statements(boot, "data", "deploy")
              if any(a.startswith(("rds:", "dynamodb:", "secretsmanager:")) for a in s["Action"])
              and s["Sid"].endswith(("Manage", "Inspect"))]
    assert scoped
    # The RDS-managed master secret (rds!cluster-<uuid>) is named and tagged by RDS, never by the layer.
    rds_managed = [f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!cluster-*"]
    assert all(s["Condition"]["StringEquals"]["aws:ResourceTag/Layer"] == "data"
               for s in scoped if s["Resource"] != rds_managed)


def with_sale_window(plan_with: Any, chain: dict[str, Plan], layer: str) -> list[Any]:
    """The layer's resources, plus those a declared sale window adds (schedules exist only then) and, for
    observability, the sale rehearsal's fault experiments (only with faultExperiments set)."""
    from tests.conftest import plan_with_fault_injection
    from tests.ops.test_sale_schedules import APP_WINDOW, DATA_WINDOW, OBS_WINDOW, windows

    resources = list(chain[layer].custom_resources())
    window = {"app": APP_WINDOW, "data": DATA_WINDOW, "observability": OBS_WINDOW}.get(layer)
    if window:
        resources += plan_with(layer, {f"catalog-{layer}:saleWindows": windows(window)}).custom_resources()
    if layer == "observability":
        resources += plan_with_fault_injection(chain, {
            "catalog-observability:faultExperiments": "aurora-failover,lambda-errors,lambda-latency",
        }).custom_resources()
    return resources


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_the_table_covers_the_services_of_the_layers_plan(chain: dict[str, Plan], plan_with: Any,
                                                          layer: str) -> None:
    declared = {p for r in with_sale_window(plan_with, chain, layer) for p in table.iam_prefixes(r.type)}
    grants = perms.ACCESS[layer]
    assert declared <= grants.prefixes, f"{layer}: no grants for {sorted(declared - grants.prefixes)}"
    writes = {a.split(":")[0] for s in grants.services for a in (*s.manage, *s.create, *s.unscoped)}
    assert writes <= declared, f"{layer} may write services its program never declares: {sorted(writes - declared)}"


def test_each_layer_reaches_only_its_own_schedules(chain: dict[str, Plan], plan_with: Any) -> None:
    """Schedules take no tags: their names keep the data layer's sale steps and the app's waiting room controller
    apart, so neither team can disable the other's schedule during a sale."""
    facts = perms.placeholder_facts(SUFFIX)

    def patterns(layer: str) -> list[str]:
        return [a for s in perms.ACCESS[layer].services if s.prefix == "scheduler" for a in perms._arns(s, facts)]

    arn = f"arn:aws:scheduler:{facts.region}:{facts.account}:schedule/default/{{}}"
    for layer, other in (("data", "app"), ("app", "data")):
        names = [r.get("name") for r in with_sale_window(plan_with, chain, layer)
                 if r.type == "aws:scheduler/schedule:Schedule"]
        assert names, f"{layer} plans no schedule"
        for name in names:
            assert any(fnmatch.fnmatchcase(arn.format(name), p) for p in patterns(layer)), (layer, name)
            assert not any(fnmatch.fnmatchcase(arn.format(name), p) for p in patterns(other)), (other, name)


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_the_layers_resource_names_fall_inside_its_arns(chain: dict[str, Plan], layer: str) -> None:
    facts = perms.placeholder_facts(SUFFIX)
    arns = [a for s in perms.ACCESS[layer].services for a in perms._arns(s, facts)]
    named = {"aws:s3/bucket:Bucket": ("bucket", "arn:aws:s3:::{}"),
             "aws:iam/role:Role": ("name", f"arn:aws:iam::{ACCOUNT}:role/{{}}"),
             "aws:lambda/function:Function": ("name", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{{}}"),
             "aws:dynamodb/table:Table": ("name", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{{}}"),
             "aws:ecr/repository:Repository": ("name", f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{{}}"),
             "aws:sns/topic:Topic": ("name", f"arn:aws:sns:us-east-1:{ACCOUNT}:{{}}"),
             "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{{}}"),
             "aws:cloudwatch/logGroup:LogGroup": ("name", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{{}}")}
    for resource in chain[layer].custom_resources():
        if resource.type in named:
            key, template = named[resource.type]
            arn = template.format(resource.get(key))
            assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in arns), f"{layer}: {arn}"


def test_the_state_bucket_is_outside_every_layers_bucket_grants() -> None:
    facts = perms.placeholder_facts(SUFFIX)
    state = f"arn:aws:s3:::{facts.state_bucket}"
    for layer in LAYER_NAMES:
        for service in perms.ACCESS[layer].services:
            if service.prefix == "s3":
                assert not any(fnmatch.fnmatchcase(state, a) for a in perms._arns(service, facts)), layer


def test_the_tag_keys_cover_every_tag_the_plans_declare(chain: dict[str, Plan]) -> None:
    keys = {k for plan in chain.values() for r in plan.custom_resources() for k in (r.get("tags") or {})}
    assert keys <= set(perms.TAG_KEYS), sorted(keys - set(perms.TAG_KEYS))


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_state_access_is_own_stack_write_upstream_read(boot: Plan, layer: str) -> None:
    assert perms.ACCESS[layer].reads == upstream_of(layer)
    bucket = f"arn:aws:s3:::catalog-state-{SUFFIX}-{ACCOUNT}"
    deploy = statements(boot, layer, "deploy")
    plan = statements(boot, layer, "plan")
    writes = {r for s in deploy if s["Effect"] == "Allow" and "s3:PutObject" in s["Action"] for r in s["Resource"]
              if r.startswith(bucket)}
    own = f"{bucket}/.pulumi/stacks/catalog-{layer}/{SUFFIX}.json*"
    assert own in writes
    assert all(f"catalog-{layer}/" in r for r in writes), writes
    reads = {r for s in deploy if "s3:GetObject" in s["Action"] for r in s["Resource"] if r.startswith(bucket)}
    for upstream in upstream_of(layer):
        assert f"{bucket}/.pulumi/stacks/catalog-{upstream}/{SUFFIX}.json*" in reads
    others = [name for name in LAYER_NAMES if name not in (layer, *upstream_of(layer))]
    assert not [r for r in reads if any(f"catalog-{o}/" in r for o in others)]
    plan_writes = {r for s in plan if "s3:PutObject" in s["Action"] for r in s["Resource"] if r.startswith(bucket)}
    assert plan_writes == {f"{bucket}/.pulumi/locks/organization/catalog-{layer}/{SUFFIX}/*"}  # lock only
    kms = {a for s in deploy for a in s["Action"] if a.startswith("kms:Encrypt") or a.startswith("kms:Decrypt")}
    assert kms == {"kms:Encrypt", "kms:Decrypt"}
    assert "kms:Encrypt" not in actions(plan)


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_plan_roles_only_read(boot: Plan, layer: str) -> None:
    verbs = ("Create", "Delete", "Put", "Update", "Modify", "Attach", "Pass", "Tag", "Untag", "Register",
             "Authorize", "Revoke", "Invoke", "Set", "Publish", "Add", "Remove")
    for action in actions(statements(boot, layer, "plan")):
        if action in ("s3:PutObject", "s3:DeleteObject"):
            continue  # the lock object only (test above)
        assert not action.split(":")[1].startswith(verbs), action


def test_every_document_fits_a_managed_policy(boot: Plan) -> None:
    for policy in boot.of_type("aws:iam/policy:Policy"):
        assert perms.policy_size(json.loads(policy.get("policy"))) <= perms.MANAGED_POLICY_MAX, policy.name


def test_pass_role_is_limited_to_the_service_that_runs_it() -> None:
    facts = perms.placeholder_facts(SUFFIX)
    for layer in LAYER_NAMES:
        passing = [s.render() for s in perms.service_statements(layer, facts, write=True)
                   if "iam:PassRole" in s.actions]
        if perms.ACCESS[layer].pass_role is None:
            assert passing == []
            continue
        (statement,) = passing
        assert statement["Condition"]["StringEquals"]["iam:PassedToService"]
        assert statement["Condition"]["StringEquals"]["aws:ResourceTag/Layer"] == layer


def run_bootstrap(*argv: str) -> int:
    namespace = runpy.run_path(str(REPO_ROOT / "tasks.py"))["ns"]
    try:
        Program(namespace=namespace, version="test").run(["invoke", "bootstrap", *argv])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.parametrize(("argv", "needle"), [
    (["--github-repo", "acme", "--suffix", "qa"], "githubRepo: 'acme' is not owner/repo"),
    (["--github-repo", "-acme/x", "--suffix", "qa"], "owner '-acme' must be 1-39 letters"),
    (["--github-repo", "acme/x y", "--suffix", "qa"], "repository 'x y' must be 1-100 letters"),
    (["--github-repo", "", "--suffix", "qa"], "githubRepo: is required"),
    (["--github-repo", REPO, "--suffix", "qa", "--layer", "cdn"], "unknown layer 'cdn'"),
    (["--github-repo", REPO, "--suffix", "qa", "--state-bucket", "Acme_State"], "breaks S3's rule"),
    (["--github-repo", REPO, "--suffix", "qa", "--state-bucket", "ab"], "has 2 characters; S3 allows 3-63"),
    (["--github-repo", REPO, "--suffix", "qa", "--state-bucket", "192.168.1.1"], "formatted as an IP address"),
    (["--github-repo", REPO, "--suffix", "qa", "--state-bucket", "xn--state"], "reserved prefix 'xn--'"),
    (["--github-repo", REPO, "--suffix", "qa", "--state-bucket", "acme.state"], "has a period"),
    (["--github-repo", REPO, "--suffix", "Q_A"], "suffix 'Q_A' has uppercase letters"),
])
def test_bad_input_is_one_line_naming_the_value_and_rule(argv: list[str], needle: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bootstrap(*argv, "--offline") == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err


def test_destroy_needs_yes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bootstrap("--github-repo", REPO, "--suffix", "qa", "--destroy") == 2
    assert "add --yes" in capsys.readouterr().err


def test_offline_bootstrap_prints_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bootstrap("--github-repo", REPO, "--suffix", "qa", "--offline", "--layer", "data") == 0
    out = capsys.readouterr().out
    assert "aws:iam/openIdConnectProvider:OpenIdConnectProvider" in out
    assert "catalog-data-deploy-qa" in out and "catalog-app-deploy-qa" not in out


def test_validate_refuses_before_anything_runs() -> None:
    with pytest.raises(CatalogError, match="unknown layer 'nope'"):
        project.validate("qa", project.config_for(REPO, ["nope"]))


def test_preview_by_default_then_up_with_yes_then_destroy(memory: BootstrapMemory,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run_bootstrap("--github-repo", REPO, "--suffix", "qa") == 0
    assert memory.ops("preview") == [("preview", "bootstrap")] and not memory.ops("up")
    config = memory.get_config(project.TARGET, "qa")
    assert config["catalog-bootstrap:githubRepo"].value == REPO
    assert run_bootstrap("--github-repo", REPO, "--suffix", "qa", "--yes", "--skip-github-check") == 0
    assert memory.ops("up") == [("up", "bootstrap")]
    assert f"stateBackend = s3://catalog-state-qa-{ACCOUNT}" in capsys.readouterr().out
    assert run_bootstrap("--github-repo", REPO, "--suffix", "qa", "--destroy", "--yes") == 0
    assert memory.ops("destroy") == [("destroy", "bootstrap")]
    assert not [op for op in memory.calls if op[1] in LAYER_NAMES]  # no layer's stack touched


@pytest.mark.parametrize(("existing", "new"), [("prod-eu", "eu"), ("eu", "prod-eu"), ("eu-1", "prod-eu-1")])
def test_a_suffix_whose_names_overlap_another_environments_is_refused(
        memory: BootstrapMemory, capsys: pytest.CaptureFixture[str], existing: str, new: str) -> None:
    # catalog-*-eu also matches catalog-products-prod-eu: the two environments' policies would overlap.
    assert run_bootstrap("--github-repo", REPO, "--suffix", existing, "--yes", "--skip-github-check") == 0
    capsys.readouterr()
    assert run_bootstrap("--github-repo", REPO, "--suffix", new, "--yes", "--skip-github-check") != 0
    err = capsys.readouterr().err.strip()
    assert f"suffix {new!r} overlaps environment {existing!r}" in err and "pick a suffix" in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert ("ensure", "bootstrap", new) not in memory.calls  # nothing changed
    for fine in (existing, "qa", "eux"):  # the same environment again, or unrelated ones
        assert run_bootstrap("--github-repo", REPO, "--suffix", fine) == 0


def test_overlapping_suffixes_are_the_hyphenated_tails() -> None:
    from shared.runtime.naming import overlapping_suffix

    assert overlapping_suffix("eu", ["prod-eu", "qa"]) == "prod-eu"
    assert overlapping_suffix("prod-eu", ["eu"]) == "eu"
    assert overlapping_suffix("eu", ["neu", "eu", "eu-prod", "qa"]) is None  # no hyphenated tail, itself, a head
