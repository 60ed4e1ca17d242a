"""One table of token rules (containers/catalog-api/src/jwt-rules.json) read by all three checkers: the API, the
viewer-request function at the edge and the deploy-time validation in Python. Each test runs one consumer from a
copy of the repository whose table was changed, and sees that consumer apply the changed rules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.dev import node_env
from shared.runtime.identity import JWT_RULES, JWT_RULES_FILE
from shared.runtime.layers import REPO_ROOT

API = Path("containers/catalog-api")
EDGE = Path("projects/edge/functions")
# Every value differs from the shipped table, so a consumer with its own constant fails.
CHANGED = {
    "algorithms": ["ES256"],
    "minRsaBits": 3072,
    "clockSkewSeconds": {"default": 45, "max": 120},
    "requiredClaims": ["exp", "sub", "iat"],
    "maxLifetimeSeconds": 900,
    "roleClaim": {"default": "group", "maxLength": 16},
}
NODE = node_env()
needs_node = pytest.mark.skipif(
    shutil.which("node", path=NODE["PATH"]) is None
    or not (REPO_ROOT / API / "node_modules" / "jose").is_dir()
    or not (REPO_ROOT / EDGE / "node_modules" / "jose").is_dir(),
    reason="node and both packages' dependencies (`invoke install`) are needed")


def test_the_changed_table_differs_everywhere_from_the_shipped_one() -> None:
    assert set(CHANGED) == {k for k in JWT_RULES if not k.startswith("_")}
    for key, value in CHANGED.items():
        assert value != JWT_RULES[key], key


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The consumers' sources in a fresh tree (the edge's src/jwt-rules.json stays a link to the API's), with
    the changed table and the real node_modules."""
    root = tmp_path_factory.mktemp("repo")
    skip = shutil.ignore_patterns("node_modules", "__pycache__", "functions", "site")
    for folder in (Path("shared"), Path("projects"), API / "src", EDGE / "src"):
        shutil.copytree(REPO_ROOT / folder, root / folder, symlinks=True, ignore=skip)
    for package in (API, EDGE):
        (root / package / "node_modules").symlink_to(REPO_ROOT / package / "node_modules")
    (root / API / "src" / JWT_RULES_FILE.name).write_text(json.dumps(CHANGED))
    assert json.loads((root / EDGE / "src" / "jwt-rules.json").read_text()) == CHANGED
    return root


# Keys made in Node: an EC P-256 (ES256) and an RSA 2048 key (RS256, now neither allowed nor long enough).
KEYS_JS = """
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (pair) => pair.publicKey.export({ type: 'spki', format: 'pem' });
const now = Math.floor(Date.now() / 1000);
const token = (withIat, lifetime = 600) => {
  const jwt = new SignJWT({ sub: 'user-1' }).setProtectedHeader({ alg: 'ES256' }).setIssuer('https://i/')
    .setAudience('a').setExpirationTime(now + lifetime);
  return (withIat ? jwt.setIssuedAt(now) : jwt).sign(ec.privateKey);
};
"""


