"""App layer under mocks: the Lambda function, its role, aliases, scaling, image and migrations."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from projects.app.image import image_env, parse_digest, source_hash
from projects.app.policies import ENI_ACTIONS, INDEX_ACTIONS, LOG_ACTIONS, TABLE_ACTIONS, XRAY_ACTIONS
from projects.app.settings import API_GATEWAY_INTEGRATION_LIMIT_S
from shared.plan.computed import computed_state
from shared.plan.planner import Plan
from tests.conftest import BASE_CONFIG, SUFFIX

FUNCTION = "aws:lambda/function:Function"
ALIAS = "aws:lambda/alias:Alias"
COMMAND = "command:local:Command"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
PC_TARGET = "aws:appautoscaling/target:Target"
PC_POLICY = "aws:appautoscaling/policy:Policy"
INVOCATION = "aws:lambda/invocation:Invocation"
FN_NAME = f"catalog-api-{SUFFIX}"
ACCOUNT = "123456789012"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app(chain: dict[str, Plan]) -> Plan:
    return chain["app"]


@pytest.fixture(scope="module")
def data(chain: dict[str, Plan]) -> Plan:
    return chain["data"]


@pytest.fixture(scope="module")
def network(chain: dict[str, Plan]) -> Plan:
    return chain["network"]


def position(plan: Plan, name: str) -> int:
    """Registration order under mocks: a resource registers only after what it depends on."""
    return [r.name for r in plan.resources].index(name)


def out(plan: Plan, token: str, name: str, key: str) -> str:
    """A computed output of a planned resource, recomputed the way the planner made it."""
    r = plan.one(token, name)
    return computed_state(r.type, r.name, r.inputs)[1][key]


def test_function_is_an_arm64_image_with_3_gb_in_the_private_subnets(app: Plan, network: Plan) -> None:
    fn = app.by_name("api")
    assert fn.get("name") == FN_NAME
    assert fn.get("packageType") == "Image"
    assert fn.get("runtime") is None and fn.get("handler") is None  # not allowed with images
    assert fn.get("architectures") == ["arm64"]
    assert fn.get("memorySize") == 3072
    assert fn.get("timeout") < API_GATEWAY_INTEGRATION_LIMIT_S
    assert fn.get("publish") is True
    assert fn.get("tracingConfig", "mode") == "Active"
    assert fn.get("vpcConfig", "subnetIds") == network.export_value("privateSubnetIds")
    assert fn.get("vpcConfig", "securityGroupIds") == [network.export_value("lambdaSecurityGroupId")]


# Stand-ins for the two CLIs the build script calls: each records its arguments (one line per call) and talks on
# stdout the way the real ones do, so the test sees whether only the digest reaches the command's stdout.
FAKE_CLI = """#!/bin/bash
echo "$(basename "$0") $*" >> "$CALLS"
case "$*" in
  "ecr get-login-password"*) echo "ecr-password" ;;
  "login "*) cat > /dev/null; echo "Login Succeeded" ;;
  "buildx build "*) echo "#1 pushing layers" ;;
  "buildx imagetools inspect "*) echo '"sha256:FAKE_DIGEST"' ;;
  *) echo "unexpected call: $*" >&2; exit 3 ;;
