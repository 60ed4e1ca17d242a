"""`invoke docs`: regenerate the tables and the architecture picture the docs show, from the code (or check them)."""

from __future__ import annotations

from invoke import Context, Exit

from shared.console import documented_task, refuse_clearly
from shared.plan.docs import documents, render
from shared.plan.pictures import check_pictures, redraw
from shared.runtime.layers import REPO_ROOT


@documented_task(help={"check": "only check that every generated table and picture is up to date (exit 1 if not)"})
@refuse_clearly
def docs(c: Context, check: bool = False) -> None:
    """Regenerate the layer READMEs' config, outputs and reads tables, the root layer map, the cost table and the
    performance section, and the README's architecture picture (docs/architecture.dot and .png, drawn from the
    offline plan; Graphviz draws the PNG).

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
        stale += check_pictures().stale
        if stale:
            raise Exit(f"stale generated docs: {', '.join(stale)}: run `invoke docs`", code=1)
        print("generated tables and pictures are up to date")
        return
    stale += redraw()
    print(f"regenerated {', '.join(stale)}" if stale else "generated tables and pictures were already up to date")
