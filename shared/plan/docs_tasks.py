"""`invoke docs`: regenerate the tables and the architecture picture the docs show, from the code (or check them)."""

from __future__ import annotations

import shutil
import subprocess

from invoke import Context, Exit

from shared.console import documented_task, refuse_clearly
from shared.dev import node_env
from shared.plan.docs import documents, render
from shared.plan.pictures import check_pictures, redraw
from shared.runtime.api_document import API_DOCUMENT
from shared.runtime.layers import REPO_ROOT


@documented_task(help={"check": "only check that every generated table and picture is up to date (exit 1 if not)"})
@refuse_clearly
def docs(c: Context, check: bool = False) -> None:
    """Regenerate the layer READMEs' config, outputs and reads tables, the root layer map, the cost table, the
    performance section, the API's OpenAPI document (openapi.json, with Node) and its README's route table, and the
    README's architecture picture (docs/architecture.dot and .png, drawn from the
    offline plan; Graphviz draws the PNG).

    --check: write nothing; exit 1 naming the stale files.
    """
    stale = []
    if not check:
        stale += _write_api_document()
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


def _write_api_document() -> list[str]:
    """containers/catalog-api/openapi.json from the route schemas (Node; the API's tests fail when it is stale)."""
    env = node_env()
    if shutil.which("node", path=env["PATH"]) is None:
        print(f"{API_DOCUMENT.relative_to(REPO_ROOT)}: not regenerated (no Node: `invoke install`)")
        return []
    before = API_DOCUMENT.read_bytes() if API_DOCUMENT.exists() else b""
    done = subprocess.run(["node", "scripts/openapi.mjs"], cwd=API_DOCUMENT.parent, env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise Exit(f"npm run openapi failed: {last}", code=1)
    return [str(API_DOCUMENT.relative_to(REPO_ROOT))] if API_DOCUMENT.read_bytes() != before else []
