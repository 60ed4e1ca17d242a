"""A Lambda zip package built the same way wherever a layer ships one: deterministic bytes (sorted entries, zip's
earliest timestamp, fixed mode, deflated), so the same files give the same CodeSha256 and Lambda redeploys only
when the code changes."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Iterable

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip's earliest timestamp: same inputs, same bytes


def deterministic_zip(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """The entries (name, bytes), in the order given, as a zip with no time or mode of the build machine."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buffer.getvalue()


def code_sha256(zipped: bytes) -> str:
    """base64 SHA-256 of a zip: the form Lambda reports as CodeSha256."""
    return base64.b64encode(hashlib.sha256(zipped).digest()).decode()
