"""Edge config: bad input is refused before any resource with a message naming the key and what is allowed,
and the JWT key rules agree with what the viewer-request function itself accepts (config.mjs)."""

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

from projects.edge.settings import NAMESPACE, Settings, jwt_alg_for_public_key, normalize_pem
from shared.runtime.errors import ConfigError
from shared.runtime.settings import check_overrides, load_settings
from shared.tooling.plan.planner import Plan, PlanError

FUNCTIONS = Path(__file__).resolve().parent.parent / "projects" / "edge" / "functions"
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


CERT_US_WEST_2 = "arn:aws:acm:us-west-2:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
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


JWT = {"jwtIssuer": "https://auth.example.com/", "jwtAudience": "catalog-api", "jwtPublicKeyPem": EC_P256}


def settings(**values: Any) -> Settings:
    return load_settings(Settings, NAMESPACE, {**JWT, **values})


@pytest.mark.parametrize("name", sorted(KEYS))
def test_public_key_rules(name: str) -> None:
    pem, ok = KEYS[name]
    if ok:
        settings(jwtPublicKeyPem=pem)
    else:
        with pytest.raises(ConfigError, match="catalog-edge:jwtPublicKeyPem: malformed public key"):
            settings(jwtPublicKeyPem=pem)


def test_key_type_decides_the_alg() -> None:
    assert jwt_alg_for_public_key(RSA_2048) == "RS256"
    assert jwt_alg_for_public_key(EC_P256) == "ES256"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to compare with config.mjs")
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
        values = {"jwtIssuer": case["issuer"], "jwtAudience": case["audience"], "jwtPublicKeyPem": case["publicKeyPem"]}
        if "roleClaim" in case:
            values |= {"jwtRoleClaim": case["roleClaim"], "clockSkewSeconds": case["clockSkewSeconds"]}
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
    ({"jwtIssuer": " https://auth.example.com/"}, "jwtIssuer", "non-empty string or URI"),
    ({"jwtIssuer": "auth example:com"}, "jwtIssuer", "non-empty string or URI"),
    ({"jwtIssuer": "https://"}, "jwtIssuer", "non-empty string or URI"),
    ({"jwtAudience": ""}, "jwtAudience", "together"),  # empty means unset
    ({"jwtAudience": "catalog api\u2028"}, "jwtAudience", "non-empty string or URI"),
    ({"jwtRoleClaim": "r" * 129}, "jwtRoleClaim", "1-128 characters"),
    ({"clockSkewSeconds": "301"}, "clockSkewSeconds", "0-300"),
    ({"microCacheTtlSeconds": "0"}, "microCacheTtlSeconds", "1-5"),
    ({"microCacheTtlSeconds": "6"}, "microCacheTtlSeconds", "1-5"),
    ({"certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
      "aliases": "shop.example.com"}, "certificateArn", "arn:aws:acm:us-east-1:"),
    ({"certificateArn": "not-an-arn", "aliases": "shop.example.com"}, "certificateArn", "arn:aws:acm:us-east-1:"),
    ({"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"},
     "certificateArn", "set aliases"),
    ({"aliases": "shop.example.com"}, "aliases", "certificateArn"),
    ({"aliases": "Shop.Example.com", "certificateArn":
      "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"}, "aliases", "e.g."),
    ({"webAclArn": "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"},
     "webAclArn", "global/webacl"),
    ({"apiOriginDomain": "https://api.example.com"}, "apiOriginDomain", "DNS name"),
    ({"priceClass": "PriceClass_300"}, "priceClass", "PriceClass_100"),
    ({"originAccess": "public"}, "originAccess", "oai"),
    # AWS WAF (issue #16): botocore wafv2 RateLimit min 10 / max 2e9, EvaluationWindowSec 60/120/300/600.
    ({"wafRateLimit": "9"}, "wafRateLimit", "10-2,000,000,000"),
    ({"wafRateLimit": "0"}, "wafRateLimit", "10-2,000,000,000"),
    ({"wafRateLimit": "3000000000"}, "wafRateLimit", "10-2,000,000,000"),
    ({"wafRateLimit": "60001"}, "wafRateLimit", "10-60000"),  # over 1,000/s from one address: never blocks
    ({"wafReservationRateLimit": "5"}, "wafReservationRateLimit", "10-2,000,000,000"),
    ({"wafReservationRateLimit": "601"}, "wafReservationRateLimit", "10-600"),  # above wafRateLimit
    ({"wafEvaluationWindowSeconds": "90"}, "wafEvaluationWindowSeconds", "60, 120, 300, 600"),
    ({"wafEvaluationWindowSeconds": "30"}, "wafEvaluationWindowSeconds", "60, 120, 300, 600"),
    ({"wafManagedRuleGroups": "AWSManagedRulesCommonRuleSet,AWSManagedRulesMadeUp"}, "wafManagedRuleGroups",
     "AWSManagedRulesKnownBadInputsRuleSet"),
    ({"wafManagedRuleGroups": "AWSManagedRulesBotControlRuleSet"}, "wafManagedRuleGroups", "botControl"),
    ({"logRetentionDays": "45"}, "logRetentionDays", "365"),
])
def test_bad_settings_name_the_key_and_what_is_allowed(values: dict[str, str], key: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as err:
        # The task boundary runs the same checks as the program, over the stack's current config (`base`).
        check_overrides(Settings, NAMESPACE, values, base=JWT)
    assert f"{NAMESPACE}:{key}" in str(err.value) and allowed in str(err.value), str(err.value)


def test_jwt_settings_go_together() -> None:
    with pytest.raises(ConfigError, match=r"catalog-edge:jwtPublicKeyPem.*together"):
        load_settings(Settings, NAMESPACE, {"jwtIssuer": "https://auth.example.com/", "jwtAudience": "a"})
    defaults = load_settings(Settings, NAMESPACE, {})
    assert not defaults.auth_configured  # writes refused at the edge until configured
    assert (defaults.micro_cache_ttl_seconds, defaults.origin_access, defaults.price_class) == (2, "oai",
                                                                                               "PriceClass_All")
    # The front door is on by default: the layer creates its own web ACL unless one is brought.
    assert defaults.web_acl_arn is None and not defaults.waf_bot_control
    assert (defaults.waf_rate_limit, defaults.waf_reservation_rate_limit, defaults.waf_evaluation_window_seconds) \
        == (600, 60, 60)


@pytest.mark.parametrize(("override", "expected"), [
    ({"catalog-edge:jwtPublicKeyPem": KEYS["rsa-1024"][0]}, "catalog-edge:jwtPublicKeyPem: malformed public key"),
    ({"catalog-edge:jwtPublicKeyPem": "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"},
     "catalog-edge:jwtPublicKeyPem: malformed public key"),
    ({"catalog-edge:jwtIssuer": "https://auth.example.com/ "}, "catalog-edge:jwtIssuer"),
    ({"catalog-edge:certificateArn": CERT_US_WEST_2, "catalog-edge:aliases": "shop.example.com"},
     "catalog-edge:certificateArn"),
    ({"catalog-edge:microCacheTtlSeconds": "0"}, "catalog-edge:microCacheTtlSeconds"),
    ({"catalog-edge:microCacheTtlSeconds": "6"}, "catalog-edge:microCacheTtlSeconds"),
    ({"catalog-edge:wafRateLimit": "9"}, "catalog-edge:wafRateLimit"),
    ({"catalog-edge:wafEvaluationWindowSeconds": "90"}, "catalog-edge:wafEvaluationWindowSeconds"),
    ({"catalog-edge:wafManagedRuleGroups": "AWSManagedRulesMadeUp"}, "catalog-edge:wafManagedRuleGroups"),
])
def test_the_program_refuses_bad_input_before_any_resource(plan_with: Callable[..., Plan], override: dict[str, str],
                                                           expected: str) -> None:
    jwt = {"catalog-edge:jwtIssuer": "https://auth.example.com/", "catalog-edge:jwtAudience": "catalog-api",
           "catalog-edge:jwtPublicKeyPem": EC_P256}
    with pytest.raises(PlanError) as err:
        plan_with("edge", {**jwt, **override})
    assert "ConfigError" in str(err.value) and expected in str(err.value), str(err.value)
    assert "allowed:" in str(err.value)
