"""The house rules, read from the code's own imports: each layer's folder is its home, programs never import
tooling, no import runs back up, and a consumer takes nothing of a producer but its outputs contract."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared.runtime.layers import LAYERS, REPO_ROOT

LAYER_NAMES = [layer.name for layer in LAYERS]


def imports_of(path: Path) -> list[str]:
    """Every module a file imports (absolute names; relative imports resolved against the package)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (REPO_ROOT / folder).rglob("*.py") if "node_modules" not in p.parts)


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_each_layer_folder_holds_its_settings_outputs_views_and_readme(layer: str) -> None:
    home = REPO_ROOT / "projects" / layer
    for name in ("__main__.py", "settings.py", "outputs.py", "README.md", "Pulumi.yaml"):
        assert (home / name).is_file(), f"projects/{layer}/{name}"
    assert (home / "upstream.py").is_file() == (layer != LAYER_NAMES[0]), f"projects/{layer}/upstream.py"


def test_programs_and_runtime_never_import_tooling() -> None:
    offenders = [f"{path.relative_to(REPO_ROOT)} imports {name}"
                 for folder in ("projects", "shared/runtime") for path in python_files(folder)
                 for name in imports_of(path) if name.startswith("shared.tooling")]
    assert offenders == []


def test_shared_never_imports_a_layer_statically() -> None:
    # The tooling reaches a layer's declarations only through shared/tooling/declarations.py, by convention.
    offenders = [f"{path.relative_to(REPO_ROOT)} imports {name}" for path in python_files("shared")
                 for name in imports_of(path) if name.split(".")[0] == "projects"]
    assert offenders == []


def test_a_consumer_imports_nothing_of_a_producer_but_its_outputs_contract() -> None:
    offenders = []
    for layer in LAYER_NAMES:
        for path in python_files(f"projects/{layer}"):
            for name in imports_of(path):
                parts = name.split(".")
                foreign = parts[0] == "projects" and len(parts) > 1 and parts[1] != layer
                if foreign and parts[2:3] != ["outputs"]:
                    offenders.append(f"{path.relative_to(REPO_ROOT)} imports {name}")
    assert offenders == []


def test_outputs_and_settings_modules_declare_no_resources() -> None:
    for layer in LAYER_NAMES:
        for name in ("outputs.py", "settings.py"):
            imported = imports_of(REPO_ROOT / "projects" / layer / name)
            assert not [m for m in imported if m.startswith(("pulumi_aws", "pulumi_command"))], f"{layer}/{name}"


def test_layer_programs_only_wire_components() -> None:
    # A program declares no AWS resource itself: each is inside a component of the layer's folder.
    for layer in LAYER_NAMES:
        tree = ast.parse((REPO_ROOT / "projects" / layer / "__main__.py").read_text())
        direct = [ast.unparse(node.func) for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and ast.unparse(node.func).startswith("aws.")
                  and not ast.unparse(node.func).startswith("aws.get_")]
        assert direct == [], f"projects/{layer}/__main__.py declares {direct}"


def test_the_repository_stands_alone() -> None:
    # No file points at documents outside the repository (the AWS rules live in docs/aws-rules.md).
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    outside = "../" + "shared"  # spelled in two parts so this file does not match itself
    offenders = [name for name in tracked.stdout.splitlines()
                 if (REPO_ROOT / name).is_file() and not name.endswith((".png", ".zip", ".json"))
                 and outside in (REPO_ROOT / name).read_text(errors="ignore")]
    assert offenders == []
