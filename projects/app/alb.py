"""The ALB in front of the API: Lambda target groups for aliases `live` and `canary`, path rules, sticky weighted
forwarding between the two groups.

Two placements (catalog-app:originMode):
- vpc-origin (default): internal, in the private subnets, reached only through a CloudFront VPC origin (its
  security group admits CloudFront's origin-facing prefix list); the traffic stays on AWS's network
  (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html), so an
  HTTP listener carries no credential across the internet, and no shared header secret is needed.
- public-https: internet-facing in the public subnets, HTTPS listener only (no port 80 at all), forwarding only
  requests that carry CloudFront's origin-verify header
  (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/restrict-access-to-load-balancer.html).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from shared.runtime import mission

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTH_PATH = "/health"
HEALTH_INTERVAL_S = mission.HEALTH_CHECK_INTERVAL_S
HEALTH_TIMEOUT_S = mission.HEALTH_CHECK_TIMEOUT_S
IDLE_TIMEOUT_S = 60
ACCESS_LOG_PREFIX = "alb"
# (priority, path patterns) of the rules that forward; the 403 rule below them catches the same paths
# without the header.
FORWARD_RULES = ((10, "api", ("/api/*",)), (20, "health", ("/health*",)))
DENY_PRIORITY = 100


def json_body(status: int, message: str) -> str:
    return json.dumps({"status": status, "message": message})


@dataclass(frozen=True)
class ApiLoadBalancerArgs:
    alb_name: str
    target_group_names: dict[str, str]  # alias name -> target group name
    function_name: pulumi.Input[str]
    aliases: dict[str, aws.lambda_.Alias]  # alias name -> alias (a target group each)
    internal: bool
    subnet_ids: pulumi.Input[list[str]]  # private subnets when internal, public otherwise
    security_group_ids: list[pulumi.Input[str]]
    logs_bucket: pulumi.Input[str]
    header_name: str
    header_value: pulumi.Input[str] | None  # required when internet-facing
    weights: dict[str, int]  # alias name -> forward weight
    stickiness_seconds: int
    certificate_arn: str | None


class ApiLoadBalancer(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: ApiLoadBalancerArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:app:ApiLoadBalancer", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.alb = aws.lb.LoadBalancer(
            "alb",
            name=args.alb_name,
            load_balancer_type="application",
            internal=args.internal,
            subnets=args.subnet_ids,
            security_groups=args.security_group_ids,
            drop_invalid_header_fields=True,
            enable_deletion_protection=False,
            idle_timeout=IDLE_TIMEOUT_S,
            # The logs bucket's policy grants the us-east-1 ELB account s3:PutObject on alb/AWSLogs/<account>/*.
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=args.logs_bucket, prefix=ACCESS_LOG_PREFIX,
                                                          enabled=True),
            opts=child,
        )

        self.target_groups: dict[str, aws.lb.TargetGroup] = {}
        for alias, tg_name in args.target_group_names.items():
            # No `stickiness` block: lb_cookie/app_cookie stickiness fails on Lambda target groups; the
            # listener rule's forward action carries target-group stickiness instead.
            tg = aws.lb.TargetGroup(
                f"tg-{alias}",
                name=tg_name,
                target_type="lambda",
                lambda_multi_value_headers_enabled=True,
                health_check=aws.lb.TargetGroupHealthCheckArgs(
                    enabled=True,
                    path=HEALTH_PATH,
                    interval=HEALTH_INTERVAL_S,
                    timeout=HEALTH_TIMEOUT_S,
                    healthy_threshold=2,
                    unhealthy_threshold=2,
                    matcher="200",
                ),
                opts=child,
            )
            # The ALB may invoke exactly this alias, and only for this target group; the attachment waits
            # for the permission (AWS refuses to register a Lambda target the ALB cannot invoke).
            permission = aws.lambda_.Permission(
                f"alb-invoke-{alias}",
                action="lambda:InvokeFunction",
                function=args.function_name,
                qualifier=args.aliases[alias].name,  # an Output: the alias exists first
                principal="elasticloadbalancing.amazonaws.com",
                source_arn=tg.arn,
                opts=child,
            )
            aws.lb.TargetGroupAttachment(
                f"tg-{alias}-attachment",
                target_group_arn=tg.arn,
                target_id=args.aliases[alias].arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
            )
            self.target_groups[alias] = tg

        not_found = aws.lb.ListenerDefaultActionArgs(
            type="fixed-response",
            fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                content_type="application/json", status_code="404", message_body=json_body(404, "not found")),
        )
        if not args.internal and (not args.certificate_arn or args.header_value is None):
            raise ValueError("an internet-facing ALB needs a certificate (HTTPS only) and the origin-verify header")
        self.http: aws.lb.Listener | None = None
        self.https: aws.lb.Listener | None = None
        if args.certificate_arn:
            self.https = aws.lb.Listener(
                "https",
                load_balancer_arn=self.alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=args.certificate_arn,
                default_actions=[not_found],
                opts=child,
            )
            serving = self.https
        else:
            # Internal only (checked above): CloudFront's VPC origin reaches it over AWS's network.
            self.http = aws.lb.Listener(
                "http",
                load_balancer_arn=self.alb.arn,
                port=80,
                protocol="HTTP",
                default_actions=[not_found],
                opts=child,
            )
            serving = self.http

        # Internet-facing: only requests carrying CloudFront's secret header are served. Internal: only the VPC
        # origin can reach the ALB (security group), so no shared secret is needed.
        origin_header = None if args.header_value is None else aws.lb.ListenerRuleConditionArgs(
            http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                http_header_name=args.header_name, values=[args.header_value]),
        )
        forward = aws.lb.ListenerRuleActionArgs(
            type="forward",
            forward=aws.lb.ListenerRuleActionForwardArgs(
                target_groups=[
                    aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=tg.arn, weight=args.weights[alias])
                    for alias, tg in self.target_groups.items()
                ],
                # Target-group stickiness: a client stays on live or canary for the duration.
                stickiness=aws.lb.ListenerRuleActionForwardStickinessArgs(
                    enabled=True, duration=args.stickiness_seconds),
            ),
        )
        all_paths: list[str] = []
        for priority, kind, paths in FORWARD_RULES:
            all_paths.extend(paths)
            aws.lb.ListenerRule(
                f"forward-{kind}",
                listener_arn=serving.arn,
                priority=priority,
                conditions=[
                    aws.lb.ListenerRuleConditionArgs(
                        path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(paths))),
                    *([origin_header] if origin_header is not None else []),
                ],
                actions=[forward],
                opts=child,
            )
        if origin_header is not None:
            aws.lb.ListenerRule(
                "deny-without-origin-header",
                listener_arn=serving.arn,
                priority=DENY_PRIORITY,
                conditions=[aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=all_paths))],
                actions=[aws.lb.ListenerRuleActionArgs(
                    type="fixed-response",
                    fixed_response=aws.lb.ListenerRuleActionFixedResponseArgs(
                        content_type="application/json", status_code="403",
                        message_body=json_body(403, "forbidden: use the CloudFront distribution")),
                )],
                opts=child,
            )
        self.register_outputs({"albDnsName": self.alb.dns_name})
