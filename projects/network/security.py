"""Security groups per tier, with each rule a separate resource so groups can reference each other without
cycles. The chain is CloudFront -> ALB, Lambda -> proxy -> Aurora; nothing accepts 0.0.0.0/0."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from shared.runtime.naming import Service

POSTGRES_PORT = 5432
CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"


@dataclass(frozen=True)
class SecurityTiersArgs:
    vpc_id: pulumi.Input[str]
    name: Callable[[str, Service], str]


class SecurityTiers(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: SecurityTiersArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:network:SecurityTiers", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        def group(kind: str, description: str) -> aws.ec2.SecurityGroup:
            name = args.name(f"{kind}-sg", Service.SECURITY_GROUP)
            # No inline rules: the provider then also removes AWS's default allow-all egress rule.
            return aws.ec2.SecurityGroup(f"{kind}-sg", name=name, description=description, vpc_id=args.vpc_id,
                                         tags={"Name": name}, opts=child)

        # The prefix list weighs ~55 rules against the default 60 per group: one port per group. The HTTP group
        # fronts the internal ALB (private subnets) behind CloudFront's VPC origin, whose traffic comes from the
        # origin-facing ranges (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
        # private-content-vpc-origins.html); the HTTPS group an internet-facing ALB (public-https mode).
        self.alb_http = group("alb-http", "ALB HTTP from CloudFront origin-facing addresses only")
        self.alb_https = group("alb-https", "ALB HTTPS from CloudFront origin-facing addresses only")
        self.lambda_ = group("lambda", "Catalog API Lambda ENIs")
        self.proxy = group("proxy", "RDS Proxy")
        self.database = group("database", "Aurora PostgreSQL")
        # The migrate function and the Secrets Manager rotation function log in with passwords, straight to the
        # cluster (the proxy requires IAM auth): their own group, so the API's ENIs never reach Aurora directly.
        self.db_admin = group("db-admin", "Migrations and password rotation: PostgreSQL to Aurora directly")

        # The VPC's default group, taken over with no rules: anything launched without a group gets no traffic
        # (Security Hub EC2.2; https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html).
        self.default = aws.ec2.DefaultSecurityGroup(
            "default-sg", vpc_id=args.vpc_id, ingress=[], egress=[],
            tags={"Name": args.name("default-sg-unused", Service.SECURITY_GROUP)}, opts=child)

        cloudfront = aws.ec2.get_managed_prefix_list_output(name=CLOUDFRONT_PREFIX_LIST)

        def ingress(name: str, target: aws.ec2.SecurityGroup, port: int, description: str, *,
                    prefix_list_id: pulumi.Input[str] | None = None,
                    source: aws.ec2.SecurityGroup | None = None) -> None:
            aws.vpc.SecurityGroupIngressRule(
                name, security_group_id=target.id, ip_protocol="tcp", from_port=port, to_port=port,
                prefix_list_id=prefix_list_id,
                referenced_security_group_id=source.id if source else None,
                description=description, opts=child)

        def egress(name: str, target: aws.ec2.SecurityGroup, port: int, description: str, *,
                   cidr: str | None = None, destination: aws.ec2.SecurityGroup | None = None) -> None:
            aws.vpc.SecurityGroupEgressRule(
                name, security_group_id=target.id, ip_protocol="tcp", from_port=port, to_port=port,
                cidr_ipv4=cidr, referenced_security_group_id=destination.id if destination else None,
                description=description, opts=child)

        ingress("alb-http-from-cloudfront", self.alb_http, 80, "HTTP from CloudFront origin-facing prefix list",
                prefix_list_id=cloudfront.id)
        ingress("alb-https-from-cloudfront", self.alb_https, 443,
                "HTTPS from CloudFront origin-facing prefix list", prefix_list_id=cloudfront.id)
        # The ALB invokes Lambda targets through the Lambda API, not the VPC: the ALB groups need no egress.

        egress("lambda-to-proxy", self.lambda_, POSTGRES_PORT, "PostgreSQL to RDS Proxy", destination=self.proxy)
        # AWS APIs (DynamoDB via its gateway endpoint, others via NAT) are HTTPS to public addresses.
        egress("lambda-to-aws-apis", self.lambda_, 443, "HTTPS to AWS APIs", cidr="0.0.0.0/0")

        ingress("proxy-from-lambda", self.proxy, POSTGRES_PORT, "PostgreSQL from the catalog API Lambda",
                source=self.lambda_)
        egress("proxy-to-database", self.proxy, POSTGRES_PORT, "PostgreSQL to Aurora", destination=self.database)

        ingress("database-from-proxy", self.database, POSTGRES_PORT, "PostgreSQL from RDS Proxy",
                source=self.proxy)
        ingress("database-from-db-admin", self.database, POSTGRES_PORT,
                "PostgreSQL from the migrate and rotation functions", source=self.db_admin)
        egress("db-admin-to-database", self.db_admin, POSTGRES_PORT, "PostgreSQL to Aurora",
               destination=self.database)
        # Secrets Manager and RDS signing endpoints: HTTPS to AWS APIs through the NAT gateways.
        egress("db-admin-to-aws-apis", self.db_admin, 443, "HTTPS to AWS APIs", cidr="0.0.0.0/0")

        self.register_outputs({})
