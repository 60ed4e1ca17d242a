"""The VPC: public and private subnets in three AZs, an internet gateway, NAT per AZ, gateway endpoints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from projects.network.subnets import layout
from shared.runtime import REGION

Namer = Callable[[str], str]


@dataclass(frozen=True)
class VpcArgs:
    cidr: str
    azs: Sequence[str]
    nat_per_az: bool
    name: Namer  # kind -> physical name (shared.runtime.naming via the layer context)


class Vpc(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: VpcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:network:Vpc", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        subnets = layout(args.cidr, len(args.azs))

        self.vpc = aws.ec2.Vpc(
            "vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": args.name("vpc")},
            opts=child,
        )
        self.igw = aws.ec2.InternetGateway(
            "igw", vpc_id=self.vpc.id, tags={"Name": args.name("igw")}, opts=child
        )

        self.public_subnets: list[aws.ec2.Subnet] = []
        self.private_subnets: list[aws.ec2.Subnet] = []
        for index, az in enumerate(args.azs):
            letter = az.removeprefix(REGION)
            self.public_subnets.append(aws.ec2.Subnet(
                f"public-{letter}",
                vpc_id=self.vpc.id,
                cidr_block=subnets.public[index],
                availability_zone=az,
                map_public_ip_on_launch=True,
                tags={"Name": args.name(f"public-{letter}"), "Tier": "public"},
                opts=child,
            ))
            self.private_subnets.append(aws.ec2.Subnet(
                f"private-{letter}",
                vpc_id=self.vpc.id,
                cidr_block=subnets.private[index],
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags={"Name": args.name(f"private-{letter}"), "Tier": "private"},
                opts=child,
            ))

        self.public_route_table = aws.ec2.RouteTable(
            "public-rt", vpc_id=self.vpc.id, tags={"Name": args.name("public-rt")}, opts=child
        )
        aws.ec2.Route(
            "public-default",
            route_table_id=self.public_route_table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.igw.id,
            opts=child,
        )
        for subnet, az in zip(self.public_subnets, args.azs, strict=True):
            aws.ec2.RouteTableAssociation(
                f"public-{az.removeprefix(REGION)}-rta",
                subnet_id=subnet.id,
                route_table_id=self.public_route_table.id,
                opts=child,
            )

        # One NAT per AZ so an AZ outage takes only that AZ's egress with it; `single` trades that for cost.
        nat_azs = list(args.azs) if args.nat_per_az else [args.azs[0]]
        self.nat_gateways: list[aws.ec2.NatGateway] = []
        for az in nat_azs:
            letter = az.removeprefix(REGION)
            eip = aws.ec2.Eip(f"nat-{letter}-eip", domain="vpc", tags={"Name": args.name(f"nat-{letter}")},
                              opts=child)
            self.nat_gateways.append(aws.ec2.NatGateway(
                f"nat-{letter}",
                allocation_id=eip.id,
                subnet_id=self.public_subnets[args.azs.index(az)].id,
                connectivity_type="public",
                tags={"Name": args.name(f"nat-{letter}")},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.igw]),
            ))

        self.private_route_tables: list[aws.ec2.RouteTable] = []
        for index, (subnet, az) in enumerate(zip(self.private_subnets, args.azs, strict=True)):
            letter = az.removeprefix(REGION)
            table = aws.ec2.RouteTable(
                f"private-{letter}-rt", vpc_id=self.vpc.id, tags={"Name": args.name(f"private-{letter}-rt")},
                opts=child,
            )
            nat = self.nat_gateways[index] if args.nat_per_az else self.nat_gateways[0]
            aws.ec2.Route(
                f"private-{letter}-default",
                route_table_id=table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"private-{letter}-rta", subnet_id=subnet.id, route_table_id=table.id, opts=child
            )
            self.private_route_tables.append(table)

        # Gateway endpoints keep S3 and DynamoDB traffic (the API's hot path) off the NAT gateways: no per-GB
        # NAT charge and no NAT bandwidth ceiling during a sale.
        for service in ("s3", "dynamodb"):
            aws.ec2.VpcEndpoint(
                f"{service}-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{REGION}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[t.id for t in self.private_route_tables],
                tags={"Name": args.name(f"{service}-endpoint")},
                opts=child,
            )

        self.register_outputs({"vpcId": self.vpc.id})
