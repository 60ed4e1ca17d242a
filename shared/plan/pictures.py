"""The README's architecture picture, drawn from the offline plan so it cannot drift.

`docs/architecture.dot` is the picture's source (the components of the five stacks and the references between
them, for suffix qa with default settings); `docs/architecture.png` is Graphviz's rendering of it and carries the
source's SHA-256 in a PNG text chunk. `invoke docs --check` fails when the plan's source differs from the file,
or when the PNG was drawn from another source: a stale picture is as visible as a stale table.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

from shared.runtime.errors import CatalogError
from shared.runtime.layers import REPO_ROOT

DOT_FILE = REPO_ROOT / "docs" / "architecture.dot"
PNG_FILE = REPO_ROOT / "docs" / "architecture.png"
PICTURE_SUFFIX = "qa"
SOURCE_KEY = b"catalog-source-sha256"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def architecture_source() -> str:
    """The picture's Graphviz source: the offline plan of every layer, components and their references."""
    from shared.plan.offline import offline_config
    from shared.plan.planner import plan_chain
    from shared.plan.report import overview_dot

    config, secret_keys = offline_config({})
    return overview_dot(plan_chain(PICTURE_SUFFIX, config, secret_keys=secret_keys)) + "\n"


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    chunks, at = [], len(PNG_SIGNATURE)
    while at < len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        kind, data = png[at + 4:at + 8], png[at + 8:at + 8 + length]
        chunks.append((kind, data))
        at += 12 + length
    return chunks


def embedded_hash(png: bytes) -> str | None:
    """The source hash a rendering carries, or None (not ours, or drawn by hand)."""
    for kind, data in _chunks(png):
        key, _, value = data.partition(b"\0")
        if kind == b"tEXt" and key == SOURCE_KEY:
            return value.decode("latin-1")
    return None


def with_hash(png: bytes, digest: str) -> bytes:
    """The PNG with one tEXt chunk naming its source's hash, right after the header chunk."""
    data = SOURCE_KEY + b"\0" + digest.encode("latin-1")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    kept = [(k, d) for k, d in _chunks(png) if not (k == b"tEXt" and d.startswith(SOURCE_KEY + b"\0"))]
    out = bytearray(PNG_SIGNATURE)
    for index, (kind, body) in enumerate(kept):
        out += struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        if index == 0:
            out += chunk
    return bytes(out)


def render(source: str, dot: str | None = None) -> bytes:
    dot = dot or shutil.which("dot")
    if dot is None:
        raise CatalogError("Graphviz is not installed, so the architecture picture cannot be drawn",
                           "apt-get install graphviz (or brew install graphviz), then invoke docs")
    done = subprocess.run([dot, "-Tpng", "-Gdpi=96"], input=source.encode(), capture_output=True, timeout=120,
                          check=False)
    if done.returncode != 0:
        raise CatalogError(f"Graphviz failed to draw the picture: {done.stderr.decode(errors='replace')[:200]}",
                           "check docs/architecture.dot")
    return with_hash(done.stdout, source_hash(source))


@dataclass(frozen=True)
class PictureState:
    stale: tuple[str, ...]  # repository paths that do not match the plan
    source: str


def check_pictures(dot_file: Path = DOT_FILE, png_file: Path = PNG_FILE, source: str | None = None) -> PictureState:
    source = architecture_source() if source is None else source
    stale = []
    if not dot_file.is_file() or dot_file.read_text() != source:
        stale.append(dot_file)
    if not png_file.is_file() or embedded_hash(png_file.read_bytes()) != source_hash(source):
        stale.append(png_file)
    return PictureState(tuple(str(p.relative_to(REPO_ROOT)) if p.is_relative_to(REPO_ROOT) else str(p)
                              for p in stale), source)


def redraw(dot_file: Path = DOT_FILE, png_file: Path = PNG_FILE, source: str | None = None) -> list[str]:
    """Write what is stale; returns the paths written."""
    state = check_pictures(dot_file, png_file, source)
    if not state.stale:
        return []
    png = render(state.source)  # before writing anything: without Graphviz nothing changes
    dot_file.write_text(state.source)
    png_file.write_bytes(png)
    return list(state.stale)
