"""The GitHub environments the roles trust, checked through GitHub's REST API (stdlib only, no new dependency).

The deploy role trusts `repo:<owner>/<repo>:environment:<layer>-<env>`, the plan role
`...:environment:<layer>-preview` and `...:environment:<layer>-drift`. GitHub creates an environment on first use,
unprotected: a trust on an environment is only as good as its protection rules. So before `invoke bootstrap`
touches a stack it checks, for each layer it gives roles to:

- `<layer>-<env>`: exists, has required reviewers who may not approve their own runs (`prevent_self_review`),
  and deploys only from the main branch (custom deployment branch policy naming exactly that branch);
- `<layer>-preview`: exists and has required reviewers with `prevent_self_review` (previews come from pull-request
  branches, so no branch rule; another reviewer approves each run, whose plan role decrypts stack secrets);
- `<layer>-drift`: exists and runs only from the main branch (the scheduled drift check; no reviewers);
- all three: administrators may not bypass those rules (`can_admins_bypass` false; GitHub's default is true).

The token comes from GITHUB_TOKEN (read access to the repository's environments and their administration);
GITHUB_API_URL overrides https://api.github.com (GitHub Enterprise, and the tests' loopback server). When it
cannot check (no token, no answer), `report` says why and gives the exact `gh api` commands that create the
environments; the task refuses to apply then (shared/deploy/bootstrap_tasks.py).
https://docs.github.com/en/rest/deployments/environments and .../deployments/branch-policies
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API = "https://api.github.com"
API_VERSION = "2022-11-28"
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Wanted:
    name: str
    layer: str
    main_only: bool  # deploy and drift environments: only the main branch may run there
    reviewers: bool = True  # a scheduled drift check cannot wait for a reviewer


class CannotCheck(Exception):
    """The API could not be asked (no token, no network, no permission): say so and print the commands."""


@dataclass(frozen=True)
class Report:
    problems: list[str]  # one line per environment weaker than its role's trust assumes: they stop the bootstrap
    lines: list[str]  # what to print: the environments checked, or the commands that fix or create them
    unchecked: str = ""  # why the API could not be asked; empty when the check ran


def wanted(layers: list[str] | tuple[str, ...], suffix: str) -> list[Wanted]:
    from projects.bootstrap.permissions import drift_environment, preview_environment

    out = []
    for layer in layers:
        out.append(Wanted(f"{layer}-{suffix}", layer, main_only=True))
        out.append(Wanted(preview_environment(layer), layer, main_only=False))
        out.append(Wanted(drift_environment(layer), layer, main_only=True, reviewers=False))
    return out


def _get(api: str, path: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(f"{api.rstrip('/')}/{path}", headers={
        "Accept": "application/vnd.github+json", "Authorization": f"Bearer {token}",
        "X-GitHub-Api-Version": API_VERSION, "User-Agent": "catalog-bootstrap"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return 404, None
        raise CannotCheck(f"GitHub answered {error.code} for {path} (the token needs read access to the "
                          "repository's environments)") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise CannotCheck(f"GitHub's API at {api} did not answer: {getattr(error, 'reason', error)}") from None


def problems(repo: str, environments: list[Wanted], main_branch: str, token: str, api: str = API) -> list[str]:
    """One line per environment that is missing or weaker than its role's trust assumes."""
    found: list[str] = []
    for env in environments:
        status, body = _get(api, f"repos/{repo}/environments/{env.name}", token)
        if status == 404:
            found.append(f"environment {env.name} does not exist (GitHub would create it unprotected on first use)")
            continue
        if body.get("can_admins_bypass") is not False:
            # GitHub's default: a repository admin may deploy past the reviewers and the branch policy.
            found.append(f"environment {env.name} lets administrators bypass its protection rules (turn off "
                         "\"Allow administrators to bypass configured protection rules\": can_admins_bypass false)")
        rules = body.get("protection_rules") or []
        review = next((r for r in rules if r.get("type") == "required_reviewers" and r.get("reviewers")), None)
        if env.reviewers and review is None:
            found.append(f"environment {env.name} has no required reviewers")
        elif env.reviewers and review is not None and review.get("prevent_self_review") is not True:
            # Otherwise whoever pushed a hostile workflow, if a reviewer, approves its run with the layer's role.
            found.append(f"environment {env.name} lets a reviewer approve their own run (turn on \"Prevent "
                         "self-review\": prevent_self_review true)")
        if not env.main_only:
            continue
        policy = body.get("deployment_branch_policy")
        if not policy or policy.get("protected_branches") or not policy.get("custom_branch_policies"):
            found.append(f"environment {env.name} does not limit deployments to chosen branches "
                         f"(deployment_branch_policy {json.dumps(policy)}); only {main_branch} may deploy")
            continue
        _, branches = _get(api, f"repos/{repo}/environments/{env.name}/deployment-branch-policies", token)
        names = sorted((p.get("name"), p.get("type", "branch")) for p in (branches or {}).get("branch_policies", []))
        if names != [(main_branch, "branch")]:
            found.append(f"environment {env.name} deploys from {[n for n, _ in names]}; only {main_branch} may")
    return found


