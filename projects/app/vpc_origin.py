"""The CloudFront VPC origin of the internal ALB (catalog-app:originMode=vpc-origin).

Declared here, next to the ALB it fronts, because only this layer knows at program time whether the ALB is
internal; the edge layer reads `vpcOriginId` and points its `/api/*` origin at it (`vpc_origin_config`).
CloudFront reaches the ALB through ENIs it places in the private subnets; the traffic stays on AWS's network
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html), and the
ALB's security group admits CloudFront's origin-facing prefix list only (projects/network/security.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ApiVpcOriginArgs:
    name: str
    alb_arn: pulumi.Input[str]
    https: bool  # the ALB serves HTTPS (a certificate was given): CloudFront then uses https-only


class ApiVpcOrigin(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: ApiVpcOriginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:app:ApiVpcOrigin", resource_name, None, opts)
        self.origin = aws.cloudfront.VpcOrigin(
            "vpc-origin",
            vpc_origin_endpoint_config=aws.cloudfront.VpcOriginVpcOriginEndpointConfigArgs(
                name=args.name,
                arn=args.alb_arn,
                http_port=80,
                https_port=443,
                # http-only is acceptable only here: the hop is CloudFront -> ENI in our VPC -> internal ALB.
                origin_protocol_policy="https-only" if args.https else "http-only",
                origin_ssl_protocols=aws.cloudfront.VpcOriginVpcOriginEndpointConfigOriginSslProtocolsArgs(
                    items=["TLSv1.2"], quantity=1),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"vpcOriginId": self.origin.id})
