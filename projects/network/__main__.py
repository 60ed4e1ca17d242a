"""Network layer (owner: network team): VPC over three AZs, NAT per AZ, tiered security groups."""

import pulumi_aws as aws

from projects.network.flow_logs import FlowLogs, FlowLogsArgs
from projects.network.outputs import OUTPUTS
from projects.network.security import SecurityTiers, SecurityTiersArgs
from projects.network.settings import AZ_COUNT, Settings
from projects.network.vpc import Vpc, VpcArgs
from shared.runtime import REGION
from shared.runtime.errors import ConfigError
from shared.runtime.program import start_layer

ctx = start_layer("network", Settings, OUTPUTS)
settings = ctx.settings


def choose_azs() -> list[str]:
    """The configured zones, or the first three available ones; fewer than three is refused."""
    available = aws.get_availability_zones(state="available").names
    if settings.azs:
        unknown = [az for az in settings.azs if az not in available]
        if unknown:
            raise ConfigError(f"catalog-network:azs: {', '.join(unknown)} not available in {REGION}",
                              f"available: {', '.join(available)}")
        return list(settings.azs)
    if len(available) < AZ_COUNT:
        raise ConfigError(f"{REGION} offers {len(available)} available zones; the platform needs {AZ_COUNT}")
    return sorted(available)[:AZ_COUNT]


azs = choose_azs()
account_id = aws.get_caller_identity().account_id
vpc = Vpc("network", VpcArgs(cidr=settings.cidr, azs=azs, nat_per_az=settings.nat_gateways == "per-az",
                             name=lambda kind: ctx.name(kind)))
tiers = SecurityTiers("security", SecurityTiersArgs(vpc_id=vpc.vpc.id, name=ctx.name))
flow_logs = FlowLogs("flow-logs", FlowLogsArgs(vpc_id=vpc.vpc.id, retention_days=settings.flow_log_retention_days,
                                               account_id=account_id, name=ctx.name))

ctx.export({
    "vpcId": vpc.vpc.id,
    "vpcCidr": vpc.vpc.cidr_block,
    "azs": azs,
    "publicSubnetIds": [s.id for s in vpc.public_subnets],
    "privateSubnetIds": [s.id for s in vpc.private_subnets],
    "privateRouteTableIds": [t.id for t in vpc.private_route_tables],
    "natPublicIps": [n.public_ip for n in vpc.nat_gateways],
    "albHttpSecurityGroupId": tiers.alb_http.id,
    "albHttpsSecurityGroupId": tiers.alb_https.id,
    "lambdaSecurityGroupId": tiers.lambda_.id,
    "proxySecurityGroupId": tiers.proxy.id,
    "databaseSecurityGroupId": tiers.database.id,
    "dbAdminSecurityGroupId": tiers.db_admin.id,
    "defaultSecurityGroupId": tiers.default.id,
    "defaultNetworkAclId": vpc.vpc.default_network_acl_id,
    "flowLogGroupName": flow_logs.log_group.name,
})