def _team_of(layer: str, codeowners: Path) -> str:
    """`<org>/<team>` owning projects/<layer>/ in CODEOWNERS, or a placeholder."""
    if codeowners.is_file():
        for line in codeowners.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].strip("/") == f"projects/{layer}" and parts[1].startswith("@"):
                return parts[1][1:]
    return "<org>/<team>"


def create_commands(repo: str, environments: list[Wanted], main_branch: str, codeowners: Path) -> list[str]:
    """The `gh api` commands that create each environment with its protection (gh authenticates itself)."""
    lines: list[str] = []
    for env in environments:
        team = _team_of(env.layer, codeowners)
        org, _, slug = team.partition("/")
        body: dict[str, Any] = ({"reviewers": [{"type": "Team", "id": "TEAM_ID"}], "prevent_self_review": True}
                                if env.reviewers else {})
        body["deployment_branch_policy"] = ({"protected_branches": False, "custom_branch_policies": True}
                                            if env.main_only else None)
        body["can_admins_bypass"] = False
        payload = json.dumps(body).replace('"TEAM_ID"', "$TEAM_ID")
        if env.reviewers:
            lines.append(f"TEAM_ID=$(gh api orgs/{org}/teams/{slug} --jq .id)")
        lines.append(f"gh api --method PUT repos/{repo}/environments/{env.name} --input - <<EOF\n{payload}\nEOF")
        if env.main_only:
            lines.append(f"gh api --method POST repos/{repo}/environments/{env.name}/deployment-branch-policies "
                         f"-f name={main_branch} -f type=branch")
    return lines


def report(repo: str, layers: list[str] | tuple[str, ...], suffix: str, main_branch: str, codeowners: Path,
           env: Mapping[str, str] | None = None) -> Report:
    """What is wrong with the environments, or why they could not be checked, and the commands that fix them."""
    env = os.environ if env is None else env
    environments = wanted(layers, suffix)
    token = env.get("GITHUB_TOKEN", "")
    try:
        if not token:
            raise CannotCheck("GITHUB_TOKEN is not set")
        found = problems(repo, environments, main_branch, token, env.get("GITHUB_API_URL") or API)
    except CannotCheck as why:
        return Report([], ["create them (reviewers from CODEOWNERS; `gh auth login` first) with:",
                           *create_commands(repo, environments, main_branch, codeowners)], str(why))
    if not found:
        return Report([], [f"GitHub environments checked: {', '.join(e.name for e in environments)}"])
    broken = [e for e in environments if any(p.startswith(f"environment {e.name} ") for p in found)]
    return Report(found, ["fix them with:", *create_commands(repo, broken, main_branch, codeowners)])
