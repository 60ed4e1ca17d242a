"""The house rules, read from the code's own imports: each layer's folder is its home, programs never import a
tool product, a product reaches a sibling only through the sibling's package interface, no import runs back up,
test doubles live under tests/, and a consumer takes nothing of a producer but its outputs contract."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared.runtime.layers import LAYERS, REPO_ROOT

LAYER_NAMES = [layer.name for layer in LAYERS]


def imports_of(path: Path, text: str | None = None) -> list[str]:
    """Every module a file imports (absolute names; relative imports resolved against the package); `text` stands in
    for the file's content (a probe need not be written into the repository)."""
    tree = ast.parse(path.read_text() if text is None else text, filename=str(path))
    package = list(path.resolve().relative_to(REPO_ROOT.resolve()).with_suffix("").parts[:-1])
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or node.level):
            # `from ..data import outputs` in projects/app/x.py is projects.data (and projects.data.outputs).
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.append(module)
            names.extend(f"{module}.{alias.name}" for alias in node.names)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (REPO_ROOT / folder).rglob("*.py") if "node_modules" not in p.parts)


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_each_layer_folder_holds_its_settings_outputs_views_and_readme(layer: str) -> None:
    home = REPO_ROOT / "projects" / layer
    for name in ("__main__.py", "settings.py", "outputs.py", "README.md", "Pulumi.yaml"):
        assert (home / name).is_file(), f"projects/{layer}/{name}"
    assert (home / "upstream.py").is_file() == (layer != LAYER_NAMES[0]), f"projects/{layer}/upstream.py"


PRODUCTS = ("deploy", "plan", "policy", "ops", "dev")
# What the tools share besides the runtime: how tasks speak, and what they may know of a layer.
TOOL_INTERFACES = ("shared.console", "shared.declarations")


def test_the_tool_products_are_the_packages_under_shared() -> None:
    packages = sorted(p.parent.name for p in (REPO_ROOT / "shared").glob("*/__init__.py"))
    assert packages == sorted((*PRODUCTS, "runtime"))


@pytest.mark.parametrize("product", PRODUCTS)
def test_each_product_has_a_readme_naming_its_owner_tasks_and_interface(product: str) -> None:
    text = (REPO_ROOT / "shared" / product / "README.md").read_text()
    for needed in ("**Owner:**", "**Entry tasks:**", "**Interface for other products**", "**Libraries.**"):
        assert needed in text, f"shared/{product}/README.md lacks {needed}"
    # Every name the README lists as the interface is exported, and nothing else is.
    listed = set(re.findall(r"`(\w+)`", text.split("**Interface for other products**")[1].split("\n\n")[0]))
    exported = set(importlib.import_module(f"shared.{product}").__all__)
    assert exported <= listed, f"shared/{product}: exported but not in its README: {sorted(exported - listed)}"


def test_programs_and_runtime_never_import_a_tool_product() -> None:
    tools = tuple(f"shared.{p}" for p in PRODUCTS) + TOOL_INTERFACES + ("tests",)
    offenders = [f"{path.relative_to(REPO_ROOT)} imports {name}"
                 for folder in ("projects", "shared/runtime") for path in python_files(folder)
                 for name in imports_of(path) if name == "shared.tooling" or name.startswith(tools)]
    assert offenders == []


