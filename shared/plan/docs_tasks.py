"""`invoke docs`: regenerate the READMEs' generated tables from the code (or check they are current)."""

from __future__ import annotations

from invoke import Context, Exit

from shared.console import documented_task
from shared.plan.docs import documents, render
from shared.runtime.layers import REPO_ROOT


@documented_task(help={"check": "only check that every generated table is up to date (exit 1 if not)"})
def docs(c: Context, check: bool = False) -> None:
    """Regenerate the layer READMEs' config, outputs and reads tables, the root layer map and the performance
    section, from the settings, contracts, views and the reference bench run.

    --check: write nothing; exit 1 naming the stale files.
    """
    stale = []
    for path in documents():
        current = path.read_text()
        updated = render(path, current)
        if updated != current:
            stale.append(str(path.relative_to(REPO_ROOT)))
            if not check:
                path.write_text(updated)
    if check:
        if stale:
            raise Exit(f"stale generated tables in {', '.join(stale)}: run `invoke docs`", code=1)
        print("generated tables are up to date")
        return
    print(f"regenerated {', '.join(stale)}" if stale else "generated tables were already up to date")
