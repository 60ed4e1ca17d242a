"""`invoke bootstrap` checks the GitHub environments the roles trust, against a tiny GitHub API on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from projects.bootstrap import github_environments as gh
from shared.runtime.layers import REPO_ROOT
from tests.bootstrap.conftest import REPO

CODEOWNERS = REPO_ROOT / ".github" / "CODEOWNERS"
PROTECTED_MAIN = {"protected_branches": False, "custom_branch_policies": True}
REVIEWERS = [{"type": "required_reviewers", "reviewers": [{"type": "Team", "reviewer": {"slug": "network-team"}}]}]


class FakeGitHub:
    """Environments by name -> (environment body, branch policies); records the requests' headers."""

    def __init__(self) -> None:
        self.environments: dict[str, tuple[dict[str, Any], list[dict[str, str]]]] = {}
        self.headers: list[dict[str, str]] = []
        self.status = 200

    def good(self, layer: str, suffix: str = "prod") -> None:
        self.environments[f"{layer}-{suffix}"] = ({"protection_rules": REVIEWERS,
                                                   "deployment_branch_policy": PROTECTED_MAIN},
                                                  [{"name": "main", "type": "branch"}])
        self.environments[f"{layer}-preview"] = ({"protection_rules": REVIEWERS, "deployment_branch_policy": None},
                                                 [])
        self.environments[f"{layer}-drift"] = ({"protection_rules": [], "deployment_branch_policy": PROTECTED_MAIN},
                                               [{"name": "main", "type": "branch"}])


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.headers.append({k.lower(): v for k, v in self.headers.items()})
            prefix = f"/repos/{REPO}/environments/"
            name, _, rest = self.path.removeprefix(prefix).partition("/")
            if fake.status != 200:
                self._send(fake.status, {"message": "Bad credentials"})
            elif not self.path.startswith(prefix) or name not in fake.environments:
                self._send(404, {"message": "Not Found"})
            elif rest == "deployment-branch-policies":
                policies = fake.environments[name][1]
                self._send(200, {"total_count": len(policies), "branch_policies": policies})
            else:
                self._send(200, {"name": name, **fake.environments[name][0]})

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run(api: str, layers: tuple[str, ...] = ("network", "data")) -> tuple[list[str], list[str]]:
    return gh.report(REPO, layers, "prod", "main", CODEOWNERS, env={"GITHUB_TOKEN": "t0ken", "GITHUB_API_URL": api})


def test_protected_environments_pass(github: tuple[FakeGitHub, str]) -> None:
    fake, api = github
    fake.good("network")
    fake.good("data")
    found, lines = run(api)
    assert found == [] and lines == ["GitHub environments checked: network-prod, network-preview, network-drift, "
                                     "data-prod, data-preview, data-drift"]
    assert fake.headers[0]["authorization"] == "Bearer t0ken"
    assert fake.headers[0]["x-github-api-version"] == gh.API_VERSION


def test_each_weakness_is_one_line(github: tuple[FakeGitHub, str]) -> None:
    fake, api = github
    fake.good("network")
    fake.good("data")
    fake.environments["network-prod"] = ({"protection_rules": [], "deployment_branch_policy": None}, [])
    fake.environments["data-prod"] = ({"protection_rules": REVIEWERS, "deployment_branch_policy": PROTECTED_MAIN},
                                      [{"name": "main", "type": "branch"}, {"name": "release/*", "type": "branch"}])
    del fake.environments["data-preview"]
    found, lines = run(api)
    assert found == [
        "environment network-prod has no required reviewers",
        "environment network-prod does not limit deployments to chosen branches (deployment_branch_policy null); "
        "only main may deploy",
        "environment data-prod deploys from ['main', 'release/*']; only main may",
        "environment data-preview does not exist (GitHub would create it unprotected on first use)",
    ]
    # Commands only for the broken ones.
    assert any("environments/network-prod --input -" in line for line in lines)
    assert any("environments/data-preview --input -" in line for line in lines)
    assert not any("environments/network-preview" in line for line in lines)


def test_protected_branches_is_not_main_only(github: tuple[FakeGitHub, str]) -> None:
    fake, api = github
    fake.good("network")
    fake.environments["network-prod"] = ({"protection_rules": REVIEWERS, "deployment_branch_policy": {
        "protected_branches": True, "custom_branch_policies": False}}, [])
    found, _ = run(api, ("network",))
    assert len(found) == 1 and "does not limit deployments to chosen branches" in found[0]


def test_without_an_answer_it_prints_the_commands(github: tuple[FakeGitHub, str]) -> None:
    fake, api = github
    fake.status = 401
    found, lines = run(api, ("network",))
    assert found == []
    assert lines[0].startswith("warning: cannot check") and "GitHub answered 401" in lines[0]
    assert lines[2] == "TEAM_ID=$(gh api orgs/org/teams/network-team --jq .id)"  # from CODEOWNERS
    assert lines[3] == ("gh api --method PUT repos/acme/catalog-platform/environments/network-prod --input - <<EOF\n"
                        '{"reviewers": [{"type": "Team", "id": $TEAM_ID}], "prevent_self_review": true, '
                        '"deployment_branch_policy": {"protected_branches": false, "custom_branch_policies": true}}'
                        "\nEOF")
    assert lines[4] == ("gh api --method POST repos/acme/catalog-platform/environments/network-prod/"
                        "deployment-branch-policies -f name=main -f type=branch")
    assert '"deployment_branch_policy": null' in lines[6]  # network-preview: reviewers, any branch


def test_without_a_token_or_a_server_it_says_why() -> None:
    found, lines = gh.report(REPO, ("edge",), "prod", "main", CODEOWNERS, env={})
    assert found == [] and lines[0].endswith("GITHUB_TOKEN is not set")
    closed = gh.report(REPO, ("edge",), "prod", "main", CODEOWNERS,
                       env={"GITHUB_TOKEN": "x", "GITHUB_API_URL": "http://127.0.0.1:9"})
    assert closed[0] == [] and "did not answer" in closed[1][0]


def test_the_bootstrap_task_stops_on_a_problem(github: tuple[FakeGitHub, str], monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from tests.bootstrap.test_bootstrap import run_bootstrap

    _, api = github
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_API_URL", api)
    assert run_bootstrap("--github-repo", REPO, "--suffix", "prod", "--layer", "network") == 2
    captured = capsys.readouterr()
    assert "problem: environment network-prod does not exist" in captured.out
    err = [line for line in captured.err.splitlines() if line.strip()]
    # network-prod, network-preview and network-drift are all missing
    assert len(err) == 1 and err[0].startswith("error: 3 problem(s) with the GitHub environments"), err


def test_a_drift_environment_must_run_from_main_only(github: tuple[FakeGitHub, str]) -> None:
    fake, api = github
    fake.good("network")
    fake.environments["network-drift"] = ({"protection_rules": [], "deployment_branch_policy": None}, [])
    found, _ = run(api, ("network",))
    assert found == ["environment network-drift does not limit deployments to chosen branches "
                     "(deployment_branch_policy null); only main may deploy"]