def sibling_imports(path: Path, own: str) -> list[str]:
    """Imports of another product that go past its package interface (`shared.plan.planner`, or a name
    `from shared.plan import` that the package does not export)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    bad: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [(node.module, [alias.name for alias in node.names])]
        else:
            continue
        for module, names in modules:
            parts = module.split(".")
            if parts[0] != "shared" or len(parts) < 2 or parts[1] not in PRODUCTS or parts[1] == own:
                continue
            if len(parts) > 2:
                bad.append(module)
                continue
            exported = set(importlib.import_module(module).__all__)
            bad.extend(f"{module}.{name}" for name in names if name not in exported)
    return bad


@pytest.mark.parametrize("product", PRODUCTS)
def test_a_product_reaches_a_sibling_only_through_its_interface(product: str) -> None:
    offenders = [f"{path.relative_to(REPO_ROOT)} imports {name}"
                 for path in python_files(f"shared/{product}") for name in sibling_imports(path, product)]
    assert offenders == []


def test_the_boundary_check_sees_a_reach_into_a_siblings_module(tmp_path: Path) -> None:
    # The rule above must be able to fail: a module reaching into plan's planner, or a name plan does not export.
    probe = tmp_path / "probe.py"
    probe.write_text("from shared.plan.planner import Plan\nfrom shared.plan import mask, Plan\n"
                     "import shared.ops.sale\n")
    assert sibling_imports(probe, "policy") == ["shared.plan.planner", "shared.plan.mask", "shared.ops.sale"]
    assert sibling_imports(probe, "plan") == ["shared.ops.sale"]


def test_shared_imports_no_test_double() -> None:
    offenders = [f"{path.relative_to(REPO_ROOT)} imports {name}" for path in python_files("shared")
                 for name in imports_of(path) if name.split(".")[0] == "tests"]
    assert offenders == []
    assert not [p for p in python_files("shared") if "memory" in p.name or "fake" in p.name]


def test_shared_never_imports_a_layer_statically() -> None:
    # The tools reach a layer's declarations only through shared/declarations.py.
    offenders = [f"{path.relative_to(REPO_ROOT)} imports {name}" for path in python_files("shared")
                 for name in imports_of(path) if name.split(".")[0] == "projects"]
    assert offenders == []


LAYER_TEST_FOLDERS = (*LAYER_NAMES, "bootstrap")


def test_tests_mirror_the_house() -> None:
    # Every test file sits in the folder of what it tests: a layer, the bootstrap, a product or the runtime.
    allowed = {*LAYER_TEST_FOLDERS, *PRODUCTS, "runtime"}
    tests = REPO_ROOT / "tests"
    flat = sorted(p.name for p in tests.glob("test_*.py") if p.name != "test_structure.py")
    assert flat == [], f"test files outside a room's folder: {flat}"
    folders = {p.parent.name for p in tests.glob("*/test_*.py")}
    assert folders <= allowed, sorted(folders - allowed)
    for layer in LAYER_TEST_FOLDERS:
        assert list((tests / layer).glob("test_*.py")), f"tests/{layer}/ has no tests"


def test_codeowners_gives_each_layer_team_its_code_and_its_tests() -> None:
    from shared.runtime.layers import LAYERS

    rules = [line.split() for line in (REPO_ROOT / ".github" / "CODEOWNERS").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    owner_of = {pattern: owners for pattern, *owners in rules}
    for layer in LAYERS:
        code, tests = owner_of.get(f"/projects/{layer.name}/"), owner_of.get(f"/tests/{layer.name}/")
        assert code and code == tests, f"{layer.name}: code owned by {code}, tests by {tests}"


def beyond_contracts(layer: str, names: list[str]) -> list[str]:
    """The imported names that reach into another layer's package past its outputs contract."""
    return [name for name in names if (parts := name.split("."))[0] == "projects" and len(parts) > 1
            and parts[1] != layer and parts[2:3] != ["outputs"]]


def test_a_consumer_imports_nothing_of_a_producer_but_its_outputs_contract() -> None:
    # Anything else of a producer's package would run the producer team's code in this layer's deploy.
    # The rehearsal's stack reads the layers' contracts too.
    offenders = [f"{path.relative_to(REPO_ROOT)} imports {name}" for layer in (*LAYER_NAMES, "rehearsal")
                 for path in python_files(f"projects/{layer}") for name in beyond_contracts(layer, imports_of(path))]
    assert offenders == []


def test_the_consumer_check_sees_relative_and_package_imports() -> None:
    # The rule above must be able to fail, whichever way the import is spelled.
    source = ("from ..data import settings\nfrom ..data.outputs import OUTPUTS\nimport projects.data.upstream\n"
              "from . import alb\n")
    names = imports_of(REPO_ROOT / "projects" / "app" / "probe.py", source)
    assert names == ["projects.data", "projects.data.settings", "projects.data.outputs",
                     "projects.data.outputs.OUTPUTS", "projects.data.upstream", "projects.app", "projects.app.alb"]
    assert beyond_contracts("app", names) == ["projects.data", "projects.data.settings", "projects.data.upstream"]


# Every layer package's __init__.py runs before its outputs contract in every consumer's deploy (and the root
# package's in every deploy), so it holds a docstring at most; CODEOWNERS gives it to the platform team. The
# bootstrap's and the rehearsal's fall under the same CODEOWNERS line, so under the same rule.
PACKAGE_INITS = (REPO_ROOT / "projects" / "__init__.py",
                 *sorted({*(REPO_ROOT / "projects").glob("*/__init__.py"),
                          *(REPO_ROOT / "projects" / name / "__init__.py" for name in LAYER_NAMES)}))


def runs_code(path: Path) -> list[str]:
    """The statements of a module beyond an optional docstring."""
    body = ast.parse(path.read_text(), filename=str(path)).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return [ast.unparse(node).splitlines()[0] for node in body]