def run_node(cwd: Path, script: str) -> dict[str, Any]:
    done = subprocess.run(["node", "--input-type=module", "-e", KEYS_JS + script], cwd=cwd, env=NODE,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@needs_node
def test_the_api_follows_the_table(repo: Path) -> None:
    result = run_node(repo / API, """
import { loadAuthConfig } from './src/config.mjs';
import { createVerifier } from './src/auth.mjs';
const base = { AUTH_ISSUER: 'https://i/', AUTH_AUDIENCE: 'a' };
const refused = (env) => { try { loadAuthConfig(env); return null; } catch (err) { return err.message; } };
const jwks = loadAuthConfig({ ...base, AUTH_JWKS_URL: 'https://i/jwks.json' });
const verifier = createVerifier(loadAuthConfig({ ...base, AUTH_PUBLIC_KEY_PEM: pem(ec) }));
const outcome = async (t) => {
  try { return (await verifier.verify(`Bearer ${t}`)).sub; } catch (err) { return err.message; }
};
console.log(JSON.stringify({
  algorithms: jwks.algorithms, skew: jwks.clockSkewSeconds, role: jwks.roleClaim,
  skewMax: refused({ ...base, AUTH_JWKS_URL: 'https://i/jwks.json', AUTH_CLOCK_SKEW_SECONDS: '120' }),
  skewOver: refused({ ...base, AUTH_JWKS_URL: 'https://i/jwks.json', AUTH_CLOCK_SKEW_SECONDS: '121' }),
  roleOver: refused({ ...base, AUTH_JWKS_URL: 'https://i/jwks.json', AUTH_ROLE_CLAIM: 'r'.repeat(17) }),
  rsa: refused({ ...base, AUTH_PUBLIC_KEY_PEM: pem(rsa) }),
  withIat: await outcome(await token(true)), withoutIat: await outcome(await token(false)),
  tooLong: await outcome(await token(true, 1000)),
}));
""")
    assert (result["algorithms"], result["skew"], result["role"]) == (["ES256"], 45, "group")
    assert result["skewMax"] is None and "between 0 and 120" in result["skewOver"]
    assert "at most 16 characters" in result["roleOver"]
    assert "RSA key under 3072 bits" in result["rsa"]
    assert result["withIat"] == "user-1" and "claim iat invalid or missing" in result["withoutIat"]
    assert result["tooLong"].endswith("token lifetime over 900 s")


@needs_node
def test_the_edge_follows_the_table(repo: Path) -> None:
    result = run_node(repo / EDGE, """
import { parseConfig } from './src/config.mjs';
import { verifyJwt } from './src/jwt.mjs';
const base = { issuer: 'https://i/', audience: 'a' };
const jwks = parseConfig({ ...base, jwksUrl: 'https://i/jwks.json' }).config;
const config = parseConfig({ ...base, publicKeyPem: pem(ec) }).config;
const error = (raw) => parseConfig(raw).error ?? null;
console.log(JSON.stringify({
  algorithms: jwks.algs, skew: jwks.clockSkewSeconds, role: jwks.roleClaim,
  skewMax: error({ ...base, jwksUrl: 'https://i/jwks.json', clockSkewSeconds: 120 }),
  skewOver: error({ ...base, jwksUrl: 'https://i/jwks.json', clockSkewSeconds: 121 }),
  roleOver: error({ ...base, jwksUrl: 'https://i/jwks.json', roleClaim: 'r'.repeat(17) }),
  rsa: error({ ...base, publicKeyPem: pem(rsa) }),
  withIat: (await verifyJwt(await token(true), config, now)).ok,
  withoutIat: (await verifyJwt(await token(false), config, now)).reason,
  tooLong: (await verifyJwt(await token(true, 1000), config, now)).reason,
}));
""")
    assert (result["algorithms"], result["skew"], result["role"]) == (["ES256"], 45, "group")
    assert result["skewMax"] is None and "0-120" in result["skewOver"]
    assert "max 16 chars" in result["roleOver"]
    assert "RSA key under 3072 bits" in result["rsa"]
    assert result["withIat"] is True and result["withoutIat"] == "invalid_claims"
    assert result["tooLong"] == "lifetime_too_long"


def test_the_python_validation_follows_the_table(repo: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    def spki(key: Any) -> str:
        return key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    keys = {"ec": spki(ec.generate_private_key(ec.SECP256R1())),
            "rsa": spki(rsa.generate_private_key(public_exponent=65537, key_size=4096))}
    (tmp_path / "keys.json").write_text(json.dumps(keys))
    script = """
import json, sys
from projects.app.settings import NAMESPACE, Settings
from shared.runtime.errors import ConfigError
from shared.runtime.settings import load_settings
keys = json.load(open(sys.argv[1]))
base = {"authIssuer": "https://i/", "authAudience": "a", "authPublicKeyPem": keys["ec"]}
def refused(**values):
    try:
        load_settings(Settings, NAMESPACE, {**base, **values})
        return None
    except ConfigError as err:
        return str(err)
ok = load_settings(Settings, NAMESPACE, base)
print(json.dumps({"skew": ok.auth_clock_skew_seconds, "role": ok.auth_role_claim,
                  "skewMax": refused(authClockSkewSeconds="120"), "skewOver": refused(authClockSkewSeconds="121"),
                  "roleOver": refused(authRoleClaim="r" * 17), "rsa": refused(authPublicKeyPem=keys["rsa"])}))
"""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "keys.json")], cwd=repo,
                          env={**os.environ, "PYTHONPATH": str(repo)}, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["skew"], result["role"]) == (45, "group")
    assert result["skewMax"] is None and "0-120" in result["skewOver"]
    assert "1-16 characters" in result["roleOver"]
    assert "RS256 keys are not allowed" in result["rsa"]
