"""What the data layer reads from the layers before it: typed views of their stack outputs."""

from __future__ import annotations

import pulumi

from projects.network.outputs import OUTPUTS as NETWORK
from shared.runtime.contracts import reads


@reads(NETWORK)
class NetworkView:
    azs: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    proxy_security_group_id: pulumi.Output[str]
    database_security_group_id: pulumi.Output[str]
    db_admin_security_group_id: pulumi.Output[str]
