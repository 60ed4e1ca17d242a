"""Outputs of the network layer (owner: network team)."""

from shared.contracts import OutputSpec

OUTPUTS = (
    OutputSpec("vpcId", "VPC id"),
    OutputSpec("vpcCidr", "VPC IPv4 CIDR block"),
    OutputSpec("azs", "the three availability zone names, in subnet order", readers=("data",)),
    OutputSpec("publicSubnetIds", "public subnet ids, one per AZ, AZ order", readers=("app",)),
    OutputSpec("privateSubnetIds", "private subnet ids, one per AZ, AZ order", readers=("data", "app")),
    OutputSpec("privateRouteTableIds", "private route table ids, one per AZ (single NAT: still one per AZ)"),
    OutputSpec("natPublicIps", "public IPs of the NAT gateways (allow-list these at third parties)"),
    OutputSpec("albHttpSecurityGroupId", "ALB group: HTTP 80 from CloudFront's origin-facing prefix list",
               readers=("app",)),
    OutputSpec("albHttpsSecurityGroupId", "ALB group: HTTPS 443 from CloudFront's origin-facing prefix list",
               readers=("app",)),
    OutputSpec("lambdaSecurityGroupId", "API Lambda group: egress 5432 to the proxy, 443 to AWS APIs",
               readers=("app",)),
    OutputSpec("proxySecurityGroupId", "RDS Proxy group: 5432 from Lambda, 5432 to the database",
               readers=("data",)),
    OutputSpec("databaseSecurityGroupId", "Aurora group: 5432 from the proxy only", readers=("data",)),
    OutputSpec("flowLogGroupName", "CloudWatch log group of the VPC flow logs"),
)
