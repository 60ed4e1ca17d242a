"""The GitHub workflows: every layer in LAYERS has its pipeline with the right path filters (derived from what it
reads) and role variables, AWS access only through OIDC, actions pinned by commit SHA, one deploy per stack at a
time, and CODEOWNERS naming a team per layer. actionlint and zizmor run over the same files in `invoke test`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.declarations import upstream_of
from shared.runtime.layers import LAYER_NAMES, REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
REUSABLE = "./.github/workflows/layer.yml"
WORKLOADS = {"app": ["containers/catalog-api/**"], "edge": ["projects/edge/functions/**"]}


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


# What importing a producer's contract runs in the consumer's deploy: the package's __init__.py, then outputs.py.
CONTRACT_FILES = ("__init__.py", "outputs.py")


def contract_paths(layer: str) -> set[str]:
    return {f"projects/{producer}/{name}" for producer in upstream_of(layer) for name in CONTRACT_FILES}


def expected_paths(layer: str) -> set[str]:
    # The layer, its tests, its workload, the contracts it reads, and everything a deploy runs through (shared/,
    # tasks.py, the projects package, the dependencies, the workflows): a change to the tools previews every layer.
    return {f"projects/{layer}/**", f"tests/{layer}/**", "tests/conftest.py", "tests/support/**", "shared/**",
            "tasks.py", "projects/__init__.py", "pyproject.toml", f".github/workflows/catalog-{layer}.yml",
            ".github/workflows/layer.yml", *WORKLOADS.get(layer, []), *contract_paths(layer)}


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_every_layer_has_its_workflow_with_its_path_filters(layer: str) -> None:
    path = WORKFLOWS / f"catalog-{layer}.yml"
    assert path.is_file(), f"layer {layer} has no workflow .github/workflows/catalog-{layer}.yml"
    on = load(path)["on"]
    for event in ("pull_request", "push"):
        paths = set(on[event]["paths"])
        assert expected_paths(layer) <= paths, f"{event}: missing {sorted(expected_paths(layer) - paths)}"
        others = {f"projects/{o}/**" for o in LAYER_NAMES if o != layer}
        assert not paths & others, f"{event} of {layer} runs on other layers' folders: {sorted(paths & others)}"
        # Of another layer's folder, only the contract files it reads: nothing else of theirs runs in this deploy.
        foreign = {p for p in paths if p.startswith("projects/") and not p.startswith(f"projects/{layer}/")
                   and p not in contract_paths(layer) and p != "projects/__init__.py"}
        assert not foreign, foreign
    assert on["push"]["branches"] == ["main"]
    assert on["schedule"], "drift runs on a schedule"


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_every_layer_calls_the_reusable_workflow_with_its_roles(layer: str) -> None:
    jobs = load(WORKFLOWS / f"catalog-{layer}.yml")["jobs"]
    upper = layer.upper()
    expected = {"preview": ("preview", f"CATALOG_{upper}_PLAN_ROLE_ARN"),
                "deploy": ("up", f"CATALOG_{upper}_ROLE_ARN"),
                "drift": ("drift", f"CATALOG_{upper}_PLAN_ROLE_ARN")}
    for job, (operation, variable) in expected.items():
        assert jobs[job]["uses"] == REUSABLE
        inputs = jobs[job]["with"]
        assert inputs["layer"] == layer and inputs["operation"] == operation
        assert inputs["role"] == f"${{{{ vars.{variable} }}}}" and inputs["role-variable"] == variable
        assert jobs[job]["permissions"] == {"contents": "read", "id-token": "write"}, job
    # The PR comment job holds pull-requests: write and nothing else (no AWS token in it).
    assert jobs["comment"]["permissions"] == {"pull-requests": "write"}
    assert "uses" not in jobs["comment"] and jobs["comment"]["needs"] == "preview"


def test_the_reusable_workflow_runs_the_tasks_with_oidc_and_guards() -> None:
    doc = load(WORKFLOWS / "layer.yml")
    assert set(doc["on"]) == {"workflow_call"}
    assert doc["permissions"] == {}
    jobs = doc["jobs"]
    text = (WORKFLOWS / "layer.yml").read_text()
    for job in ("preview", "up", "drift"):
        assert jobs[job]["permissions"] == {"contents": "read", "id-token": "write"}, job
        steps = jobs[job]["steps"]
        runs = "\n".join(step.get("run", "") for step in steps)
        aws = [s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
        assert len(aws) == 1 and aws[0]["with"]["role-to-assume"] == "${{ inputs.role }}"
        assert "aws sts get-caller-identity" in runs and "::error::cannot assume $ROLE_ARN" in runs
        pulumi = [s for s in steps if s.get("uses", "").startswith("pulumi/actions@")]
        assert pulumi and pulumi[0]["with"]["pulumi-version"] == "${{ steps.sdk.outputs.pulumi }}"
        assert 'm.version("pulumi")' in runs  # the CLI follows the SDK that pip installed
    assert 'python -m shared.deploy preview --layer "$LAYER" --suffix "$SUFFIX"' in text
    # The deploy job has no terminal: it answers the question with --yes (the environment's reviewers approve).
    up_runs = [step["run"] for step in jobs["up"]["steps"] if "python -m shared.deploy up" in step.get("run", "")]
    assert len(up_runs) == 1 and 'python -m shared.deploy up --yes --layer "$LAYER" --suffix "$SUFFIX"' in up_runs[0]
    assert 'python -m shared.deploy drift --layer "$LAYER" --suffix "$SUFFIX"' in text
    assert '"$code" -eq 2' in text  # drift: the cloud drifted -> the job fails, with a message
    assert "GITHUB_STEP_SUMMARY" in text
    up = jobs["up"]
    assert up["environment"] == "${{ inputs.layer }}-${{ inputs.env }}"
    assert up["concurrency"] == {"group": "stack-${{ inputs.layer }}-${{ inputs.env }}", "cancel-in-progress": False}
    assert jobs["preview"]["environment"] == "${{ inputs.layer }}-preview"
    assert jobs["drift"]["environment"] == "${{ inputs.layer }}-drift"


def test_no_package_script_runs_in_a_job_that_holds_cloud_credentials() -> None:
    # A job that can mint an AWS token installs only what its layer's deploy reads, with --ignore-scripts.
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in load(path)["jobs"].items():
            if "steps" not in job:
                continue
            runs = "\n".join(step.get("run", "") for step in job["steps"])
            if (job.get("permissions") or {}).get("id-token") != "write":
                continue
            for line in runs.splitlines():
                # The deploy tool alone (`python -m shared.deploy`), never `invoke`, whose tasks.py loads other
                # teams' task modules.
                assert not line.strip().startswith(("invoke ", ".venv/bin/invoke ")), f"{path.name}:{name}: {line}"
                if "shared.deploy install" in line:
                    assert '--layer "$LAYER"' in line, f"{path.name}:{name}: {line.strip()}"
                if "npm ci" in line or "npm install" in line:
                    assert "--ignore-scripts" in line, f"{path.name}:{name}: {line.strip()}"
                assert "npm run" not in line and "npm test" not in line, f"{path.name}:{name}: {line.strip()}"


def test_the_api_image_is_built_without_credentials_and_deployed_by_digest() -> None:
    jobs = load(WORKFLOWS / "layer.yml")["jobs"]
    image, up = jobs["image"], jobs["up"]
    assert image["permissions"] == {"contents": "read"} and "inputs.layer == 'app'" in image["if"]
    build = "\n".join(step.get("run", "") for step in image["steps"])
    assert "--platform linux/arm64 --provenance=false --sbom=false" in build and "type=oci,dest=api-image.tar" in build
    assert up["needs"] == "image"
    up_runs = "\n".join(step.get("run", "") for step in up["steps"])
    assert "docker buildx" not in up_runs and "docker build" not in up_runs  # nothing is built next to the role
    assert 'app:imageArchive=$PWD/api-image.tar' in up_runs
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in load(path)["jobs"].items():
            if (job.get("permissions") or {}).get("id-token") == "write":
                runs = "\n".join(step.get("run", "") for step in job.get("steps", []))
                assert "buildx build" not in runs, f"{path.name}:{name} builds with cloud credentials"


def test_a_layers_pipeline_runs_its_tests_without_credentials_before_the_preview() -> None:
    jobs = load(WORKFLOWS / "layer.yml")["jobs"]
    assert jobs["test"]["permissions"] == {"contents": "read"}
    assert jobs["preview"]["needs"] == "test"
    runs = "\n".join(step.get("run", "") for step in jobs["test"]["steps"])
    assert '"tests/$LAYER"' in runs


def test_deploy_installs_are_the_layers_own_packages_without_scripts() -> None:
    from shared.dev.tasks import deploy_install_commands
    from shared.runtime.errors import CatalogError

    install = ["npm", "ci", "--ignore-scripts", "--omit=dev", "--no-audit", "--no-fund"]
    assert deploy_install_commands("edge") == [(REPO_ROOT / "projects/edge/functions", install)]
    assert deploy_install_commands("data") == [(REPO_ROOT / "projects/data/rotation", install)]
    for layer in ("network", "app", "observability"):
        assert deploy_install_commands(layer) == []
    with pytest.raises(CatalogError, match="unknown layer 'api'"):
        deploy_install_commands("api")


def test_actions_are_pinned_by_commit_and_no_long_lived_keys() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        text = path.read_text()
        for ref in re.findall(r"uses:\s*([^\s#]+)", text):
            if ref.startswith("./"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned by SHA"
        assert "aws-access-key-id" not in text and "aws-secret-access-key" not in text, path.name
        assert "secrets.AWS" not in text, path.name


def test_ci_runs_invoke_test_on_every_pull_request() -> None:
    doc = load(WORKFLOWS / "ci.yml")
    assert "pull_request" in doc["on"] and "paths" not in (doc["on"]["pull_request"] or {})
    runs = [step.get("run", "") for job in doc["jobs"].values() for step in job["steps"]]
    assert "invoke test" in runs
    assert all("id-token" not in (job.get("permissions") or {}) for job in doc["jobs"].values())


def test_invoke_test_runs_actionlint_and_zizmor_offline() -> None:
    dev = (REPO_ROOT / "shared" / "dev" / "tasks.py").read_text()
    assert '"actionlint"' in dev and '"zizmor"' in dev and '"--offline"' in dev
    extras = (REPO_ROOT / "pyproject.toml").read_text()
    assert "zizmor" in extras and "actionlint" in extras


def test_codeowners_names_a_team_per_layer_and_the_platform() -> None:
    lines = [line.split() for line in (REPO_ROOT / ".github" / "CODEOWNERS").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    owners = {line[0]: line[1:] for line in lines}
    for layer in LAYER_NAMES:
        assert owners.get(f"/projects/{layer}/"), f"no owner for projects/{layer}/"
    assert len({tuple(owners[f"/projects/{layer}/"]) for layer in LAYER_NAMES}) == len(LAYER_NAMES)
    platform = owners["/shared/"]
    assert owners["/.github/"] == platform and owners["/projects/bootstrap/"] == platform
    assert owners["/projects/edge/functions/"] == owners["/projects/edge/"]
    assert owners["/containers/"] == owners["/projects/app/"]
