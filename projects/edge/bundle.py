"""The Lambda@Edge packages, built at plan time from `functions/src` (no Node.js build step).

Layout (what the handlers expect, see functions/README.md "Packages"; `packageEntries(role)` in
functions/scripts/build-zip.mjs is the same list, pinned by a test): every `src/*.mjs` flat at the zip root, jose's
runtime files under `node_modules/jose/` (`import 'jose'` resolves there), the token rules `jwt-rules.json`
(shared with the API), then per role:
- viewer-request: the generated `config.json` (Lambda@Edge has no environment variables);
- origin-response: `error-pages/{403,404,5xx}.html`, the bodies the bucket serves (their `/assets/` links
  rewritten to the hashed keys by site_files.py), so an error page rendered at the edge loads its styles.
The origin-response package has no config, so rotating the JWT key republishes only the auth function.
`zip_bytes` builds the same bytes deterministically so tests can measure the real package against the limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from projects.edge.site_files import SITE_DIR, site_objects
from shared.runtime.errors import CatalogError
from shared.runtime.identity import JWT_RULES_FILE, edge_config_document
from shared.runtime.zip_package import code_sha256, deterministic_zip

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
SRC_DIR = FUNCTIONS_DIR / "src"
JOSE_DIR = FUNCTIONS_DIR / "node_modules" / "jose"
CONFIG_NAME = "config.json"
# functions/src/error-pages.mjs ERROR_PAGES_DIR / ERROR_PAGE_FILES: where origin-response reads the pages.
ERROR_PAGES_DIR = "error-pages"
ERROR_PAGE_FILES = ("403.html", "404.html", "5xx.html")
# Lambda@Edge viewer-trigger package limit (docs/aws-rules.md); origin triggers allow 50 MB.
VIEWER_PACKAGE_LIMIT_BYTES = 1_048_576


@dataclass(frozen=True)
class EdgePackage:
    """What one function's zip holds: files copied as they are (zip path -> path), generated bodies (zip path ->
    bytes: the rewritten error pages) and, for viewer-request, config.json."""

    files: dict[str, Path]
    config_json: str | None
    generated: dict[str, bytes] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Every zip entry, sorted as written (config.json last)."""
        return sorted({*self.files, *self.generated}) + ([CONFIG_NAME] if self.config_json is not None else [])

    def entries(self) -> list[tuple[str, bytes]]:
        out = [(name, self.generated[name] if name in self.generated else self.files[name].read_bytes())
               for name in sorted({*self.files, *self.generated})]
        if self.config_json is not None:
            out.append((CONFIG_NAME, self.config_json.encode()))
        return out

    def archive(self) -> pulumi.AssetArchive:
        # StringAsset holds text: the generated pages are UTF-8 HTML (site_files.py decodes them the same way).
        assets: dict[str, pulumi.Asset | pulumi.Archive] = {
            name: (pulumi.StringAsset(self.generated[name].decode("utf-8")) if name in self.generated
                   else pulumi.FileAsset(str(self.files[name])))
            for name in sorted({*self.files, *self.generated})
        }
        if self.config_json is not None:
            assets[CONFIG_NAME] = pulumi.StringAsset(self.config_json)
        return pulumi.AssetArchive(assets)


def runtime_files(src_dir: Path = SRC_DIR) -> dict[str, Path]:
    """`src/*.mjs` and the token rules they read, by name; a stray config.json or folder in src/ is never
    packaged. The rules come from their one home (the API's src/, which src/jwt-rules.json links to)."""
    files = {p.name: p for p in sorted(src_dir.glob("*.mjs")) if p.is_file()}
    files[JWT_RULES_FILE.name] = JWT_RULES_FILE
    for required in ("viewer-request.mjs", "origin-response.mjs"):
        if required not in files:
            raise FileNotFoundError(f"{src_dir / required} is missing: the handlers live there")
    return files


def jose_files(jose_dir: Path = JOSE_DIR) -> dict[str, Path]:
    """jose's runtime files by zip path (build-zip.mjs joseFiles): package.json (its `exports` map sends
    `import 'jose'` to dist/webapi/index.js), LICENSE.md and every `.js` under dist/webapi/."""
    if not (jose_dir / "package.json").is_file():
        # One line (CatalogError): the tasks print it and stop before anything is deployed.
        raise CatalogError("projects/edge/functions/node_modules/jose is missing: the Lambda@Edge zips need it",
                           "run `npm ci` in projects/edge/functions (or `invoke install`) first")
    paths = [jose_dir / "package.json", jose_dir / "LICENSE.md",
             *(p for p in (jose_dir / "dist" / "webapi").rglob("*.js") if p.is_file())]
    return {f"node_modules/jose/{p.relative_to(jose_dir).as_posix()}": p for p in paths}


def error_page_bodies(site_dir: Path = SITE_DIR) -> dict[str, bytes]:
    """`error-pages/<page>` -> the body the bucket serves for that page (hashed `/assets/` links)."""
    served = {o.key: o.body for o in site_objects(site_dir)}
    return {f"{ERROR_PAGES_DIR}/{page}": served[page] for page in ERROR_PAGE_FILES}


def auth_config_json(issuer: str, audience: str, public_key_pem: str | None, jwks_url: str | None,
                     role_claim: str, clock_skew_seconds: float) -> str:
    """config.json for viewer-request (the keys config.mjs reads), from the app layer's identity exports."""
    skew = float(clock_skew_seconds)
    if not skew.is_integer():
        raise ValueError(f"app:authClockSkewSeconds {clock_skew_seconds!r} is not a whole number of seconds")
    document = edge_config_document(issuer, audience, public_key_pem or None, jwks_url or None, role_claim,
                                    int(skew))
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def viewer_request_package(config_json: str, src_dir: Path = SRC_DIR, jose_dir: Path = JOSE_DIR) -> EdgePackage:
    return EdgePackage({**runtime_files(src_dir), **jose_files(jose_dir)}, config_json)


def origin_response_package(src_dir: Path = SRC_DIR, jose_dir: Path = JOSE_DIR,
                            site_dir: Path = SITE_DIR) -> EdgePackage:
    return EdgePackage({**runtime_files(src_dir), **jose_files(jose_dir)}, None, error_page_bodies(site_dir))


def zip_bytes(package: EdgePackage) -> bytes:
    """The package as a deterministic zip (sorted entries, fixed time and mode, deflated)."""
    return deterministic_zip(package.entries())


def package_hash(package: EdgePackage) -> str:
    """base64 SHA-256 of the package's deterministic zip (the form Lambda reports as CodeSha256)."""
    return code_sha256(zip_bytes(package))


def checked_archive(package: EdgePackage, limit: int = VIEWER_PACKAGE_LIMIT_BYTES) -> pulumi.AssetArchive:
    """The Pulumi archive, after proving its zip fits the viewer-trigger limit."""
    size = len(zip_bytes(package))
    if size >= limit:
        raise ValueError(f"Lambda@Edge package is {size} bytes; viewer triggers allow under {limit}")
    return package.archive()
