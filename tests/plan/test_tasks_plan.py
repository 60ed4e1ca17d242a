"""`invoke synth` and `invoke layers` as a user runs them: exit codes, one-line errors, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def invoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=REPO, capture_output=True, text=True,
                          check=False, timeout=300)


def test_layers_lists_the_order_and_owners() -> None:
    out = invoke("layers").stdout
    lines = [line for line in out.splitlines() if line[:1].isdigit()]
    assert [line.split()[1] for line in lines] == ["network", "data", "app", "edge", "observability"]
    assert "network team" in out and "operations" in out


def test_synth_writes_the_plan_and_graph(tmp_path: Path) -> None:
    result = invoke("synth", "--suffix", "qa", "--layer", "network", "--out", str(tmp_path), "--quiet")
    assert result.returncode == 0, result.stderr
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["network"]["exports"]["azs"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert (tmp_path / "architecture.dot").exists()
    assert "planned 1 layer(s)" in result.stdout
    assert "partial plan: these files hold only network (the whole platform's plan: invoke synth --suffix qa, in " \
           "build/plan/qa)" in result.stdout


def test_a_partial_plan_never_replaces_the_whole_one() -> None:
    from shared.plan.tasks import plan_dir
    from shared.runtime.layers import REPO_ROOT

    assert plan_dir("qa") == REPO_ROOT / "build/plan/qa"
    assert plan_dir("qa", "app") == REPO_ROOT / "build/plan/qa/layer-app"


@pytest.mark.parametrize(("args", "message"), [
    (["--suffix", "QA"], "uppercase"),
    (["--suffix", "qa-"], "must not end with a hyphen"),
    (["--suffix", "q--a"], "double hyphen"),
    (["--suffix", "x" * 17], "2-16"),
    (["--suffix", "qa", "--layer", "storage"], "unknown layer 'storage'"),
    (["--suffix", "qa", "--config", "network:colour=blue"], "unknown config key catalog-network:colour"),
    (["--suffix", "qa", "--config", "network:cidr=10.0.0.0/8"], "outside /16-/20"),
    (["--suffix", "qa", "--config", "cidr=10.0.0.0/16"], "is not layer:key=value"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    result = invoke("synth", *args, "--out", str(out))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: ") and message in errors[0]
    assert not out.exists()


def test_generated_tables_are_current_in_every_readme() -> None:
    """Each layer README's config/outputs/reads tables, the root layer map and the performance section come from
    the code (`invoke docs`); a stale one fails here."""
    from shared.plan.docs import documents, render

    for path in documents():
        text = path.read_text()
        assert render(path, text) == text, f"{path.relative_to(REPO)} is stale: run `invoke docs`"
    app = (REPO / "projects" / "app" / "README.md").read_text()
    assert "`catalog-app:canaryWeight`" in app and "| `albDnsName` | `str` | edge |" in app
