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
from tests.bootstrap.conftest import REPO, BootstrapMemory

CODEOWNERS = REPO_ROOT / ".github" / "CODEOWNERS"
PROTECTED_MAIN = {"protected_branches": False, "custom_branch_policies": True}
REVIEWERS = [{"type": "required_reviewers", "prevent_self_review": True,
              "reviewers": [{"type": "Team", "reviewer": {"slug": "network-team"}}]}]


class FakeGitHub:
    """Environments by name -> (environment body, branch policies); records the requests' headers."""

    def __init__(self) -> None:
        self.environments: dict[str, tuple[dict[str, Any], list[dict[str, str]]]] = {}
        self.headers: list[dict[str, str]] = []
        self.status = 200

    def good(self, layer: str, suffix: str = "prod") -> None:
        self.environments[f"{layer}-{suffix}"] = ({"protection_rules": REVIEWERS, "can_admins_bypass": False,
                                                   "deployment_branch_policy": PROTECTED_MAIN},
                                                  [{"name": "main", "type": "branch"}])
        self.environments[f"{layer}-preview"] = ({"protection_rules": REVIEWERS, "can_admins_bypass": False,
                                                  "deployment_branch_policy": None}, [])
        self.environments[f"{layer}-drift"] = ({"protection_rules": [], "can_admins_bypass": False,
                                                "deployment_branch_policy": PROTECTED_MAIN},
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


def run(api: str, layers: tuple[str, ...] = ("network", "data")) -> gh.Report:
    return gh.report(REPO, layers, "prod", "main", CODEOWNERS, env={"GITHUB_TOKEN": "t0ken", "GITHUB_API_URL": api})


def test_protected_environments_pass(github: tuple[FakeGitHub, str]) -> None:
    fake, api = github
    fake.good("network")
    fake.good("data")
    result = run(api)
    assert result == gh.Report([], ["GitHub environments checked: network-prod, network-preview, network-drift, "
                                    "data-prod, data-preview, data-drift"])
    assert fake.headers[0]["authorization"] == "Bearer t0ken"
    assert fake.headers[0]["x-github-api-version"] == gh.API_VERSION


def test_each_weakness_is_one_line(github: tuple[FakeGitHub, str]) -> None:
    fake, api = github
    fake.good("network")
    fake.good("data")
    fake.environments["network-prod"] = ({"protection_rules": [], "can_admins_bypass": False,
                                          "deployment_branch_policy": None}, [])
    fake.environments["data-prod"] = ({"protection_rules": REVIEWERS, "can_admins_bypass": False,
                                       "deployment_branch_policy": PROTECTED_MAIN},
                                      [{"name": "main", "type": "branch"}, {"name": "release/*", "type": "branch"}])
    del fake.environments["data-preview"]
    result = run(api)
    found, lines = result.problems, result.lines
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
    fake.environments["network-prod"] = ({"protection_rules": REVIEWERS, "can_admins_bypass": False,
                                          "deployment_branch_policy": {"protected_branches": True,
                                                                       "custom_branch_policies": False}}, [])
    found = run(api, ("network",)).problems
    assert len(found) == 1 and "does not limit deployments to chosen branches" in found[0]


def test_without_an_answer_it_prints_the_commands(github: tuple[FakeGitHub, str]) -> None:
    fake, api = github
    fake.status = 401
    result = run(api, ("network",))
    lines = result.lines
    assert result.problems == [] and result.unchecked.startswith("GitHub answered 401")
    assert lines[1] == "TEAM_ID=$(gh api orgs/org/teams/network-team --jq .id)"  # from CODEOWNERS
    assert lines[2] == ("gh api --method PUT repos/acme/catalog-platform/environments/network-prod --input - <<EOF\n"
                        '{"reviewers": [{"type": "Team", "id": $TEAM_ID}], "prevent_self_review": true, '
                        '"deployment_branch_policy": {"protected_branches": false, "custom_branch_policies": true}, '
                        '"can_admins_bypass": false}\nEOF')
    assert lines[3] == ("gh api --method POST repos/acme/catalog-platform/environments/network-prod/"
                        "deployment-branch-policies -f name=main -f type=branch")
    assert '"deployment_branch_policy": null' in lines[5]  # network-preview: reviewers, any branch


def test_without_a_token_or_a_server_it_says_why() -> None:
    result = gh.report(REPO, ("edge",), "prod", "main", CODEOWNERS, env={})
    assert result.problems == [] and result.unchecked == "GITHUB_TOKEN is not set"
    closed = gh.report(REPO, ("edge",), "prod", "main", CODEOWNERS,
                       env={"GITHUB_TOKEN": "x", "GITHUB_API_URL": "http://127.0.0.1:9"})
    assert closed.problems == [] and "did not answer" in closed.unchecked


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
    fake.environments["network-drift"] = ({"protection_rules": [], "can_admins_bypass": False,
                                           "deployment_branch_policy": None}, [])
    found = run(api, ("network",)).problems
    assert found == ["environment network-drift does not limit deployments to chosen branches "
                     "(deployment_branch_policy null); only main may deploy"]


@pytest.mark.parametrize("rule", [{"prevent_self_review": False}, {}], ids=["off", "absent"])
def test_reviewers_must_not_approve_their_own_runs(github: tuple[FakeGitHub, str], rule: dict[str, Any]) -> None:
    # Deploy and preview environments: both hand out a role that decrypts stack secrets. Drift has no reviewers.
    fake, api = github
    fake.good("network")
    weak = [{**REVIEWERS[0], **rule} if rule else {k: v for k, v in REVIEWERS[0].items() if k != "prevent_self_review"}]
    for name in ("network-prod", "network-preview"):
        fake.environments[name] = ({**fake.environments[name][0], "protection_rules": weak}, fake.environments[name][1])
    found = run(api, ("network",)).problems
    assert found == [f"environment {name} lets a reviewer approve their own run (turn on \"Prevent self-review\": "
                     "prevent_self_review true)" for name in ("network-prod", "network-preview")]


@pytest.mark.parametrize("bypass", [True, None], ids=["on", "absent"])
def test_administrators_may_not_bypass_the_protection(github: tuple[FakeGitHub, str], bypass: bool | None) -> None:
    # GitHub lets repository admins deploy past reviewers and branch policies unless told not to (its default).
    fake, api = github
    fake.good("network")
    for name in ("network-prod", "network-preview", "network-drift"):
        body = {k: v for k, v in fake.environments[name][0].items() if k != "can_admins_bypass"}
        fake.environments[name] = ({**body, **({"can_admins_bypass": bypass} if bypass is not None else {})},
                                   fake.environments[name][1])
    found = run(api, ("network",)).problems
    assert found == [f"environment {name} lets administrators bypass its protection rules (turn off \"Allow "
                     "administrators to bypass configured protection rules\": can_admins_bypass false)"
                     for name in ("network-prod", "network-preview", "network-drift")]


def apply(*argv: str) -> int:
    from tests.bootstrap.test_bootstrap import run_bootstrap

    return run_bootstrap("--github-repo", REPO, "--suffix", "qa", "--layer", "network", "--yes", *argv)


def refusal(capsys: pytest.CaptureFixture[str]) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_an_apply_without_a_token_is_refused(memory: BootstrapMemory, capsys: pytest.CaptureFixture[str]) -> None:
    assert apply() == 2
    assert refusal(capsys) == (
        "error: cannot check the GitHub environments the roles trust (GITHUB_TOKEN is not set); set GITHUB_TOKEN to a "
        "token that can read this repository's environments, or pass --skip-github-check once you have checked them "
        "yourself")
    assert memory.calls == []  # nothing created, not even the bootstrap's stack


@pytest.mark.parametrize("status", [401, 403])
def test_an_apply_the_token_cannot_check_is_refused(github: tuple[FakeGitHub, str], memory: BootstrapMemory,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str], status: int) -> None:
    fake, api = github
    fake.status = status
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_API_URL", api)
    assert apply() == 2
    assert f"(GitHub answered {status} for repos/{REPO}/environments/network-qa" in refusal(capsys)
    assert memory.calls == []


