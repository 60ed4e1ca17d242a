"""The Lambda@Edge packages built in Python (flat zip, config.json, under the 1 MB viewer limit) and the static
site objects (hashed assets, content types, cache-control, CSP-compatible pages)."""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from projects.edge.bundle import (
    CONFIG_NAME,
    FUNCTIONS_DIR,
    JOSE_DIR,
    SRC_DIR,
    VIEWER_PACKAGE_LIMIT_BYTES,
    EdgePackage,
    auth_config_json,
    checked_archive,
    jose_files,
    origin_response_package,
    runtime_files,
    viewer_request_package,
    zip_bytes,
)
from projects.edge.site_files import (
    CACHE_IMMUTABLE,
    ERROR_PAGES,
    SITE_DIR,
    hashed_key,
    site_objects,
)
from shared.runtime.identity import JWT_RULES_FILE

RSA_PEM = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
# What the app layer exports (stack references carry numbers as floats); the key in its one-line `--config` form.
CONFIGURED = auth_config_json("https://auth.example.com/", "catalog-api", RSA_PEM.strip().replace("\n", "\\n"), "",
                              "https://catalog/role", 45.0)


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def test_viewer_request_zip_is_flat_with_config_and_under_the_viewer_limit() -> None:
    data = zip_bytes(viewer_request_package(CONFIGURED))
    assert 0 < len(data) < VIEWER_PACKAGE_LIMIT_BYTES
    print(f"viewer-request zip: {len(data)} bytes")
    files = unzip(data)
    assert sorted(files) == sorted([*(p.name for p in SRC_DIR.glob("*.mjs")), *jose_files(), CONFIG_NAME,
                                    JWT_RULES_FILE.name])
    # The token rules the API reads, byte for byte (one table for both checkers).
    assert files[JWT_RULES_FILE.name] == JWT_RULES_FILE.read_bytes() == (SRC_DIR / "jwt-rules.json").read_bytes()
    assert {"viewer-request.mjs", "origin-response.mjs", "node_modules/jose/package.json"} <= set(files)
    assert not any(name.startswith("error-pages/") for name in files)  # pages: origin-response only
    for name in files:
        if name.endswith(".mjs"):
            assert "/" not in name and files[name] == (SRC_DIR / name).read_bytes()
        elif name not in (CONFIG_NAME, JWT_RULES_FILE.name):
            assert files[name] == (JOSE_DIR / name.removeprefix("node_modules/jose/")).read_bytes()
    config = json.loads(files[CONFIG_NAME])
    assert config == {"issuer": "https://auth.example.com/", "audience": "catalog-api", "publicKeyPem": RSA_PEM,
                      "roleClaim": "https://catalog/role", "clockSkewSeconds": 45}


def test_zip_is_deterministic_and_origin_response_carries_no_config() -> None:
    assert zip_bytes(viewer_request_package(CONFIGURED)) == zip_bytes(viewer_request_package(CONFIGURED))
    with zipfile.ZipFile(io.BytesIO(zip_bytes(origin_response_package()))) as zf:
        assert CONFIG_NAME not in zf.namelist()
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_config_json_takes_a_jwks_url_instead_of_a_key() -> None:
    config = json.loads(auth_config_json("https://i/", "a", "", "https://i/.well-known/jwks.json", "role", 30.0))
    assert config == {"issuer": "https://i/", "audience": "a", "jwksUrl": "https://i/.well-known/jwks.json",
                      "roleClaim": "role", "clockSkewSeconds": 30}
    with pytest.raises(ValueError, match="whole number"):
        auth_config_json("https://i/", "a", "", "https://i/j", "role", 1.5)


def test_jose_ships_its_package_json_licence_and_every_webapi_js() -> None:
    files = jose_files()
    webapi = {f"node_modules/jose/{p.relative_to(JOSE_DIR).as_posix()}"
              for p in (JOSE_DIR / "dist" / "webapi").rglob("*.js")}
    assert webapi and set(files) == {"node_modules/jose/package.json", "node_modules/jose/LICENSE.md", *webapi}
    assert not any(name.endswith((".d.ts", ".md")) and "LICENSE" not in name for name in files)


def test_missing_jose_fails_with_one_line_saying_npm_ci(tmp_path: Path) -> None:
    from shared.runtime.errors import CatalogError

    with pytest.raises(CatalogError) as err:
        jose_files(tmp_path / "node_modules" / "jose")
    assert "\n" not in str(err.value) and "npm ci" in str(err.value)


def test_origin_response_zip_carries_the_served_error_pages() -> None:
    files = unzip(zip_bytes(origin_response_package()))
    served = {o.key: o.body for o in site_objects()}
    pages = {name: body for name, body in files.items() if name.startswith("error-pages/")}
    assert sorted(pages) == ["error-pages/403.html", "error-pages/404.html", "error-pages/5xx.html"]
    for name, body in pages.items():
        page = name.removeprefix("error-pages/")
        assert body == served[page]  # the bucket's copy: /assets/ links rewritten to the hashed keys
        assert b'"/assets/site.css"' not in body and re.search(rb'"/assets/site\.[0-9a-f]{10}\.css"', body)
    assert CONFIG_NAME not in files and "node_modules/jose/package.json" in files


