"""The rotation function's zip, built at plan time from `rotation/` (no Node.js build step), like the edge bundle.

Layout: `index.mjs`, `hmac-key.mjs` (the HMAC-key strategy it imports) and `package.json` at the root (the
handler is `index.handler`; `"type": "module"` makes the `.mjs` an ES module either way), and the production
dependencies as `npm ci --omit=dev` left them under `node_modules/` (pg and the Secrets Manager client, pinned in
package.json/package-lock.json). Type declarations, source maps and npm's own bookkeeping are left out: Node never
loads them.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from shared.runtime.errors import CatalogError
from shared.runtime.zip_package import code_sha256, deterministic_zip

ROTATION_DIR = Path(__file__).resolve().parent / "rotation"
ROOT_FILES = ("index.mjs", "hmac-key.mjs", "package.json", "scram.mjs")  # scram.mjs links to the API's copy
REQUIRED_MODULES = ("pg", "@aws-sdk/client-secrets-manager")
_SKIP_SUFFIXES = (".d.ts", ".d.mts", ".d.cts", ".map")
_SKIP_PARTS = {".bin", "dist-types", ".package-lock.json"}


def package_files(root: Path = ROTATION_DIR) -> dict[str, Path]:
    """Zip path -> file, sorted; refused in one line when the dependencies are not installed."""
    modules = root / "node_modules"
    missing = [m for m in REQUIRED_MODULES if not (modules / m / "package.json").is_file()]
    if missing:
        raise CatalogError(f"projects/data/rotation/node_modules lacks {', '.join(missing)}: the rotation function's "
                           "zip needs them",
                           "run `invoke install --layer data` (or `npm ci` in projects/data/rotation)")
    files = {name: root / name for name in ROOT_FILES}
    for path in sorted(modules.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or _SKIP_PARTS.intersection(relative.parts) or path.name.endswith(_SKIP_SUFFIXES):
            continue
        files[relative.as_posix()] = path
    return dict(sorted(files.items()))


def zip_bytes(files: dict[str, Path]) -> bytes:
    """The package as a deterministic zip (sorted entries, fixed time and mode)."""
    return deterministic_zip((name, path.read_bytes()) for name, path in files.items())


def package_hash(files: dict[str, Path]) -> str:
    """base64 SHA-256 of the deterministic zip (Lambda's CodeSha256 form): redeploys only when the code changes."""
    return code_sha256(zip_bytes(files))


def rotation_archive(root: Path = ROTATION_DIR) -> pulumi.AssetArchive:
    return pulumi.AssetArchive({name: pulumi.FileAsset(str(path)) for name, path in package_files(root).items()})
