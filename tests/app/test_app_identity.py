"""Identity configuration (catalog-app:auth*, one source of truth for the API and the edge): bad input is refused
before any resource naming the key; the key rules agree with what the viewer-request function accepts
(projects/edge/functions/src/config.mjs); a missing identity stops the app layer with one line."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from projects.app.settings import NAMESPACE, Settings
from shared.plan.planner import Plan, PlanError
from shared.runtime.errors import ConfigError
from shared.runtime.identity import jwt_alg_for_public_key, normalize_pem
from shared.runtime.settings import check_overrides, load_settings

FUNCTIONS = Path(__file__).resolve().parents[2] / "projects" / "edge" / "functions"
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
PEM = serialization.Encoding.PEM


def spki(key: Any) -> str:
    return key.public_key().public_bytes(PEM, SPKI).decode()


def swap_oid(pem: str, old: bytes, new: bytes) -> str:
    """The same SPKI with another algorithm OID (e.g. RSASSA-PSS): what `cryptography` still loads as RSA."""
    body = "".join(pem.strip().splitlines()[1:-1])
    der = base64.b64decode(body).replace(old, new, 1)
    text = base64.b64encode(der).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


RSA_2048 = spki(rsa.generate_private_key(public_exponent=65537, key_size=2048))
EC_P256 = spki(ec.generate_private_key(ec.SECP256R1()))
KEYS: dict[str, tuple[str, bool]] = {
    "rsa-2048": (RSA_2048, True),
    "ec-p256": (EC_P256, True),
    "ec-p256-one-line": (EC_P256.strip().replace("\n", "\\n"), True),
    "rsa-1024": (spki(rsa.generate_private_key(public_exponent=65537, key_size=1024)), False),
    "ec-p384": (spki(ec.generate_private_key(ec.SECP384R1())), False),
    "ed25519": (spki(ed25519.Ed25519PrivateKey.generate()), False),
    "rsa-pss": (swap_oid(RSA_2048, bytes.fromhex("2a864886f70d010101"), bytes.fromhex("2a864886f70d01010a")), False),
    "pkcs1": (rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        PEM, serialization.PublicFormat.PKCS1).decode(), False),
    "truncated": (EC_P256.replace(EC_P256.splitlines()[2], EC_P256.splitlines()[2][:20]), False),
    "not-base64": (EC_P256.replace(EC_P256.splitlines()[1][:8], "!!!!****"), False),
    "no-pem": ("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE", False),
    "empty-block": ("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", False),
}


AUTH = {"authIssuer": "https://auth.example.com/", "authAudience": "catalog-api", "authPublicKeyPem": EC_P256}


def settings(**values: Any) -> Settings:
    return load_settings(Settings, NAMESPACE, {**AUTH, **values})


@pytest.mark.parametrize("name", sorted(KEYS))
def test_public_key_rules(name: str) -> None:
    pem, ok = KEYS[name]
    if ok:
        settings(authPublicKeyPem=pem)
    else:
        with pytest.raises(ConfigError, match="catalog-app:authPublicKeyPem: malformed public key"):
            settings(authPublicKeyPem=pem)


def test_key_type_decides_the_alg() -> None:
    assert jwt_alg_for_public_key(RSA_2048) == "RS256"
    assert jwt_alg_for_public_key(EC_P256) == "ES256"


@pytest.mark.skipif(shutil.which("node") is None or not (FUNCTIONS / "node_modules" / "jose").is_dir(),
                    reason="node and the edge functions' dependencies (npm ci) are needed to compare with config.mjs")
def test_python_and_config_mjs_accept_the_same_keys_and_strings(tmp_path: Path) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        (f"key:{name}", {"issuer": "https://i/", "audience": "a", "publicKeyPem": normalize_pem(pem)})
        for name, (pem, _) in KEYS.items()]
    for value in ("https://auth.example.com/", " https://x/", "https://x/ ", "\ufeffiss", "iss\u00a0", "x\u001c", ""):
        cases.append((f"issuer:{value!r}", {"issuer": value, "audience": "a", "publicKeyPem": EC_P256}))
    for role, skew in (("role", 0), ("r" * 128, 300), ("r" * 129, 30), ("\U0001F600" * 64, 30),
                       ("\U0001F600" * 65, 30), (" role", 30), ("role", 301), ("role", -1)):
        cases.append((f"role:{role[:3]!r}/{skew}", {"issuer": "i", "audience": "a", "publicKeyPem": EC_P256,
                                                    "roleClaim": role, "clockSkewSeconds": skew}))
    (tmp_path / "cases.json").write_text(json.dumps([c for _, c in cases]))
    module = json.dumps((FUNCTIONS / "src" / "config.mjs").as_uri())
    script = (f"import {{ parseConfig }} from {module}; import {{ readFileSync }} from 'node:fs';"
              "const cases = JSON.parse(readFileSync(process.argv[1], 'utf8'));"
              "console.log(JSON.stringify(cases.map((c) => parseConfig(c).ok)));")
    node = subprocess.run(["node", "--input-type=module", "-e", script, str(tmp_path / "cases.json")],
                          capture_output=True, text=True, check=True)
    node_ok = json.loads(node.stdout)
    for (label, case), js_ok in zip(cases, node_ok, strict=True):
        values = {"authIssuer": case["issuer"], "authAudience": case["audience"],
                  "authPublicKeyPem": case["publicKeyPem"]}
        if "roleClaim" in case:
            values |= {"authRoleClaim": case["roleClaim"], "authClockSkewSeconds": case["clockSkewSeconds"]}
        try:
            load_settings(Settings, NAMESPACE, values)
            py_ok = True
        except ConfigError:
            py_ok = False
        # Python may be stricter (control characters), never looser: what it accepts, the edge accepts.
        assert py_ok <= js_ok, f"{label}: python {py_ok}, config.mjs {js_ok}"
        if not label.startswith("issuer:'x\\x1c'"):
            assert py_ok == js_ok, f"{label}: python {py_ok}, config.mjs {js_ok}"


@pytest.mark.parametrize(("values", "key", "allowed"), [
    ({"authIssuer": " https://auth.example.com/"}, "authIssuer", "non-empty string or URI"),
    ({"authIssuer": "auth example:com"}, "authIssuer", "non-empty string or URI"),
    ({"authIssuer": "https://"}, "authIssuer", "non-empty string or URI"),
    ({"authAudience": "catalog api\u2028"}, "authAudience", "non-empty string or URI"),
    ({"authRoleClaim": "r" * 129}, "authRoleClaim", "1-128 characters"),
    ({"authClockSkewSeconds": "301"}, "authClockSkewSeconds", "0-300"),
    ({"authJwksUrl": "https://auth.example.com/.well-known/jwks.json"}, "authJwksUrl", "exactly one"),
])
def test_bad_identity_names_the_key_and_what_is_allowed(values: dict[str, str], key: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_overrides(Settings, NAMESPACE, values, base=AUTH)
    assert f"{NAMESPACE}:{key}" in str(err.value) and allowed in str(err.value), str(err.value)


@pytest.mark.parametrize("url", ["http://auth.example.com/jwks.json", "https://", "ftp://x/jwks", " https://x/j",
                                 "https://user:pw@auth.example.com/jwks.json"])
def test_jwks_url_is_https_only(url: str) -> None:
    values = {"authIssuer": "https://auth.example.com/", "authAudience": "catalog-api", "authJwksUrl": url}
    with pytest.raises(ConfigError, match="catalog-app:authJwksUrl"):
        load_settings(Settings, NAMESPACE, values)


def test_jwks_url_instead_of_a_key_sets_exactly_one_source() -> None:
    s = load_settings(Settings, NAMESPACE, {"authIssuer": "https://auth.example.com/", "authAudience": "catalog-api",
                                            "authJwksUrl": "https://auth.example.com/.well-known/jwks.json"})
    env = s.identity_env()
    assert env["AUTH_JWKS_URL"] == "https://auth.example.com/.well-known/jwks.json"
    assert "AUTH_PUBLIC_KEY_PEM" not in env
    assert (env["AUTH_ROLE_CLAIM"], env["AUTH_CLOCK_SKEW_SECONDS"]) == ("role", "30")


@pytest.mark.parametrize("missing", ["authIssuer", "authAudience", "authPublicKeyPem"])
def test_missing_identity_is_refused_naming_the_setting(missing: str) -> None:
    values = {k: v for k, v in AUTH.items() if k != missing}
    with pytest.raises(ConfigError) as err:
        load_settings(Settings, NAMESPACE, values)
    assert str(err.value).startswith(f"catalog-app:{missing}:"), str(err.value)


@pytest.mark.parametrize(("key", "own", "other"), [("authIssuer", "`iss` claim", "`aud`"),
                                                   ("authAudience", "`aud` claim", "`iss`")])
def test_an_empty_identity_setting_is_explained_in_its_own_words(key: str, own: str, other: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(Settings, NAMESPACE, {**AUTH, key: ""})
    assert "is not set (or empty)" in str(err.value) and own in str(err.value), str(err.value)
    assert other not in str(err.value), str(err.value)


def test_missing_identity_stops_the_app_layer_with_one_line(plan_with: Callable[..., Plan]) -> None:
    with pytest.raises(PlanError) as err:
        plan_with("app", drop=("catalog-app:authIssuer", "catalog-app:authAudience", "catalog-app:authPublicKeyPem"))
    text = str(err.value)
    assert "ConfigError" in text and "catalog-app:authIssuer: is not set" in text, text
    line = text.split("ConfigError: ", 1)[1]
    assert "\n" not in line.strip() and "Traceback" not in text, text


@pytest.mark.parametrize(("override", "expected"), [
    ({"catalog-app:authPublicKeyPem": KEYS["rsa-1024"][0]}, "catalog-app:authPublicKeyPem: malformed public key"),
    ({"catalog-app:authIssuer": "https://auth.example.com/ "}, "catalog-app:authIssuer"),
])
def test_the_app_program_refuses_bad_identity_before_any_resource(plan_with: Callable[..., Plan],
                                                                  override: dict[str, str], expected: str) -> None:
    with pytest.raises(PlanError) as err:
        plan_with("app", override)
    assert "ConfigError" in str(err.value) and expected in str(err.value), str(err.value)
