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
    origin_verify_header_name: pulumi.Output[str]
    origin_verify_header_value: pulumi.Output[str]  # secret
