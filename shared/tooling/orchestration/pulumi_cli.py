"""Find the Pulumi CLI: on PATH, else in the project-local `.pulumi-cli/`, else install it there.

When none of that works (offline, no CLI) the task stops with one line saying how to install it.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

LOCAL_CLI_ROOT = REPO_ROOT / ".pulumi-cli"
INSTALL_URL = "https://www.pulumi.com/docs/install/"
INSTALL_TIMEOUT_S = 30  # the SDK's download has no timeout of its own; a black-holed network must not hang a task


class PulumiCliMissing(CatalogError):
    """No Pulumi CLI and none could be installed."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."


def locate_pulumi_cli(
    *,
    which: Callable[[str], str | None] | None = None,
    command: Callable[..., Any] | None = None,
    install: Callable[..., Any] | None = None,
    root: Path | None = None,
    say: Callable[[str], None] = print,
) -> Any:
    """Return a `pulumi.automation.PulumiCommand`; raise PulumiCliMissing with the way out."""
    which = which or shutil.which
    root = root or LOCAL_CLI_ROOT
    if command is None or install is None:
        from pulumi import automation as auto

        command = command or auto.PulumiCommand
        install = install or auto.PulumiCommand.install
    try:
        if which("pulumi"):
            return command()
        if (root / "bin" / "pulumi").is_file():
            return command(root=str(root))
    except Exception as exc:  # a broken or too old CLI: InvalidVersionError, CalledProcessError, ...
        raise PulumiCliMissing(f"the Pulumi CLI does not work: {_one_line(exc)}",
                               f"install a current one: {INSTALL_URL}") from None
    shown = root.relative_to(REPO_ROOT) if root.is_relative_to(REPO_ROOT) else root
    say(f"Pulumi CLI not on PATH: installing it into {shown}")
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(INSTALL_TIMEOUT_S)
    try:
        return install(root=str(root))
    except Exception as exc:
        raise PulumiCliMissing(
            f"the Pulumi CLI is not on PATH and could not be installed ({_one_line(exc)})",
            f"install it from {INSTALL_URL} and put `pulumi` on PATH",
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


def cli_path(which: Callable[[str], str | None] | None = None, root: Path | None = None) -> str | None:
    """The path of the CLI `locate_pulumi_cli` would use, without installing anything (for `doctor`)."""
    found = (which or shutil.which)("pulumi")
    if found:
        return found
    local = (root or LOCAL_CLI_ROOT) / "bin" / "pulumi"
    return str(local) if local.is_file() else None
