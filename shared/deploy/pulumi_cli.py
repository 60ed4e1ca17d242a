"""Find the Pulumi CLI: on PATH, else in the project-local `.pulumi-cli/`, else install it there.

The install downloads the release archive of the installed pulumi SDK's version from GitHub (connect and read
timeouts), checks its SHA-256 against the release's published checksums file and extracts it into
`.pulumi-cli/bin`: no install script runs. When none of that works (offline, no CLI) the task stops with one line
saying how to install it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import shutil
import socket
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

LOCAL_CLI_ROOT = REPO_ROOT / ".pulumi-cli"
INSTALL_URL = "https://www.pulumi.com/docs/install/"
INSTALL_TIMEOUT_S = 30  # an injected installer's sockets; a black-holed network must not hang a task
RELEASES_URL = "https://github.com/pulumi/pulumi/releases/download"  # v<ver>/pulumi-v<ver>-<os>-<arch>.tar.gz
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 30.0  # per read: a server that accepts and never answers fails after this
_OS = {"Linux": "linux", "Darwin": "darwin"}
_ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}


def sdk_version() -> str:
    """The CLI version to install: the installed pulumi SDK's (the Automation API checks the CLI against it)."""
    return importlib.metadata.version("pulumi")


def release_archive(version: str, system: str | None = None, machine: str | None = None) -> str:
    os_name, arch = _OS.get(system or platform.system()), _ARCH.get((machine or platform.machine()).lower())
    if not os_name or not arch:
        raise CatalogError(f"no Pulumi CLI release for {system or platform.system()}/{machine or platform.machine()}",
                           f"install it from {INSTALL_URL}")
    return f"pulumi-v{version}-{os_name}-{arch}.tar.gz"


def _download(url: str, dest: Path, connect_timeout: float, read_timeout: float) -> str:
    """Stream `url` to `dest`; return its SHA-256 (hex). GitHub answers release URLs with a redirect."""
    import urllib3

    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
                               retries=urllib3.Retry(total=2, redirect=5, connect=1, read=0))
    digest = hashlib.sha256()
    response = http.request("GET", url, preload_content=False)
    try:
        if response.status != 200:
            raise CatalogError(f"{url} answered HTTP {response.status}", f"install it from {INSTALL_URL}")
        with dest.open("wb") as out:
            for chunk in response.stream(1 << 20):
                digest.update(chunk)
                out.write(chunk)
    finally:
        response.release_conn()
    return digest.hexdigest()


def install_release(root: Path, version: str | None = None, *, base_url: str = RELEASES_URL,
                    connect_timeout: float = CONNECT_TIMEOUT_S, read_timeout: float = READ_TIMEOUT_S,
                    system: str | None = None, machine: str | None = None) -> Path:
    """Download, verify and extract the CLI release into `root/bin`; return the `pulumi` binary's path.

    Nothing is written under `root` unless the archive's checksum matches the published one.
    """
    version = version or sdk_version()
    archive = release_archive(version, system, machine)
    release = f"{base_url.rstrip('/')}/v{version}"
    with tempfile.TemporaryDirectory(prefix="pulumi-cli-") as tmp:
        work = Path(tmp)
        _download(f"{release}/pulumi-{version}-checksums.txt", work / "checksums.txt", connect_timeout, read_timeout)
        published = {parts[-1].lstrip("*"): parts[0].lower()
                     for parts in (line.split() for line in (work / "checksums.txt").read_text().splitlines())
                     if len(parts) == 2}
        if archive not in published:
            raise CatalogError(f"the checksums file of Pulumi v{version} lists no {archive}",
                               f"install it from {INSTALL_URL}")
        actual = _download(f"{release}/{archive}", work / archive, connect_timeout, read_timeout)
        if actual != published[archive]:
            raise CatalogError(f"{archive} does not match its published SHA-256 (got {actual[:12]}..., expected "
                               f"{published[archive][:12]}...): not installed", f"install it from {INSTALL_URL}")
        with tarfile.open(work / archive, "r:gz") as tar:
            tar.extractall(work / "x", filter="data")  # no absolute paths, links out or device files
        unpacked = work / "x" / "pulumi"  # the archive holds pulumi/pulumi, pulumi/pulumi-language-*, ...
        if not (unpacked / "pulumi").is_file():
            raise CatalogError(f"{archive} holds no pulumi/pulumi binary", f"install it from {INSTALL_URL}")
        bin_dir = root / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        for item in unpacked.iterdir():
            shutil.copy2(item, bin_dir / item.name)
    return bin_dir / "pulumi"


def _install_verified(root: str) -> Any:
    from pulumi import automation as auto

    install_release(Path(root))
    return auto.PulumiCommand(root=root)


class PulumiCliMissing(CatalogError):
    """No Pulumi CLI and none could be installed."""


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "..."


def install_failure(exc: BaseException) -> str:
    """Why the install failed, in a few words: never the transport's own text (pools, URLs, errno lists)."""
    import urllib.error
    from urllib.parse import urlparse

    import urllib3.exceptions as http

    if isinstance(exc, CatalogError):
        return exc.problem
    pool = getattr(exc, "pool", None)  # urllib3's errors name the host they tried
    host = getattr(pool, "host", None) or urlparse(RELEASES_URL).hostname
    cause = exc.reason if isinstance(exc, http.MaxRetryError) and exc.reason is not None else exc
    if isinstance(cause, http.NewConnectionError):  # before timeouts: urllib3 derives it from ConnectTimeoutError
        return f"{host} unreachable"
    if isinstance(cause, (TimeoutError, http.TimeoutError)):
        return f"{host} did not answer in time"
    if isinstance(cause, (http.HTTPError, urllib.error.URLError, ConnectionError)):
        return f"{host} unreachable"
    if isinstance(cause, tarfile.TarError):
        return "the downloaded archive could not be unpacked"
    if isinstance(cause, OSError):
        return f"could not write it: {cause.strerror}" if cause.strerror else "could not write it"
    return type(cause).__name__


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
        install = install or _install_verified
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
            f"the Pulumi CLI is not on PATH and could not be installed ({install_failure(exc)})",
            f"install it from {INSTALL_URL} and put `pulumi` on PATH; `invoke doctor` checks every prerequisite",
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