esac
"""


def run_build(build: Any, tmp_path: Path) -> tuple[str, list[str]]:
    """Run the planned build command (its interpreter, script and environment) against the fake CLIs."""
    digest = "4" * 64
    for cli in ("aws", "docker"):
        (tmp_path / cli).write_text(FAKE_CLI.replace("FAKE_DIGEST", digest))
        (tmp_path / cli).chmod(0o755)
    env = {**build.get("environment"), "PATH": f"{tmp_path}:/usr/bin:/bin", "CALLS": str(tmp_path / "calls")}
    done = subprocess.run([*build.get("interpreter"), build.get("create")], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout, (tmp_path / "calls").read_text().splitlines()


def test_image_build_pushes_one_arm64_manifest_and_prints_only_its_digest(app: Plan, tmp_path: Path) -> None:
    build = app.one(COMMAND)
    stdout, calls = run_build(build, tmp_path)
    assert parse_digest(stdout) == f"sha256:{'4' * 64}" and stdout.strip() == f"sha256:{'4' * 64}"
    repo_url = app.export_value("ecrRepositoryUrl")
    assert repo_url == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/catalog-api-{SUFFIX}"
    sources = source_hash()
    tag = f"{repo_url}:src-{sources[:16]}"
    # The login is one pipeline (password on stdin, never in state or argv): its two sides run at once.
    assert sorted(calls[:2]) == [
        "aws ecr get-login-password --region us-east-1",
        f"docker login --username AWS --password-stdin {ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
    ]
    assert calls[2:] == [
        # One linux/arm64 manifest (no attestation index) from the API's folder, relative to projects/app so
        # that no checkout path lands in state.
        f"docker buildx build --platform linux/arm64 --provenance=false --sbom=false --tag {tag} --push "
        "../../containers/catalog-api",
        f"docker buildx imagetools inspect {tag} --format {{{{json .Manifest.Digest}}}}",
    ]
    assert (REPO / "projects" / "app" / build.get("environment", "CONTEXT_DIR") / "Dockerfile").is_file()
    # New sources replace the command (a new build); the same sources do not.
    assert build.get("triggers") == [sources]


def test_image_build_fails_clearly_when_the_push_prints_no_digest(app: Plan, tmp_path: Path) -> None:
    from shared.runtime.errors import CatalogError

    build = app.one(COMMAND)
    (tmp_path / "docker").write_text('#!/bin/bash\necho "error: denied" >&2; exit 1\n')
    (tmp_path / "docker").chmod(0o755)
    (tmp_path / "aws").write_text("#!/bin/bash\necho pw\n")
    (tmp_path / "aws").chmod(0o755)
    env = {**build.get("environment"), "PATH": f"{tmp_path}:/usr/bin:/bin"}
    done = subprocess.run([*build.get("interpreter"), build.get("create")], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode != 0 and done.stdout == ""  # set -e: the failed login stops the script
    with pytest.raises(CatalogError, match="did not end its output with an image digest"):
        parse_digest(done.stdout)


def test_function_and_migrations_run_the_built_image_by_digest(app: Plan) -> None:
    """The function names the image by the digest the build printed, never by a (movable) tag."""
    build = app.one(COMMAND)
    printed = computed_state(build.type, build.name, build.inputs)[1]["stdout"]
    uri = app.by_name("api").get("imageUri")
    assert uri == f"{app.export_value('ecrRepositoryUrl')}@{printed.strip()}"
    assert app.by_name("migrate").get("imageUri") == uri
    assert app.one(INVOCATION).get("triggers") == {"imageUri": uri}


def test_image_repository_scans_and_expires_old_images(app: Plan) -> None:
    repo = app.one("aws:ecr/repository:Repository")
    assert repo.get("forceDelete") is True and repo.get("imageScanningConfiguration", "scanOnPush") is True
    rules = json.loads(app.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").get("policy"))["rules"]
    assert rules[0]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10}
    assert rules[0]["action"]["type"] == "expire"


def test_log_group_exists_first_with_retention(app: Plan) -> None:
    group = app.by_name("api-logs")
    assert group.get("name") == f"/aws/lambda/{FN_NAME}"
    assert group.get("retentionInDays") == 30
    fn = app.by_name("api")
    assert fn.get("loggingConfig", "logGroup") == group.get("name")
    assert position(app, "api-logs") < position(app, "api")


def test_environment_wires_the_proxy_tables_and_metrics(app: Plan, data: Plan) -> None:
    env = app.by_name("api").get("environment", "variables")
    assert env["DB_WRITER_HOST"] == data.export_value("proxyEndpoint")
    assert env["DB_READER_HOST"] == data.export_value("proxyReadOnlyEndpoint")
    assert env["DB_PORT"] == str(int(data.export_value("port")))
    assert env["DB_NAME"] == data.export_value("databaseName")
    assert env["DB_USER"] == data.export_value("databaseUser")
    assert env["DB_IAM_AUTH"] == "true" and env["DB_POOL_MAX"] == "2"
    assert env["DB_CA_BUNDLE"] == (image_env("DB_CA_BUNDLE") or "/var/task/certs/global-bundle.pem")
    assert env["SESSIONS_TABLE"] == data.export_value("sessionsTableName")
    assert env["CACHE_TABLE"] == data.export_value("cacheTableName")
    assert env["POWERTOOLS_SERVICE_NAME"] == app.export_value("metricsService") == FN_NAME
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "CatalogApi"
    assert {env[k] for k in ("CACHE_TTL_SECONDS", "SESSION_TTL_SECONDS", "RESERVATION_TTL_SECONDS")} == {
        "5", "1800", "600"}
    assert "AWS_REGION" not in env  # reserved: Lambda sets it
    # Bearer-token verification (containers/catalog-api/src/config.mjs loadAuthConfig): the app layer's auth*.
    assert env["AUTH_ISSUER"] == app.export_value("authIssuer") == BASE_CONFIG["catalog-app:authIssuer"]
    assert env["AUTH_AUDIENCE"] == app.export_value("authAudience")
    assert env["AUTH_PUBLIC_KEY_PEM"].strip() == BASE_CONFIG["catalog-app:authPublicKeyPem"].strip()
    assert "AUTH_JWKS_URL" not in env
    assert (env["AUTH_ROLE_CLAIM"], env["AUTH_CLOCK_SKEW_SECONDS"]) == ("role", "30")
    assert all(isinstance(v, str) for v in env.values())


def test_role_policy_names_exact_actions_and_resources(app: Plan, data: Plan) -> None:
    doc = json.loads(app.by_name("api-role-policy").get("policy"))
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert all(s["Effect"] == "Allow" for s in by_sid.values())
    log_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/{FN_NAME}"
    sessions, cache = data.export_value("sessionsTableArn"), data.export_value("cacheTableArn")
    room = data.export_value("waitingRoomTableArn")
    expected = {
        "OwnLogGroup": (set(LOG_ACTIONS), [log_arn, f"{log_arn}:*"]),
        "VpcNetworkInterfaces": (set(ENI_ACTIONS), "*"),
        "ProxyIamAuth": ({"rds-db:connect"}, [
            f"arn:aws:rds-db:us-east-1:{ACCOUNT}:dbuser:{data.export_value('proxyResourceId')}/"
            f"{data.export_value('databaseUser')}"]),
        "Tables": (set(TABLE_ACTIONS), [sessions, cache]),
        "TableIndexes": (set(INDEX_ACTIONS), [f"{sessions}/index/{n}" for n in
                                              data.export_value("sessionsTableIndexNames")]
                         + [f"{cache}/index/{n}" for n in data.export_value("cacheTableIndexNames")]),
        # The waiting room: single items only (no Query, no Batch, no index: the queue is the controller's).
        "WaitingRoomTable": ({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                              "dynamodb:ConditionCheckItem"}, [room]),
        "XRay": ({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "*"),
        # The waiting room's HMAC key: read, nothing else (its rotation belongs to the data layer).
        "WaitingRoomKey": ({"secretsmanager:GetSecretValue"}, [data.export_value("waitingRoomKeySecretArn")]),
    }
    assert {sid: (set(s["Action"]), s["Resource"]) for sid, s in by_sid.items()} == expected
    assert set(XRAY_ACTIONS) == expected["XRay"][0]
    assert not any("*" in a for s in doc["Statement"] for a in s["Action"])
    assert "dynamodb:Scan" not in TABLE_ACTIONS and not any(a.startswith("logs:Create") and "Group" in a
                                                             for a in LOG_ACTIONS)
    trust = json.loads(app.by_name("api-role").get("assumeRolePolicy"))
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]
    # No managed policy: AWSLambdaVPCAccessExecutionRole would add logs:* on "*".
    assert not [r for r in app.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if r.get("role") == f"catalog-api-{SUFFIX}"]


def test_migrations_run_in_the_new_version_before_live_moves(app: Plan) -> None:
    run = app.one(INVOCATION)
    fn, migrate = app.by_name("api"), app.by_name("migrate")
    assert json.loads(run.get("input")) == {"catalogTask": "migrate"}
    # The migrate function: same image, its own role (the only one that reads the master secret).
    assert run.get("functionName") == migrate.get("name") == f"catalog-api-migrate-{SUFFIX}"
    assert migrate.get("imageUri") == fn.get("imageUri")
    assert run.get("qualifier") == out(app, FUNCTION, "migrate", "version") == "1"
    assert run.get("triggers") == {"imageUri": fn.get("imageUri")}
    assert position(app, "api-migrate") < position(app, "api-live")


def test_aliases_live_and_canary_point_at_the_published_version(app: Plan) -> None:
    live, canary = app.by_name("api-live"), app.by_name("api-canary")
    assert (live.get("name"), canary.get("name")) == ("live", "canary")
    assert live.get("functionVersion") == canary.get("functionVersion") == "1"
    assert app.export_value("aliasName") == "live"


def test_provisioned_concurrency_scales_live_from_2_to_10_at_70_percent(app: Plan) -> None:
    target = app.one(PC_TARGET)
    assert target.get("serviceNamespace") == "lambda"
    assert target.get("scalableDimension") == "lambda:function:ProvisionedConcurrency"
    assert target.get("resourceId") == f"function:{FN_NAME}:live"
    assert (target.get("minCapacity"), target.get("maxCapacity")) == (2, 10)
    policy = app.one(PC_POLICY)
    assert policy.get("policyType") == "TargetTrackingScaling"
    assert policy.get("resourceId") == target.get("resourceId")
    config = policy.get("targetTrackingScalingPolicyConfiguration")
    assert config["targetValue"] == 0.7
    assert config["predefinedMetricSpecification"]["predefinedMetricType"] == "LambdaProvisionedConcurrencyUtilization"
    assert config["disableScaleIn"] is False
    # Out quickly, in slowly: a changed cooldown changes how the alias follows a surge.
    assert (config["scaleOutCooldown"], config["scaleInCooldown"]) == (30, 180)
    assert (app.export_value("provisionedConcurrencyMin"), app.export_value("provisionedConcurrencyMax")) == (2, 10)
    # Scaling owns the alias's provisioned concurrency: no fixed config competes with it.
    assert not app.of_type("aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")


def test_scaling_canary_and_tuning_settings_are_applied(plan_with) -> None:
    plan = plan_with("app", {"catalog-app:provisionedConcurrencyMin": "3",
                             "catalog-app:provisionedConcurrencyMax": "8",
                             "catalog-app:provisionedConcurrencyTarget": "0.5",
                             "catalog-app:canaryVersion": "3",
                             "catalog-app:logRetentionDays": "90"})
    target = plan.one(PC_TARGET)
    assert (target.get("minCapacity"), target.get("maxCapacity")) == (3, 8)
    assert plan.one(PC_POLICY).get("targetTrackingScalingPolicyConfiguration", "targetValue") == 0.5
    assert plan.by_name("api-canary").get("functionVersion") == "3"
    assert plan.by_name("api-live").get("functionVersion") == "1"
    assert plan.by_name("api-logs").get("retentionInDays") == 90
    assert plan.by_name("api-access-logs").get("retentionInDays") == 90


def test_prebuilt_image_uri_builds_nothing(plan_with) -> None:
    uri = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/catalog-api@sha256:{'ab' * 32}"
    plan = plan_with("app", {"catalog-app:imageUri": uri})
    assert not plan.of_type(COMMAND)
    assert plan.by_name("api").get("imageUri") == uri
    assert plan.one(INVOCATION).get("triggers") == {"imageUri": uri}
    assert plan.of_type("aws:ecr/repository:Repository")  # still exported, for CI pushes


@pytest.mark.parametrize("stdout, digest", [
    (f"sha256:{'a' * 64}", f"sha256:{'a' * 64}"),
    (f'Login Succeeded\n"sha256:{"b" * 64}"\n\n', f"sha256:{'b' * 64}"),
])
def test_parse_digest_takes_the_last_line(stdout: str, digest: str) -> None:
    assert parse_digest(stdout) == digest


@pytest.mark.parametrize("stdout", ["", "sha256:abc", f"sha256:{'a' * 64}\nerror: push failed", "latest"])
def test_parse_digest_refuses_anything_else(stdout: str) -> None:
    from shared.runtime.errors import CatalogError

    with pytest.raises(CatalogError, match="did not end its output with an image digest"):
        parse_digest(stdout)
