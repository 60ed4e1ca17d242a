"""`invoke docs`: regenerate the README's config and contract tables from the code."""

from __future__ import annotations

from invoke import Context, Exit, task

from shared.docs import render_readme
from shared.layers import REPO_ROOT


@task(help={"check": "only check that README.md is up to date (exit 1 if not)"})
def docs(c: Context, check: bool = False) -> None:
    """Regenerate the README tables of config keys and stack outputs from the settings and contracts."""
    readme = REPO_ROOT / "README.md"
    current = readme.read_text()
    updated = render_readme(current)
    if check:
        if updated != current:
            raise Exit("README.md tables are stale: run `invoke docs`", code=1)
        print("README.md tables are up to date")
        return
    readme.write_text(updated)
    print("README.md tables regenerated")
