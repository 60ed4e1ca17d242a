"""Human and machine views of offline plans: a per-layer table, the JSON plan, an architecture graph."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from shared.plan.computed import computed_state
from shared.plan.planner import Plan, mask

LAYER_COLOURS = {"network": "#dbeafe", "data": "#dcfce7", "app": "#fef3c7", "edge": "#fce7f3",
                 "observability": "#ede9fe"}


def short_type(type_token: str) -> str:
    """`aws:ec2/subnet:Subnet` -> `ec2:Subnet`."""
    package, _, rest = type_token.partition(":")
    module, _, name = rest.partition(":")
    return f"{module.split('/')[0]}:{name}" if package == "aws" else f"{package}:{name or module}"


def layer_table(plan: Plan) -> str:
    counts = Counter(short_type(r.type) for r in plan.custom_resources())
    width = max((len(t) for t in counts), default=10)
    lines = [f"  {'resource type'.ljust(width)}  count", f"  {'-' * width}  -----"]
    lines += [f"  {t.ljust(width)}  {n:>5}" for t, n in sorted(counts.items())]
    lines.append(f"  {'total'.ljust(width)}  {sum(counts.values()):>5}")
    return "\n".join(lines)


def exports_table(plan: Plan) -> str:
    lines = []
    for name in sorted(plan.exports):
        value = "[secret]" if name in plan.secret_exports else json.dumps(mask(plan.exports[name]))
        if len(value) > 100:
            value = value[:97] + "..."
        lines.append(f"  {name} = {value}")
    return "\n".join(lines)


def _scalars(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _scalars(v)]
    if isinstance(value, list):
        return [s for v in value for s in _scalars(v)]
    return [value] if isinstance(value, str) and len(value) > 6 else []


def architecture_dot(plans: dict[str, Plan]) -> str:
    """Graphviz graph: one cluster per layer, an edge wherever a resource input names another resource."""
    nodes: dict[str, tuple[str, str]] = {}  # node id -> (layer, label)
    identities: dict[str, str] = {}  # id/arn/name value -> node id
    for layer, plan in plans.items():
        for index, r in enumerate(plan.custom_resources()):
            node = f"{layer}_{index}"
            nodes[node] = (layer, f"{r.name}\\n{short_type(r.type)}")
            rid, state = computed_state(r.type, r.name, r.inputs)
            for value in (rid, state.get("arn"), state.get("name")):
                if isinstance(value, str) and len(value) > 6:
                    identities.setdefault(value, node)
    edges: set[tuple[str, str]] = set()
    for layer, plan in plans.items():
        for index, r in enumerate(plan.custom_resources()):
            node = f"{layer}_{index}"
            for value in _scalars(r.inputs):
                target = identities.get(value)
                if target and target != node:
                    edges.add((node, target))
    out = ["digraph catalog {", '  rankdir=LR; compound=true; node [shape=box, style="rounded,filled", '
           'fontname="Helvetica", fontsize=9];']
    for layer in plans:
        out.append(f'  subgraph cluster_{layer} {{ label="{layer}"; style=filled; color="{LAYER_COLOURS[layer]}";')
        out += [f'    {n} [label="{label}", fillcolor=white];' for n, (lay, label) in nodes.items() if lay == layer]
        out.append("  }")
    out += [f"  {a} -> {b};" for a, b in sorted(edges)]
    out.append("}")
    return "\n".join(out)


def write_outputs(plans: dict[str, Plan], out_dir: Path) -> list[Path]:
    """Write plan.json and architecture.dot (+ .svg/.png when Graphviz is installed); return the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    plan_file = out_dir / "plan.json"
    plan_file.write_text(json.dumps({name: plan.to_json() for name, plan in plans.items()}, indent=2))
    written.append(plan_file)
    dot_file = out_dir / "architecture.dot"
    dot_file.write_text(architecture_dot(plans))
    written.append(dot_file)
    dot = shutil.which("dot")
    if dot:
        for fmt in ("svg", "png"):
            target = out_dir / f"architecture.{fmt}"
            subprocess.run([dot, f"-T{fmt}", str(dot_file), "-o", str(target)], check=True, timeout=120)
            written.append(target)
    return written
