"""The edge layer's docs state what its code does: the runtime they name is the functions' runtime, and the error
pages they describe are the ones the plan builds (rendered by origin-response, caching-only error responses)."""

from __future__ import annotations

import re

from projects.edge.edge_functions import RUNTIME
from shared.plan.planner import Plan
from shared.runtime.layers import REPO_ROOT

DOCS = [REPO_ROOT / "projects" / "edge" / "README.md", REPO_ROOT / "projects" / "edge" / "functions" / "README.md",
        REPO_ROOT / "docs" / "aws-rules.md"]
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"


def test_every_node_runtime_the_edge_docs_name_is_the_functions_runtime() -> None:
    runtime = RUNTIME.value if hasattr(RUNTIME, "value") else str(RUNTIME)
    for doc in DOCS:
        text = doc.read_text()
        # A runtime named as deprecated is history, not a claim about the functions.
        named = {m.group() for m in re.finditer(r"nodejs\d+\.x", text)
                 if "deprecated" not in text[m.end():m.end() + 40]}
        assert named <= {runtime}, f"{doc.relative_to(REPO_ROOT)} names {sorted(named - {runtime})}, not {runtime}"
    assert runtime in DOCS[0].read_text()


def test_the_error_pages_the_readme_describes_are_the_planned_ones(chain: dict[str, Plan]) -> None:
    readme = DOCS[0].read_text()
    requirement = readme[readme.index("**Requirement 4 — custom error pages"):].split("\n- **", 1)[0]
    assert "origin-response" in requirement and "caching-only" in requirement
    assert "replaced by the HTML page" not in readme and "gets the HTML page as its body" not in readme
    dist = chain["edge"].one(DISTRIBUTION)
    # What the README promises: no response page path anywhere (it would be distribution-wide, HTML on the API).
    assert all("responsePagePath" not in r for r in dist.get("customErrorResponses"))
