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


# Computed attributes by which one resource names another (ARNs, endpoints, DNS names, ...).
IDENTITY_KEYS = ("arn", "name", "qualifiedArn", "invokeArn", "executionArn", "arnSuffix", "dnsName", "domainName",
                 "bucketDomainName", "bucketRegionalDomainName", "iamArn", "cloudfrontAccessIdentityPath",
                 "endpoint", "readerEndpoint", "repositoryUrl", "keyId")


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
        # A `name` field names the resource (or a part of it) itself, never another resource: a CloudFront VPC
        # origin's endpoint name equals the origin request policy's name, which is not a dependency.
        return [s for k, v in value.items() if k != "name" for s in _scalars(v)]
    if isinstance(value, list):
        return [s for v in value for s in _scalars(v)]
    return [value] if isinstance(value, str) and len(value) > 6 else []


def architecture_dot(plans: dict[str, Plan]) -> str:
    """Graphviz graph: one cluster per layer, an edge wherever a resource input names another resource."""
    nodes, edges = _resource_edges(plans)
    out = ["digraph catalog {", '  rankdir=LR; compound=true; node [shape=box, style="rounded,filled", '
           'fontname="Helvetica", fontsize=9];']
    for layer in plans:
        out.append(f'  subgraph cluster_{layer} {{ label="{layer}"; style=filled; color="{LAYER_COLOURS[layer]}";')
        out += [f'    {n} [label="{r.name}\\n{short_type(r.type)}", fillcolor=white];'
                for n, (lay, r) in nodes.items() if lay == layer]
        out.append("  }")
    out += [f"  {a} -> {b};" for a, b in sorted(edges)]
    out.append("}")
    return "\n".join(out)


def _resource_edges(plans: dict[str, Plan]) -> tuple[dict[str, tuple[str, Any]], set[tuple[str, str]]]:
    """Node id -> (layer, resource), and an edge wherever a resource input names another resource."""
    nodes: dict[str, tuple[str, Any]] = {}
    owners: dict[str, set[str]] = {}  # id/arn/name value -> node ids that carry it
    for layer, plan in plans.items():
        for index, r in enumerate(plan.custom_resources()):
            node = f"{layer}_{index}"
            nodes[node] = (layer, r)
            rid, state = computed_state(r.type, r.name, r.inputs)
            for value in (rid, *(state.get(key) for key in IDENTITY_KEYS)):
                if isinstance(value, str) and len(value) > 6:
                    owners.setdefault(value, set()).add(node)
    # A physical name can be shared (ECR repository, function and ALB are all `catalog-api-<suffix>`): only
    # values that point at exactly one resource make an edge.
    identities = {value: next(iter(found)) for value, found in owners.items() if len(found) == 1}
    edges: set[tuple[str, str]] = set()
    for node, (_, r) in nodes.items():
        for value in _scalars(r.inputs):
            target = identities.get(value)
            if target and target != node:
                edges.add((node, target))
    return nodes, edges


def overview_dot(plans: dict[str, Plan]) -> str:
    """One box per component (ComponentResource) with its resource count, edges aggregated between them:
    the architecture at a readable size."""
    nodes, edges = _resource_edges(plans)
    component_of: dict[str, str] = {}
    members: dict[str, Counter[str]] = {}
    for node, (layer, r) in nodes.items():
        component = f"{layer}__{(r.options.get('parent') or layer).replace('-', '_')}"
        component_of[node] = component
        members.setdefault(component, Counter())[short_type(r.type).split(":")[1]] += 1
    out = ["digraph catalog_overview {", '  rankdir=LR; newrank=true; node [shape=box, style="rounded,filled", '
           'fontname="Helvetica", fontsize=10]; edge [color="#64748b"];']
    for layer in plans:
        out.append(f'  subgraph cluster_{layer} {{ label="{layer}"; fontname="Helvetica-Bold"; style=filled; '
                   f'color="{LAYER_COLOURS[layer]}";')
        # Sorted, ties by name: the engine registers resources in no fixed order, and the picture in the docs is
        # compared with this text (`invoke docs --check`).
        for component, counts in sorted(members.items()):
            if component.startswith(f"{layer}__"):
                top = ", ".join(f"{n} {t}" for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
                name = component.split("__", 1)[1].replace("_", "-")
                out.append(f'    {component} [label="{name}\\n{sum(counts.values())} resources\\n{top}", '
                           'fillcolor=white];')
        out.append("  }")
    aggregated = {(component_of[a], component_of[b]) for a, b in edges if component_of[a] != component_of[b]}
    out += [f"  {b} -> {a};" for a, b in sorted(aggregated)]
    out.append("}")
    return "\n".join(out)


def write_outputs(plans: dict[str, Plan], out_dir: Path) -> list[Path]:
    """Write plan.json and architecture.dot (+ .svg/.png when Graphviz is installed); return the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    plan_file = out_dir / "plan.json"
    plan_file.write_text(json.dumps({name: plan.to_json() for name, plan in plans.items()}, indent=2))
    written.append(plan_file)
    dot = shutil.which("dot")
    for stem, text in (("architecture", architecture_dot(plans)), ("overview", overview_dot(plans))):
        dot_file = out_dir / f"{stem}.dot"
        dot_file.write_text(text)
        written.append(dot_file)
        if dot:
            for fmt in ("svg", "png"):
                target = out_dir / f"{stem}.{fmt}"
                subprocess.run([dot, f"-T{fmt}", str(dot_file), "-o", str(target)], check=True, timeout=120)
                written.append(target)
    return written
