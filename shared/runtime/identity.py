"""Who may call the API: the JWT issuer, audience and key, checked with the rules both checkers apply.

One source of truth: the app layer holds these settings (`catalog-app:auth*`), sets them on the API function
(AUTH_* variables, containers/catalog-api/src/config.mjs) and exports them; the edge layer reads the exports and
bakes them into the viewer-request `config.json` (projects/edge/functions/src/config.mjs). A value either checker
would refuse at run time is refused here, before anything is deployed.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from shared.runtime.layers import REPO_ROOT

# The token rules the API and the edge read at run time (allowed algorithms, clock skew, required claims, role
# claim): one table, in the API's src/ because the image's build context is containers/catalog-api; the edge's
# zip carries the same file (projects/edge/bundle.py). Validation here reads it too, so a value either checker
# would refuse is refused before anything is deployed.
JWT_RULES_FILE = REPO_ROOT / "containers" / "catalog-api" / "src" / "jwt-rules.json"
JWT_RULES: dict[str, Any] = json.loads(JWT_RULES_FILE.read_text())
ALLOWED_ALGS: tuple[str, ...] = tuple(JWT_RULES["algorithms"])
DEFAULT_CLOCK_SKEW_SECONDS: int = JWT_RULES["clockSkewSeconds"]["default"]
MAX_CLOCK_SKEW_SECONDS: int = JWT_RULES["clockSkewSeconds"]["max"]
DEFAULT_ROLE_CLAIM: str = JWT_RULES["roleClaim"]["default"]
MAX_ROLE_CLAIM: int = JWT_RULES["roleClaim"]["maxLength"]  # config.mjs: roleClaim.length (UTF-16 code units)
MIN_RSA_BITS: int = JWT_RULES["minRsaBits"]
MAX_ISSUER = 1024

# What JavaScript's String.prototype.trim() removes (WhiteSpace and LineTerminator code points); Python's
# str.strip() differs (it strips \x1c-\x1f, keeps \ufeff), so config.mjs's "no surrounding whitespace" rule
# is mirrored exactly.
JS_WHITESPACE = frozenset(
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)

# DER encodings of the SPKI algorithm OIDs config.mjs accepts: rsaEncryption (not RSASSA-PSS, which Node reports
# as `rsa-pss` and refuses, while `cryptography` loads it as a plain RSA key) and id-ecPublicKey.
OID_RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")
OID_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")
PEM_BLOCK = re.compile(
    r"^-----BEGIN PUBLIC KEY-----\r?\n(?P<body>[A-Za-z0-9+/=\r\n]+?)\r?\n?-----END PUBLIC KEY-----$"
)


def js_trim_ok(value: str) -> bool:
    """config.mjs nonEmptyString: non-empty after trim() and equal to its trim()."""
    return bool(value) and value[0] not in JS_WHITESPACE and value[-1] not in JS_WHITESPACE


def utf16_length(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def normalize_pem(value: str) -> str:
    """Accept a PEM pasted on one line with literal `\\n` separators (convenient for `--config`)."""
    text = value.strip()
    if "\n" not in text and "\\n" in text:
        text = text.replace("\\n", "\n")
    return text + "\n"


def _der_tlv(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at `offset`."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[offset], data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def spki_algorithm_oid(der: bytes) -> bytes:
    """The algorithm OID (raw DER value) of a SubjectPublicKeyInfo."""
    tag, start, end = _der_tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError("not a DER SEQUENCE")
    tag, alg_start, _ = _der_tlv(der, start)
    if tag != 0x30:
        raise ValueError("no AlgorithmIdentifier")
    tag, oid_start, oid_end = _der_tlv(der, alg_start)
    if tag != 0x06:
        raise ValueError("no algorithm OID")
    return der[oid_start:oid_end]


def jwt_alg_for_public_key(pem: str) -> str:
    """RS256 or ES256 for a key config.mjs accepts (and the rules allow); ValueError saying why otherwise."""
    alg = _key_alg(pem)
    if alg not in ALLOWED_ALGS:
        raise ValueError(f"{alg} keys are not allowed (allowed: {', '.join(ALLOWED_ALGS)})")
    return alg


def _key_alg(pem: str) -> str:
    import base64
    import binascii

    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
    except ImportError:  # a runtime dependency of the repository (pyproject.toml)
        raise ValueError("the `cryptography` package is needed to check it: pip install -e '.[dev]'") from None

    match = PEM_BLOCK.match(pem.strip())
    if not match:
        raise ValueError("expected exactly one PEM SPKI block: -----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----")
    try:
        der = base64.b64decode("".join(match["body"].split()), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"the PEM body is not base64 ({exc})") from None
    oid = spki_algorithm_oid(der)
    if oid not in (OID_RSA_ENCRYPTION, OID_EC_PUBLIC_KEY):
        raise ValueError("the key is neither RSA (rsaEncryption) nor EC; RSA-PSS, Ed25519 and others are refused")
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"the key does not parse ({exc})") from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} are required")
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError(f"EC key on {key.curve.name}; only P-256 (ES256) is accepted")
        return "ES256"
    raise ValueError(f"unsupported key type {type(key).__name__}")


def string_or_uri_problem(value: str) -> str | None:
    """Why `value` is not a usable JWT iss/aud (RFC 7519 StringOrURI), or None."""
    if not js_trim_ok(value):
        return "must be non-empty without surrounding whitespace"
    if len(value) > MAX_ISSUER:
        return f"has {len(value)} characters; at most {MAX_ISSUER}"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "contains control characters"
    if ":" in value:  # RFC 7519 2: a value containing ':' must be a URI
        parts = urlsplit(value)
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", parts.scheme or ""):
            return "contains ':' but is not a URI (scheme:...)"
        if parts.scheme in ("http", "https") and not parts.netloc:
            return "is an http(s) URL without a host"
        if any(c.isspace() for c in value):
            return "is a URI with whitespace"
    return None


def jwks_url_problem(value: str) -> str | None:
    """Why `value` is not a JWKS URL both checkers accept (https only: keys fetched in clear could be swapped)."""
    if not js_trim_ok(value):
        return "must be non-empty without surrounding whitespace"
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        return "is not an https:// URL with a host"
    if parts.username or parts.password:
        return "carries credentials (config.mjs refuses them)"
    if any(c.isspace() for c in value):
        return "contains whitespace"
    return None


def edge_config_document(issuer: str, audience: str, public_key_pem: str | None, jwks_url: str | None,
                         role_claim: str, clock_skew_seconds: int) -> dict[str, object]:
    """The viewer-request `config.json` (keys of projects/edge/functions/src/config.mjs): exactly one key source."""
    document: dict[str, object] = {"issuer": issuer, "audience": audience, "roleClaim": role_claim,
                                   "clockSkewSeconds": int(clock_skew_seconds)}
    if public_key_pem:
        document["publicKeyPem"] = normalize_pem(public_key_pem)
    else:
        document["jwksUrl"] = jwks_url
    return document
