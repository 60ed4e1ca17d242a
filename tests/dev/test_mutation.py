"""The mutation check's machinery: one known mutation through it is killed, a harmless one survives, a stale entry
is an error, the checkout is never touched; and every listed mutation still names real source."""

from __future__ import annotations

import subprocess
from pathlib import Path

from shared.dev import mutation
from shared.dev.mutation import MUTATIONS, Mutation, Outcome, run, select, verdict
from shared.runtime.layers import REPO_ROOT

MODULE = 'LIMIT = 10\n\n\ndef allowed(n: int) -> bool:\n    return n <= LIMIT\n'
TEST = ("from pkg.rules import allowed\n\n\ndef test_boundary() -> None:\n"
        "    assert allowed(10) and not allowed(11)\n")


def tiny_repo(tmp_path: Path) -> Path:
    """A git checkout with one rule and its test: the real pytest runs against it in a copy."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "rules.py").write_text(MODULE)
    (root / "tests" / "test_rules.py").write_text(TEST)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_a_known_mutation_is_killed_a_harmless_one_survives_a_stale_one_is_an_error(tmp_path: Path) -> None:
    root = tiny_repo(tmp_path)
    mutations = [
        Mutation("pkg/rules.py", "n <= LIMIT", "n < LIMIT", ("tests/",), "boundary moved"),
        Mutation("pkg/rules.py", "LIMIT = 10\n", "LIMIT = 10  # same value\n", ("tests/",), "equivalent"),
        Mutation("pkg/rules.py", "LIMIT = 99", "LIMIT = 1", ("tests/",), "stale"),
    ]
    lines: list[str] = []
    outcomes = run(mutations, timeout_s=120, root=root, say=lines.append)
    assert [o.status for o in outcomes] == ["killed", "survived", "error"]
    assert "test_boundary" in outcomes[0].detail
    assert "0 matches" in outcomes[2].detail
    assert len(lines) == 3 and "killed" in lines[0]
    assert (root / "pkg" / "rules.py").read_text() == MODULE  # the checkout itself is never mutated
    met, text = verdict(outcomes)
    assert not met and text == "1/3 killed (0 by timeout), 1 survived, 1 errors: missed"
    assert verdict(outcomes[:1]) == (True, "1/1 killed (0 by timeout), 0 survived, 0 errors: met")


def test_verdict_needs_at_least_one_mutation_and_counts_timeouts_as_killed() -> None:
    m = MUTATIONS[0]
    assert verdict([])[0] is False
    assert verdict([Outcome(m, "timeout", 1.0)]) == (True, "1/1 killed (1 by timeout), 0 survived, 0 errors: met")


def test_every_listed_mutation_names_source_that_exists_once_and_tests_that_exist() -> None:
    assert 20 <= len(MUTATIONS) <= 40
    for m in MUTATIONS:
        source = (REPO_ROOT / m.path).read_text()
        assert source.count(m.old) == 1, m.label
        assert m.old != m.new, m.label
        assert m.path.startswith(("projects/", "shared/policy/")), m.label
        assert all((REPO_ROOT / t).exists() for t in m.tests), m.label
    # The layers and the guardrails all have mutations.
    covered = {m.path.split("/")[1] for m in MUTATIONS}
    assert {"network", "data", "app", "edge", "observability", "policy"} <= covered


def test_select_filters_by_text_and_bounds_the_count() -> None:
    assert all("policy" in m.path for m in select(MUTATIONS, "POLICY"))
    assert len(select(MUTATIONS, "", 3)) == 3 and select(MUTATIONS, "no such thing") == []
    assert mutation.DEFAULT_TIMEOUT_S > 0
