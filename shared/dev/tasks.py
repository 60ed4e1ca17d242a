"""Developer tasks: `install` (Node dependencies), `test` (everything CI runs), `dev` (the API locally)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from invoke import Context, Exit

from shared.console import documented_task, refuse_clearly
from shared.dev import mutation
from shared.dev.node_runtime import NODE_VERSION, bin_dir, ensure_node, installed_version, node_env
from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT, get_layer

SKIP_DIRS = {"node_modules", ".venv", ".git", "build", ".pulumi-state"}


def node_packages() -> list[Path]:
    """Every folder of the repo with a package.json, outside dependency and build folders."""
    found = []
    for path in sorted(REPO_ROOT.rglob("package.json")):
        if not SKIP_DIRS.intersection(path.relative_to(REPO_ROOT).parts):
            found.append(path.parent)
    return found


def _run(step: str, cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[str, bool, float]:
    print(f"\n=== {step}: {' '.join(cmd)}  (in {cwd.relative_to(REPO_ROOT) or '.'})", flush=True)
    started = time.perf_counter()
    ok = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, check=False).returncode == 0
    return step, ok, time.perf_counter() - started


# What a layer's deploy itself reads from a Node package (the edge layer zips its functions with their
# node_modules, the data layer its rotation function); every other layer's deploy needs no Node package. The API
# image installs its own dependencies inside the image build.
DEPLOY_PACKAGES: dict[str, tuple[str, ...]] = {"edge": ("projects/edge/functions",),
                                               "data": ("projects/data/rotation",)}


def deploy_install_commands(layer: str) -> list[tuple[Path, list[str]]]:
    """The installs one layer's deploy needs, run where the deploy role's credentials are: exact lockfile, no
    package scripts (no other team's or dependency's code runs with that role) and no dev dependencies (only what
    the zips hold)."""
    get_layer(layer)
    return [(REPO_ROOT / folder, ["npm", "ci", "--ignore-scripts", "--omit=dev", "--no-audit", "--no-fund"])
            for folder in DEPLOY_PACKAGES.get(layer, ())]


def check_port_free(port: int, host: str = "127.0.0.1") -> None:
    """The local API's port, refused in one line when it is out of range or another process listens on it."""
    if not 1 <= port <= 65535:
        raise CatalogError(f"--port {port} is not a TCP port", "1-65535, e.g. --port 3000")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise CatalogError(f"port {port} on {host} is in use by another process",
                               f"stop it, or pick another: invoke dev --port {port + 1}") from None


@documented_task(help={"fresh": "use `npm ci` (exact lockfile, what CI does) instead of `npm install`",
                       "layer": "install only what this layer's deploy needs, with no package scripts (what the "
                                "credentialed pipeline jobs run); default: everything, for development"})
@refuse_clearly
def install(c: Context, fresh: bool = True, layer: str = "") -> None:
    """Install Node.js 24 (the production major) under .tools/, then the Node dependencies of every package
    (API, edge functions, bench) with it."""
    ensure_node()
    env = node_env()
    print(f"node: {subprocess.run(['node', '--version'], env=env, capture_output=True, text=True).stdout.strip()}"
          f" from {bin_dir().relative_to(REPO_ROOT)}", flush=True)
    if layer:
        steps = deploy_install_commands(layer)
        if not steps:
            print(f"npm: layer {layer}'s deploy needs no Node package", flush=True)
    else:
        steps = [(package, ["npm", "ci" if fresh and (package / "package-lock.json").exists() else "install",
                            "--no-audit", "--no-fund"]) for package in node_packages()]
    for package, cmd in steps:
        print(f"npm: {package.relative_to(REPO_ROOT)} ({' '.join(cmd[1:])})", flush=True)
        if subprocess.run(cmd, cwd=package, env=env, check=False).returncode != 0:
            raise Exit(f"npm failed in {package.relative_to(REPO_ROOT)}", code=1)


@documented_task(help={"pytest_args": "extra arguments for pytest, e.g. '-k network'",
                       "python_only": "skip Node suites"})
