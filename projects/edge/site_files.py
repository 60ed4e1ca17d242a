"""The static site's objects: keys, bodies, content types and cache-control, computed from `site/`.

Assets (`site/assets/*`) are uploaded under content-hashed keys (`assets/site.<hash>.css`) and cached for a year
as immutable: a changed file gets a new key, so no browser or edge ever serves a stale copy. HTML pages keep
their names and a short max-age; their references to `/assets/<name>` are rewritten to the hashed keys.
The error pages are also bundled into the origin-response function (bundle.py), which renders them for site
paths; the bucket copies stay for direct links.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

SITE_DIR = Path(__file__).resolve().parent / "site"
ASSETS = "assets"
INDEX = "index.html"
# error code -> page (functions/src/error-pages.mjs pageFor: 403 its own, other 4xx 404, 5xx the 5xx page).
ERROR_PAGES = {403: "403.html", 404: "404.html", 500: "5xx.html", 502: "5xx.html", 503: "5xx.html",
               504: "5xx.html"}
HASH_LEN = 10

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
}
# Hashed assets never change under their key; pages must pick up a deploy within a minute.
CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
CACHE_PAGE = "public, max-age=60"
CACHE_ERROR_PAGE = "public, max-age=60"
CACHE_OTHER = "public, max-age=3600"


@dataclass(frozen=True)
class SiteObject:
    source: str  # path under site/ (stable: names the Pulumi resource even when the hashed key changes)
    key: str
    body: bytes
    content_type: str
    cache_control: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def content_type(path: Path) -> str:
    try:
        return CONTENT_TYPES[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: no content type known for {path.suffix!r}; add it to CONTENT_TYPES") from None


def hashed_key(relative: str, body: bytes) -> str:
    """`assets/site.css` -> `assets/site.<sha256[:10]>.css`."""
    stem, dot, ext = relative.rpartition(".")
    digest = hashlib.sha256(body).hexdigest()[:HASH_LEN]
    return f"{stem}.{digest}.{ext}" if dot else f"{relative}.{digest}"


def site_objects(site_dir: Path = SITE_DIR) -> list[SiteObject]:
    """Every file of the site as an object to upload, sorted by key."""
    files = sorted(p for p in site_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    rename: dict[str, str] = {}
    objects: list[SiteObject] = []
    for path in files:
        relative = path.relative_to(site_dir).as_posix()
        if relative.startswith(f"{ASSETS}/"):
            body = path.read_bytes()
            rename[relative] = hashed_key(relative, body)
            objects.append(SiteObject(relative, rename[relative], body, content_type(path), CACHE_IMMUTABLE))
    error_pages = set(ERROR_PAGES.values())
    for path in files:
        relative = path.relative_to(site_dir).as_posix()
        if relative in rename:
            continue
        body = path.read_bytes()
        if path.suffix == ".html":
            text = body.decode("utf-8")
            for old, new in rename.items():
                text = text.replace(f'"/{old}"', f'"/{new}"')
            body = text.encode("utf-8")
            cache = CACHE_ERROR_PAGE if relative in error_pages else CACHE_PAGE
        else:
            cache = CACHE_OTHER
        objects.append(SiteObject(relative, relative, body, content_type(path), cache))
    keys = {o.key for o in objects}
    missing = sorted({INDEX, *error_pages} - keys)
    if missing:
        raise FileNotFoundError(f"{site_dir}: missing {', '.join(missing)} (index and error pages are required)")
    return sorted(objects, key=lambda o: o.key)
