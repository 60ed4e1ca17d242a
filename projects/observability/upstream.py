"""What the observability layer reads from the layers before it: typed views of their stack outputs."""

from __future__ import annotations

import pulumi

from projects.app.outputs import OUTPUTS as APP
from projects.data.outputs import OUTPUTS as DATA
from projects.edge.outputs import OUTPUTS as EDGE
from projects.network.outputs import OUTPUTS as NETWORK
from shared.runtime.contracts import reads


@reads(NETWORK)
class NetworkView:
    # the network fault experiments' targets (dynamodb-disrupt, az-disrupt) and their role's scope
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    default_network_acl_id: pulumi.Output[str]  # the subnets' own ACL: the only non-FIS ACL the swap may attach


@reads(DATA)
class DataView:
    cluster_id: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]  # the fault experiments' target and their role's resource
    writer_instance_id: pulumi.Output[str]
    max_acu: pulumi.Output[float]
    proxy_name: pulumi.Output[str]
    proxy_max_connections: pulumi.Output[float]
    sessions_table_name: pulumi.Output[str]
    cache_table_name: pulumi.Output[str]


@reads(APP)
class AppView:
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]  # the fault experiments' target and their role's resource
    alias_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    metrics_service: pulumi.Output[str]
    provisioned_concurrency_min: pulumi.Output[float]
    provisioned_concurrency_max: pulumi.Output[float]
    alb_arn_suffix: pulumi.Output[str]
    target_group_arn_suffixes: pulumi.Output[dict[str, str]]  # {live, canary}
    api_name: pulumi.Output[str]
    api_stage_name: pulumi.Output[str]
    api_web_acl_metric_name: pulumi.Output[str]
    api_web_acl_rule_metric_names: pulumi.Output[list[str]]
    fault_config_location: pulumi.Output[str]  # where the Lambda experiments write ("": the extension is off)
    waiting_room_function_name: pulumi.Output[str]
    waiting_room_starts_at: pulumi.Output[str]  # "" when the room admits from the start of the sale


@reads(EDGE)
class EdgeView:
    distribution_id: pulumi.Output[str]
    viewer_request_function_name: pulumi.Output[str]
    origin_response_function_name: pulumi.Output[str]
    web_acl_metric_name: pulumi.Output[str]
    web_acl_rule_metric_names: pulumi.Output[list[str]]

