"""Resource options the engine never shows a policy (retain_on_delete) are found in the layer's source.

Neither the Pulumi analyzer protocol nor the offline plan's mocks carry `retain_on_delete`; `protect` reaches the
real pack only. So the offline check reads `projects/<layer>/**/*.py`: any `retain_on_delete=` or `protect=` that is
not literally False is a violation, except `retain_on_delete` passed inline in the options of a Lambda
`Function(...)` of the edge layer (Lambda@Edge replicas: the documented exception).
"""

from __future__ import annotations

import ast
from pathlib import Path

from shared.runtime.layers import get_layer

FLAGGED = {"retain_on_delete": "no-retain-on-delete", "protect": "no-deletion-protection"}


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, None)


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def scan_source(path: Path, layer: str) -> list[tuple[str, str]]:
    """(policy name, message) for each option in `path` that would keep a resource alive after destroy."""
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except SyntaxError:
        return []
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.keyword) or node.arg not in FLAGGED or _is_false(node.value):
            continue
        if node.arg == "retain_on_delete" and layer == "edge" and _inline_in_function(node, parents):
            continue
        line = getattr(node.value, "lineno", 0)
        found.append((FLAGGED[node.arg], f"{path.name}:{line}: {node.arg}= keeps a resource alive after destroy"
                      + (" (allowed only inline in a Lambda@Edge Function's opts)" if layer == "edge" else "")))
    return found


def _inline_in_function(node: ast.keyword, parents: dict[ast.AST, ast.AST]) -> bool:
    """`Function(..., opts=ResourceOptions(retain_on_delete=True))`: the option sits in a Function's opts."""
    current: ast.AST | None = parents.get(node)
    while current is not None:
        parent = parents.get(current)
        if isinstance(current, ast.keyword) and current.arg == "opts" and isinstance(parent, ast.Call):
            return _call_name(parent) == "Function"
        current = parent
    return False


def scan_options(layer: str) -> list[tuple[str, str]]:
    spec = get_layer(layer)
    if not spec.directory.is_dir():
        return []
    found = []
    for path in sorted(spec.directory.rglob("*.py")):
        if "node_modules" not in path.parts:
            found += scan_source(path, layer)
    return found
