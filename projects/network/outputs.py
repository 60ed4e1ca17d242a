"""Outputs of the network layer (owner: network team). Data only: no resources."""

from shared.runtime.contracts import LayerOutputs, OutputSpec

OUTPUTS = LayerOutputs("network", (
    OutputSpec("vpcId", str, 'VPC id'),
    OutputSpec("vpcCidr", str, 'VPC IPv4 CIDR block'),
    OutputSpec("azs", list[str], 'the three availability zone names, in subnet order'),
    OutputSpec("publicSubnetIds", list[str], 'public subnet ids, one per AZ, AZ order'),
    OutputSpec("privateSubnetIds", list[str], 'private subnet ids, one per AZ, AZ order'),
    OutputSpec("privateRouteTableIds", list[str], 'private route table ids, one per AZ (single NAT: still one per AZ)'),
    OutputSpec("natPublicIps", list[str], 'public IPs of the NAT gateways (allow-list these at third parties)'),
    OutputSpec("albHttpSecurityGroupId", str, "ALB group: HTTP 80 from CloudFront's origin-facing prefix list"),
    OutputSpec("albHttpsSecurityGroupId", str, "ALB group: HTTPS 443 from CloudFront's origin-facing prefix list"),
    OutputSpec("lambdaSecurityGroupId", str, 'API Lambda group: egress 5432 to the proxy, 443 to AWS APIs'),
    OutputSpec("proxySecurityGroupId", str, 'RDS Proxy group: 5432 from Lambda, 5432 to the database'),
    OutputSpec("databaseSecurityGroupId", str, 'Aurora group: 5432 from the proxy and the db-admin group'),
    OutputSpec("dbAdminSecurityGroupId", str,
               'migrate and rotation functions: egress 5432 to Aurora directly (password logins), 443 to AWS APIs'),
    OutputSpec("defaultSecurityGroupId", str, "the VPC's default group, held with no rules"),
    OutputSpec("defaultNetworkAclId", str,
               "the VPC's default network ACL, every subnet's (network faults swap their subnets back onto it)"),
    OutputSpec("flowLogGroupName", str, 'CloudWatch log group of the VPC flow logs'),
))