def test(c: Context, pytest_args: str = "", python_only: bool = False) -> None:
    """Run every check: ruff, pytest (layers under mocks, contracts, tasks), and each Node package's tests."""
    env = {"MOTO_PYTHON": sys.executable, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    results = [_run("ruff", [sys.executable, "-m", "ruff", "check", "."], REPO_ROOT)]
    # Two workers: the machine has two cores and most time goes to planning layers in subprocesses.
    # The GitHub workflows: actionlint (syntax, expressions, permissions of reusable calls) and zizmor (security
    # audits), both offline and over the same files the pipelines run.
    workflows = [str(p.relative_to(REPO_ROOT)) for p in sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))]
    results.append(_run("actionlint", [str(Path(sys.executable).with_name("actionlint")), *workflows], REPO_ROOT))
    results.append(_run("zizmor", [str(Path(sys.executable).with_name("zizmor")), "--offline", "--config",
                                   ".github/zizmor.yml", ".github/workflows"], REPO_ROOT))
    results.append(_run("pytest", [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2",
                                   *pytest_args.split()], REPO_ROOT, env))
    if not python_only:
        if installed_version() != NODE_VERSION:
            raise Exit(f"Node.js {NODE_VERSION} is not installed under .tools/: run `invoke install`", code=2)
        env = node_env({**os.environ, **env})
        for package in node_packages():
            if "test" not in json.loads((package / "package.json").read_text()).get("scripts", {}):
                continue
            if not (package / "node_modules").exists() and (package / "package-lock.json").exists():
                lock = (package / "package-lock.json").read_text()
                if '"node_modules/' in lock:
                    results.append((f"npm test {package.name}", False, 0.0))
                    print(f"{package.relative_to(REPO_ROOT)}: dependencies missing, run `invoke install`")
                    continue
            version = subprocess.run(["node", "--version"], env=env, capture_output=True, text=True).stdout.strip()
            results.append(_run(f"node tests: {package.relative_to(REPO_ROOT)} on Node {version}", ["npm", "test"],
                                package, env))
    print("\n=== summary")
    for step, ok, seconds in results:
        print(f"  {'PASS' if ok else 'FAIL'}  {step}  ({seconds:.1f} s)")
    failed = [step for step, ok, _ in results if not ok]
    if failed:
        raise Exit(f"failed: {', '.join(failed)}", code=1)


@documented_task(help={"port": "port of the local API (default 3000)",
                       "waiting_room": "SKU[,SKU] sold through the waiting room (its table, key and controller are "
                                       "made locally; the curls to try it are printed)"})
@refuse_clearly
def dev(c: Context, port: int = 3000, waiting_room: str = "") -> None:
    """Run the API locally: local PostgreSQL, a moto server for DynamoDB, migrations, seed; prints the URL (with
    --waiting-room SKU[,SKU], or WAITING_ROOM_SKUS, those SKUs sell through the waiting room)."""
    script = REPO_ROOT / "containers" / "catalog-api" / "scripts" / "dev.mjs"
    check_port_free(port)  # before PostgreSQL, moto or Node start: nothing is left running on a refusal
    if not script.exists():
        raise Exit("containers/catalog-api/scripts/dev.mjs is missing", code=1)
    env = {**node_env(), "MOTO_PYTHON": sys.executable, "PORT": str(port)}
    if waiting_room:
        env["WAITING_ROOM_SKUS"] = waiting_room  # dev.mjs makes the room's table, HMAC key and controller
    raise Exit(code=subprocess.run(["node", str(script)], cwd=script.parent.parent, env=env, check=False).returncode)


@documented_task(help={"max": "run at most this many mutations of the list (default 30: all of them)",
                       "only": "only mutations whose file or description contains this text, e.g. 'policy'",
                       "timeout": "seconds one mutation's tests may take before counting as killed (default 300)",
                       "list_only": "print the mutations and their tests, run nothing"})
def mutate(c: Context, max: int = 30, only: str = "", timeout: int = mutation.DEFAULT_TIMEOUT_S,
           list_only: bool = False) -> None:
    """Mutation check: apply each listed mistake (a flipped constant, a dropped key, a reversed comparison, a changed
    default) to a copy of the tree, run the owning tests (`pytest -x -q`), report killed/survived. Slow (about
    5-15 minutes for the whole list on two cores), so not part of `invoke test`."""
    chosen = mutation.select(mutation.MUTATIONS, only, max if max > 0 else None)
    if not chosen:
        raise Exit(f"no mutation matches {only!r} (invoke mutate --list-only shows them)", code=2)
    if list_only:
        for m in chosen:
            print(f"{m.label}\n    {' '.join(m.tests)}")
        return
    print(f"{len(chosen)} mutations; each runs its tests with -x -q in a copy of the tree", flush=True)
    outcomes = mutation.run(chosen, timeout_s=timeout, say=lambda line: print(line, flush=True))
    met, summary = mutation.verdict(outcomes)
    print(f"\n=== mutation check: {summary}")
    for outcome in outcomes:
        if outcome.status in ("survived", "error"):
            print(f"  {outcome.status}: {outcome.mutation.label}")
    if not met:
        raise Exit(code=1)
