"""An OCI image archive built without cloud credentials: what the pipeline's image job hands the deploy job.

Checked before any resource (a missing or foreign file is one line naming the setting); its SHA-256 names the
pushed tag and triggers a new push when the archive changes.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path


def oci_archive_problem(path: Path) -> str | None:
    """Why `path` is not a single-image OCI archive Lambda can run, or None."""
    if not path.is_file():
        return "is not a file"
    try:
        with tarfile.open(path) as archive:
            names = set(archive.getnames())
            if not {"oci-layout", "index.json"} <= {n.removeprefix("./") for n in names}:
                return "is not an OCI image archive (no oci-layout and index.json)"
            member = next(m for m in archive.getmembers() if m.name.removeprefix("./") == "index.json")
            handle = archive.extractfile(member)
            index = json.loads(handle.read() if handle else b"{}")
    except (tarfile.TarError, OSError, ValueError) as exc:
        return f"cannot be read as an OCI archive ({type(exc).__name__})"
    manifests = index.get("manifests") or []
    if len(manifests) != 1:
        return f"holds {len(manifests)} images; Lambda runs one single-platform image (build one platform)"
    platform = manifests[0].get("platform") or {}
    if platform and (platform.get("os"), platform.get("architecture")) != ("linux", "arm64"):
        return f"is built for {platform.get('os')}/{platform.get('architecture')}, not linux/arm64"
    return None


def archive_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
