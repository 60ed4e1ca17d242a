"""The Pulumi CLI install downloads the pinned release archive with timeouts and checks its published
SHA-256 before extracting anything. Served from 127.0.0.1 (http.server): no internet."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.deploy.pulumi_cli import (
    PulumiCliMissing,
    install_release,
    locate_pulumi_cli,
    release_archive,
    sdk_version,
)

VERSION = "3.999.0"
ARCHIVE = f"pulumi-v{VERSION}-linux-x64.tar.gz"


def fake_archive() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in (("pulumi/pulumi", b"#!/bin/sh\necho v3.999.0\n"),
                           ("pulumi/pulumi-language-python", b"#!/bin/sh\n")):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(body), 0o755
            tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


class Release(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    requested: list[str] = []

    def do_GET(self) -> None:
        type(self).requested.append(self.path)
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def release() -> Iterator[tuple[str, dict[str, bytes]]]:
    archive = fake_archive()
    files = {f"/v{VERSION}/{ARCHIVE}": archive,
             f"/v{VERSION}/pulumi-{VERSION}-checksums.txt":
                 f"{'0' * 64}  pulumi-v{VERSION}-darwin-x64.tar.gz\n"
                 f"{hashlib.sha256(archive).hexdigest()}  {ARCHIVE}\n".encode()}
    Release.files, Release.requested = files, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Release)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", files
    finally:
        server.shutdown()
        server.server_close()


def install(base: str, root: Path, **kw: float) -> Path:
    return install_release(root, VERSION, base_url=base, system="Linux", machine="x86_64", **kw)


def test_archive_name_follows_the_sdk_version_and_platform() -> None:
    assert release_archive("3.272.0", "Linux", "aarch64") == "pulumi-v3.272.0-linux-arm64.tar.gz"
    assert release_archive("3.272.0", "Darwin", "x86_64") == "pulumi-v3.272.0-darwin-x64.tar.gz"
    assert sdk_version().count(".") == 2


def test_verified_archive_is_extracted_into_bin(release: tuple[str, dict[str, bytes]], tmp_path: Path) -> None:
    base, _ = release
    binary = install(base, tmp_path / "cli")
    assert binary == tmp_path / "cli" / "bin" / "pulumi" and binary.read_bytes().startswith(b"#!/bin/sh")
    assert (tmp_path / "cli" / "bin" / "pulumi-language-python").is_file()
    assert Release.requested == [f"/v{VERSION}/pulumi-{VERSION}-checksums.txt", f"/v{VERSION}/{ARCHIVE}"]


def test_a_checksum_mismatch_installs_nothing(release: tuple[str, dict[str, bytes]], tmp_path: Path) -> None:
    base, files = release
    files[f"/v{VERSION}/{ARCHIVE}"] = fake_archive() + b"tampered"
    with pytest.raises(PulumiCliMissing) as err:
        locate_pulumi_cli(which=lambda _n: None, command=lambda **kw: pytest.fail("not installed"),
                          install=lambda root: install(base, Path(root)), root=tmp_path / "cli",
                          say=lambda _line: None)
    text = str(err.value)
    assert "does not match its published SHA-256" in text and "\n" not in text
    assert not (tmp_path / "cli").exists()


def test_a_release_without_that_archive_in_its_checksums_is_refused(release: tuple[str, dict[str, bytes]],
                                                                    tmp_path: Path) -> None:
    base, files = release
    files[f"/v{VERSION}/pulumi-{VERSION}-checksums.txt"] = b"0000  other.tar.gz\n"
    with pytest.raises(Exception, match=f"lists no {ARCHIVE}"):
        install(base, tmp_path / "cli")
    assert not (tmp_path / "cli").exists()


def test_a_black_holed_server_times_out_instead_of_hanging(tmp_path: Path) -> None:
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(8)  # accepts (the kernel completes the handshake) and never answers
    try:
        started = time.monotonic()
        with pytest.raises(PulumiCliMissing) as err:
            locate_pulumi_cli(which=lambda _n: None, command=lambda **kw: pytest.fail("not installed"),
                              install=lambda root: install(f"http://127.0.0.1:{hole.getsockname()[1]}", Path(root),
                                                           connect_timeout=1.0, read_timeout=0.5),
                              root=tmp_path / "cli", say=lambda _line: None)
        assert time.monotonic() - started < 10
        assert "could not be installed (127.0.0.1 did not answer in time)" in str(err.value)
        assert "\n" not in str(err.value) and not (tmp_path / "cli").exists()
    finally:
        hole.close()


def test_offline_is_one_line(tmp_path: Path) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens: connection refused, as offline
    with pytest.raises(PulumiCliMissing) as err:
        locate_pulumi_cli(which=lambda _n: None, command=lambda **kw: pytest.fail("not installed"),
                          install=lambda root: install(f"http://127.0.0.1:{port}", Path(root), connect_timeout=1.0),
                          root=tmp_path / "cli", say=lambda _line: None)
    assert "not on PATH and could not be installed (127.0.0.1 unreachable)" in str(err.value)
    assert "\n" not in str(err.value) and "Errno" not in str(err.value) and "Pool" not in str(err.value)
