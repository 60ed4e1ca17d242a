"""What the app layer reads from the layers before it: typed views of their stack outputs."""

from __future__ import annotations

import pulumi

from projects.data.outputs import OUTPUTS as DATA
from projects.network.outputs import OUTPUTS as NETWORK
from shared.runtime.contracts import reads


@reads(NETWORK)
class NetworkView:
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    alb_http_security_group_id: pulumi.Output[str]
    alb_https_security_group_id: pulumi.Output[str]
    lambda_security_group_id: pulumi.Output[str]
    db_admin_security_group_id: pulumi.Output[str]


@reads(DATA)
class DataView:
    port: pulumi.Output[float]  # stack references carry numbers as floats
    database_name: pulumi.Output[str]
    database_user: pulumi.Output[str]  # the app role, never the master
    owner_user: pulumi.Output[str]
    writer_endpoint: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]
    owner_secret_arn: pulumi.Output[str]
    app_secret_arn: pulumi.Output[str]
    proxy_endpoint: pulumi.Output[str]
    proxy_read_only_endpoint: pulumi.Output[str]
    proxy_resource_id: pulumi.Output[str]
    sessions_table_name: pulumi.Output[str]
    sessions_table_arn: pulumi.Output[str]
    sessions_table_index_names: pulumi.Output[list[str]]
    cache_table_name: pulumi.Output[str]
    cache_table_arn: pulumi.Output[str]
    cache_table_index_names: pulumi.Output[list[str]]
    waiting_room_table_name: pulumi.Output[str]
    waiting_room_table_arn: pulumi.Output[str]
    waiting_room_table_index_names: pulumi.Output[list[str]]
    waiting_room_key_secret_arn: pulumi.Output[str]
    logs_bucket_name: pulumi.Output[str]
