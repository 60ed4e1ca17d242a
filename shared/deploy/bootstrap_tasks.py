"""`invoke bootstrap`: once per AWS account - state bucket, secrets key, GitHub OIDC provider, per-team roles.

Preview by default; `--yes` applies through the Automation API (as `invoke up`), `--destroy --yes` removes it;
`--offline` plans it under mocks (no AWS, no Pulumi CLI), as `invoke synth` does for the layers. `--yes` applies only
after the GitHub environments the roles trust were checked and passed (or `--skip-github-check`).
"""

from __future__ import annotations

from typing import Any

from invoke import Context, Exit

from shared.console import documented_task, refuse_clearly
from shared.deploy.tasks import COMMON_HELP, _finish, _say, reports_failures


@documented_task(help={
    "github_repo": "the repository whose workflows may assume the roles: owner/repo (required)",
    "suffix": COMMON_HELP["suffix"],
    "layer": "give roles to these layers only (repeatable; default: all five)",
    "state_bucket": "state bucket name (default catalog-state-<suffix>-<account id>)",
    "main_branch": "the branch whose pushes deploy and on which drift runs (default main)",
    "network_vpc_id": "the network layer's VPC id (its vpcId output), after its first deploy: lets the network "
                      "deploy role adopt that VPC's default security group",
    "yes": "apply (default: preview only)",
    "destroy": "destroy the bootstrap (with --yes; the state bucket and every layer's state go with it)",
    "offline": "plan under mocks without AWS or the Pulumi CLI and print the resources",
    "backend": "state backend of the bootstrap itself (default: the local .pulumi-state/; not the bucket it makes)",
    "skip_github_check": "apply without checking the GitHub environments the roles trust (risk: GitHub creates a "
                         "missing environment unprotected on first use, so any writer's branch could run with that "
                         "layer's role); only after checking them yourself",
    "secrets_provider": COMMON_HELP["secrets_provider"],
}, iterable=["layer"])
@refuse_clearly
@reports_failures
def bootstrap(c: Context, github_repo: str = "", suffix: str = "", layer: list[str] | None = None,
              state_bucket: str = "", main_branch: str = "", yes: bool = False, destroy: bool = False,
              offline: bool = False, backend: str = "", secrets_provider: str = "", network_vpc_id: str = "",
              skip_github_check: bool = False) -> None:
    """Create the per-team delivery foundation of one account and environment (docs/delivery.md)."""
    from shared.deploy import bootstrap as project

    config = project.config_for(github_repo, layer, state_bucket, main_branch, network_vpc_id)
    project.validate(suffix, config)
    if offline:
        for line in project.summary(project.plan(suffix, config)):
            _say(line)
        return
    if destroy and not yes:
        raise Exit("error: --destroy removes the state of every layer; add --yes to confirm", code=2)
    if not destroy:
        check_github_environments(github_repo, layer, suffix, main_branch, apply=yes, skip=skip_github_check)
    from shared.deploy.tasks import _session

    orchestrator = _session(backend, secrets_provider)
    target, stacks = project.TARGET, orchestrator.backend
    if not destroy:
        from shared.runtime.naming import refuse_overlapping_suffix

        # Every policy scopes by catalog-*-<suffix>: two environments one hyphenated tail apart would reach into
        # each other's resources.
        refuse_overlapping_suffix(suffix, stacks.stack_names(target))
    stacks.ensure_stack(target, suffix)
    for key, value in config.items():
        stacks.set_config(target, suffix, f"{project.PROJECT}:{key}", value)
    operation = "destroy" if destroy else "up" if yes else "preview"
    _say(f"{operation} {project.PROJECT}/{suffix}  (state: {stacks.url})")
    run = {"destroy": stacks.destroy, "up": stacks.up, "preview": stacks.preview}[operation]
    from shared.deploy.report import StepResult

    # The guardrails pack judges the five layers (their names, tags and mission numbers); the bootstrap's roles
    # are held to their own rules by its tests (tests/bootstrap/), so it runs without the pack.
    packs: dict[str, Any] = {} if operation == "destroy" else {"policy_packs": []}
    result = run(target, suffix, orchestrator._event, **packs)
    _finish([StepResult(project.NAME, {"destroy": "destroyed", "up": "deployed", "preview": "previewed"}[operation],
                        dict(result.changes), 0.0)])
    if operation == "up":
        for name, out in sorted(stacks.outputs(target, suffix).items()):
            _say(f"{name} = {out.value}")


def check_github_environments(github_repo: str, layers: list[str] | None, suffix: str, main_branch: str, *,
                              apply: bool = False, skip: bool = False) -> None:
    """The environments the roles trust must exist protected (projects/bootstrap/github_environments.py). An apply
    goes ahead only if the check ran and passed, or was skipped on purpose: an unchecked environment may not exist,
    and GitHub would create it unprotected for the first workflow that names it."""
    from shared.deploy import bootstrap as project
    from shared.runtime.layers import LAYER_NAMES, REPO_ROOT

    if skip:
        _say("warning: GitHub environments not checked (--skip-github-check): each must exist with its protection "
             "before the roles are used (docs/delivery.md, step 3)")
        return
    check = project.module("github_environments").report
    result = check(github_repo, layers or LAYER_NAMES, suffix, main_branch or "main",
                   REPO_ROOT / ".github" / "CODEOWNERS")
    if result.unchecked and not apply:
        _say(f"warning: cannot check the GitHub environments the roles trust: {result.unchecked}")
    for line in [f"problem: {p}" for p in result.problems] + result.lines:
        _say(line)
    if result.problems:
        raise Exit(f"error: {len(result.problems)} problem(s) with the GitHub environments the roles trust (above); "
                   "fix them, then run again", code=2)
    if result.unchecked and apply:
        raise Exit(f"error: cannot check the GitHub environments the roles trust ({result.unchecked}); set "
                   "GITHUB_TOKEN to a token that can read this repository's environments, or pass "
                   "--skip-github-check once you have checked them yourself", code=2)
