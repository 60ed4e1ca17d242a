"""A plan-only identity configuration: offline plans of the app layer need an issuer, audience and key, which a
real stack sets (catalog-app:auth*). The key is generated per process and never leaves the plan."""

from __future__ import annotations

from functools import lru_cache

PLAN_ISSUER = "https://plan-only.invalid/"
PLAN_AUDIENCE = "catalog-api-plan-only"
IDENTITY_KEYS = ("authIssuer", "authAudience", "authPublicKeyPem", "authJwksUrl")


@lru_cache(maxsize=1)
def plan_only_public_key_pem() -> str:
    """A fresh EC P-256 public key (SPKI PEM); its private half is discarded, so no token can ever match it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def plan_only_identity() -> dict[str, str]:
    """catalog-app identity keys (without namespace) for a plan where the user gave none."""
    return {"authIssuer": PLAN_ISSUER, "authAudience": PLAN_AUDIENCE, "authPublicKeyPem": plan_only_public_key_pem()}