@pytest.mark.skipif(shutil.which("node") is None, reason="node lists build-zip.mjs packageEntries()")
def test_python_bundle_and_build_zip_package_entries_are_the_same_list() -> None:
    script = ("const m = await import(process.argv[1]);"
              "console.log(JSON.stringify({viewerRequest: m.packageEntries('viewerRequest').map(([e]) => e),"
              " originResponse: m.packageEntries('originResponse').map(([e]) => e)}));")
    run = subprocess.run(["node", "--input-type=module", "-e", script,
                          (FUNCTIONS_DIR / "scripts" / "build-zip.mjs").as_uri()],
                         capture_output=True, text=True, check=True)
    node = json.loads(run.stdout.strip().splitlines()[-1])
    # config.json is added by buildZips beside packageEntries (viewer-request only), as in bundle.py.
    assert [*sorted(node["viewerRequest"]), CONFIG_NAME] == viewer_request_package(CONFIGURED).names()
    assert sorted(node["originResponse"]) == origin_response_package().names()


def test_archive_refuses_a_package_over_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "viewer-request.mjs"
    big.write_bytes(random.Random(7).randbytes(1_200_000))  # incompressible
    (tmp_path / "origin-response.mjs").write_text("export const handler = async (e) => e;\n")
    with pytest.raises(ValueError, match="viewer triggers allow under 1048576"):
        checked_archive(EdgePackage(runtime_files(tmp_path), None))


def test_runtime_files_ignore_anything_but_mjs_and_take_the_rules_from_their_home(tmp_path: Path) -> None:
    for name in ("viewer-request.mjs", "origin-response.mjs", "config.json", "notes.md", "jwt-rules.json"):
        (tmp_path / name).write_text("x")
    (tmp_path / "nested").mkdir()
    files = runtime_files(tmp_path)
    assert sorted(files) == ["jwt-rules.json", "origin-response.mjs", "viewer-request.mjs"]
    assert files["jwt-rules.json"] == JWT_RULES_FILE  # never a stale copy beside the functions
    (tmp_path / "viewer-request.mjs").unlink()
    with pytest.raises(FileNotFoundError, match=r"viewer-request\.mjs"):
        runtime_files(tmp_path)


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the packaged handler")
def test_the_python_built_zip_runs_on_node_and_verifies_its_baked_config(tmp_path: Path) -> None:
    for name, data in unzip(zip_bytes(viewer_request_package(CONFIGURED))).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    event = {"Records": [{"cf": {"config": {"requestId": "r1"}, "request": {
        "method": "POST", "uri": "/api/products/SKU-1/reservations", "querystring": "",
        "headers": {"authorization": [{"key": "Authorization", "value": "Bearer a.b.c"}],
                    "x-catalog-role": [{"key": "X-Catalog-Role", "value": "admin"}]}}}}]}
    module = json.dumps((tmp_path / "viewer-request.mjs").as_uri())
    script = (f"const {{ handler }} = await import({module});"
              "const out = await handler(JSON.parse(process.argv[1]));"
              "console.log(JSON.stringify(out));")
    run = subprocess.run(["node", "--input-type=module", "-e", script, json.dumps(event)],
                         capture_output=True, text=True, check=True)
    out = json.loads(run.stdout.strip().splitlines()[-1])
    # The config loaded (a malformed token, not auth_not_configured), and nothing was thrown.
    assert out["status"] == "401" and json.loads(out["body"])["reason"] == "malformed_token"
    assert "auth_not_configured" not in run.stderr


# --- static site ---------------------------------------------------------------------------------------------

def test_site_has_index_and_error_pages_and_hashed_assets() -> None:
    objects = {o.key: o for o in site_objects()}
    assert {"index.html", *ERROR_PAGES.values()} <= set(objects)
    assets = [o for o in objects.values() if o.source.startswith("assets/")]
    assert assets
    for asset in assets:
        assert asset.key == hashed_key(asset.source, asset.body) != asset.source
        assert asset.cache_control == CACHE_IMMUTABLE
    for page in [o for o in objects.values() if o.key.endswith(".html")]:
        assert page.content_type == "text/html; charset=utf-8"
        assert "max-age=" in page.cache_control and "immutable" not in page.cache_control
        age = int(re.search(r"max-age=(\d+)", page.cache_control)[1])
        assert age <= 300


def test_pages_reference_existing_objects_and_nothing_the_csp_blocks() -> None:
    objects = {o.key: o for o in site_objects()}
    for page in [o for o in objects.values() if o.key.endswith(".html")]:
        html = page.body.decode()
        refs = re.findall(r'(?:href|src)="(/[^"]*)"', html)
        assert refs, page.key
        for ref in refs:
            assert ref == "/" or ref.lstrip("/") in objects, f"{page.key} links {ref}"
        # CSP (security-headers.mjs): script-src/style-src 'self' -> no inline script, style or handlers.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), page.key
        assert "<style" not in html and " style=" not in html and not re.search(r"\son\w+=", html), page.key
        assert "http://" not in html and "https://" not in html  # nothing third-party


def test_content_types() -> None:
    types = {o.source: o.content_type for o in site_objects()}
    assert types["assets/site.css"].startswith("text/css")
    assert types["assets/app.js"].startswith("text/javascript")
    assert types["favicon.svg"] == "image/svg+xml"
    assert {p.relative_to(SITE_DIR).as_posix() for p in SITE_DIR.rglob("*") if p.is_file()} == set(types)