@pytest.mark.parametrize("init", PACKAGE_INITS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_layer_packages_run_no_code(init: Path) -> None:
    assert init.is_file(), init.relative_to(REPO_ROOT)
    assert runs_code(init) == [], f"{init.relative_to(REPO_ROOT)} may hold only a docstring"


def test_the_package_check_sees_code(tmp_path: Path) -> None:
    probe = tmp_path / "__init__.py"
    probe.write_text('"""Doc."""\nfrom __future__ import annotations\nimport os\n')
    assert runs_code(probe) == ["from __future__ import annotations", "import os"]
    probe.write_text('"""Only a docstring."""\n')
    assert runs_code(probe) == []


SHADOWS = re.compile(r"(^|/)__pycache__/|\.(pyc|pyo|so|pyd)$|^projects/[^/]+/(outputs|__init__)/")


def test_nothing_tracked_shadows_a_contract_or_a_package() -> None:
    # Python takes a package folder outputs/ before outputs.py, an extension module before the source, and an
    # unchecked-hash __pycache__/*.pyc without reading the source: any of them would run in place of the reviewed file.
    tracked = subprocess.run(["git", "ls-files", "projects"], cwd=REPO_ROOT, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    assert [name for name in tracked if SHADOWS.search(name)] == []
    assert [name for name in ("projects/data/outputs/__init__.py", "projects/data/__pycache__/outputs.cpython-311.pyc",
                              "projects/app/__init__.abi3.so", "projects/app/outputs.py") if SHADOWS.search(name)] == [
        "projects/data/outputs/__init__.py", "projects/data/__pycache__/outputs.cpython-311.pyc",
        "projects/app/__init__.abi3.so"]


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


OUTSIDE_DOCUMENTS = ("MISSION" + ".md", "CONVENTIONS" + ".md", "AWS_RULES" + ".md")  # in parts: not to match here


def outside_references(name: str, text: str) -> list[str]:
    """What in one tracked file points outside the repository: a Markdown link that resolves above the root, the
    requirement documents kept beside it, or an absolute path of a work machine."""
    found = []
    base = (REPO_ROOT / name).parent
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        if not (base / target).resolve().is_relative_to(REPO_ROOT.resolve()):
            found.append(f"link {target}")
    found.extend(f"document {doc}" for doc in OUTSIDE_DOCUMENTS if doc in text)
    found.extend(f"machine path {m}" for m in re.findall(r"(?<![\w.])/(?:work|tmp/studio)/\S*", text))
    return found


def test_the_repository_stands_alone() -> None:
    # No file points at documents or folders outside the repository (the AWS rules live in docs/aws-rules.md).
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    offenders = {name: refs for name in tracked.stdout.splitlines()
                 if (REPO_ROOT / name).is_file() and not name.endswith((".png", ".zip", ".json"))
                 and name != "tests/test_structure.py"  # its own examples below
                 and (refs := outside_references(name, (REPO_ROOT / name).read_text(errors="ignore")))}
    assert offenders == {}


def test_the_stand_alone_check_sees_each_kind_of_reference() -> None:
    assert outside_references("README.md", "see [rules](../shared/x.md)") == ["link ../shared/x.md"]
    assert outside_references("docs/a.md", "[up](../README.md) and [out](../../x.md)") == ["link ../../x.md"]
    assert outside_references("docs/a.md", "as " + OUTSIDE_DOCUMENTS[0] + " says") == [
        "document " + OUTSIDE_DOCUMENTS[0]]
    assert outside_references("tasks.py", "open('/" + "work/main/x')") == ["machine path /" + "work/main/x')"]
    assert outside_references("docs/a.md", "[ok](../projects/app/README.md)") == []


TRACKER_REFERENCE = re.compile(r"[Ii]ssue #\d+|\(#\d+\)")


def test_docs_and_code_speak_of_the_product_not_of_tracker_numbers() -> None:
    # A reader of the repository never sees the tracker; applied migrations are immutable (checksummed).
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    offenders = [name for name in tracked.stdout.splitlines()
                 if (REPO_ROOT / name).is_file() and "/migrations/" not in name
                 and not name.endswith((".png", ".zip", ".json")) and name != "tests/test_structure.py"
                 and TRACKER_REFERENCE.search((REPO_ROOT / name).read_text(errors="ignore"))]
    assert offenders == []


# What may run next to a deploy role: the platform's rooms (and the runtime programs import anyway).
PLATFORM_MODULES = ("shared.deploy", "shared.policy", "shared.plan", "shared.dev", "shared.runtime", "shared.console",
                    "shared.declarations", "shared")


def test_the_pipelines_deploy_entry_loads_only_platform_code() -> None:
    probe = ("import sys, shared.deploy.pipeline; "
             "print('\\n'.join(m for m in sys.modules if m.split('.')[0] in ('shared', 'projects', 'tasks', 'tests')))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    foreign = [m for m in loaded if not m.startswith(PLATFORM_MODULES) or m.startswith("shared.ops")]
    assert "shared.deploy.tasks" in loaded and foreign == []


def test_tasks_py_would_load_another_teams_code() -> None:
    # Why the pipelines do not run `invoke`: the full collection imports operations' task modules.
    probe = "import sys, tasks; print(any(m.startswith('shared.ops') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_outputs_contracts_need_the_platform_teams_review() -> None:
    # A layer's outputs.py runs in every consumer's deploy: its owner line must come after the layers' own lines.
    rules = [line.split() for line in (REPO_ROOT / ".github" / "CODEOWNERS").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    patterns = [pattern for pattern, *_ in rules]
    # Importing the contract runs its package's __init__.py first: same owner, same place.
    for pattern in ("/projects/*/outputs.py", "/projects/*/__init__.py"):
        contract = patterns.index(pattern)
        assert dict((p, o) for p, *o in rules)[pattern] == ["@org/platform-team"]
        assert all(patterns.index(f"/projects/{layer}/") < contract for layer in LAYER_NAMES)
        assert not [p for p in patterns[contract + 1:] if p.startswith("/projects/")
                    and not p.startswith(("/projects/*/", "/projects/edge/functions/"))], pattern
