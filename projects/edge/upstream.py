"""What the edge layer reads from the layers before it: typed views of their stack outputs."""

from __future__ import annotations

import pulumi

from projects.app.outputs import OUTPUTS as APP
from projects.data.outputs import OUTPUTS as DATA
from shared.runtime.contracts import reads


@reads(DATA)
class DataView:
    logs_bucket_name: pulumi.Output[str]
    logs_bucket_domain_name: pulumi.Output[str]


@reads(APP)
class AppView:
    alb_dns_name: pulumi.Output[str]
    vpc_origin_id: pulumi.Output[str]
    origin_mode: pulumi.Output[str]
    origin_domain: pulumi.Output[str]
    origin_protocol: pulumi.Output[str]
    origin_verify_header_name: pulumi.Output[str]
    origin_verify_header_value: pulumi.Output[str]  # secret
    # One source of truth for identity: the app layer's catalog-app:auth* settings, baked into config.json.
    auth_issuer: pulumi.Output[str]
    auth_audience: pulumi.Output[str]
    auth_public_key_pem: pulumi.Output[str]  # "" when a JWKS URL is used
    auth_jwks_url: pulumi.Output[str]  # "" when a key is used
    auth_role_claim: pulumi.Output[str]
    auth_clock_skew_seconds: pulumi.Output[float]  # stack references carry numbers as floats
