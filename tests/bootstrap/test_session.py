"""A role's session outlives the job that uses it: MaxSessionDuration (one number, SESSION_SECONDS) is at least
every credentialed job's timeout, and each workflow asks for that duration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from projects.bootstrap.access import SESSION_SECONDS
from shared.plan.planner import Plan
from shared.runtime.layers import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
CREDENTIALS = "aws-actions/configure-aws-credentials@"


def credentialed_jobs() -> list[tuple[Path, str, dict[str, Any], dict[str, Any]]]:
    found = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in (yaml.safe_load(path.read_text()).get("jobs") or {}).items():
            for step in job.get("steps") or []:
                if step.get("uses", "").startswith(CREDENTIALS):
                    found.append((path, name, job, step))
    return found


def test_every_role_allows_the_session(boot: Plan) -> None:
    durations = {r.name: r.get("maxSessionDuration") for r in boot.of_type("aws:iam/role:Role")}
    assert durations and set(durations.values()) == {SESSION_SECONDS}, durations
    assert 3600 <= SESSION_SECONDS <= 43200  # IAM's range


def test_every_credentialed_job_fits_in_the_session() -> None:
    jobs = credentialed_jobs()
    assert len(jobs) >= 3  # preview, up, drift
    for path, name, job, step in jobs:
        timeout = int(job["timeout-minutes"]) * 60
        asked = int(step["with"].get("role-duration-seconds", 3600))  # the action's default is one hour
        assert timeout <= SESSION_SECONDS, f"{path.name}:{name} runs {timeout} s, the roles allow {SESSION_SECONDS}"
        assert timeout <= asked <= SESSION_SECONDS, f"{path.name}:{name} asks for {asked} s, runs up to {timeout} s"