def test_an_apply_without_an_answer_is_refused(memory: BootstrapMemory, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # nothing listens there
    assert apply() == 2
    assert "did not answer" in refusal(capsys) and memory.calls == []


def test_an_apply_goes_ahead_once_the_check_passed(github: tuple[FakeGitHub, str], memory: BootstrapMemory,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    fake, api = github
    fake.good("network", "qa")
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("GITHUB_API_URL", api)
    assert apply() == 0
    assert memory.ops("up") == [("up", "bootstrap")]
    assert "GitHub environments checked: network-qa, network-preview, network-drift" in capsys.readouterr().out


def test_skip_github_check_applies_unchecked_and_says_so(memory: BootstrapMemory,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert apply("--skip-github-check") == 0
    assert memory.ops("up") == [("up", "bootstrap")]
    assert "warning: GitHub environments not checked (--skip-github-check)" in capsys.readouterr().out


def test_a_preview_without_a_token_warns_and_goes_on(memory: BootstrapMemory,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # A preview changes nothing in AWS: it prints the commands that create the environments.
    from tests.bootstrap.test_bootstrap import run_bootstrap

    assert run_bootstrap("--github-repo", REPO, "--suffix", "qa", "--layer", "network") == 0
    out = capsys.readouterr().out
    assert "warning: cannot check the GitHub environments the roles trust: GITHUB_TOKEN is not set" in out
    assert memory.ops("preview") == [("preview", "bootstrap")] and not memory.ops("up")


def test_the_flag_says_what_it_risks(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.bootstrap.test_bootstrap import run_bootstrap

    run_bootstrap("--help")
    flag = " ".join(capsys.readouterr().out.split()).partition("--skip-github-check")[2]
    assert "GitHub creates a missing environment unprotected on first use" in flag, flag
