"""The API Gateway stage's AWS WAF web ACL (scope REGIONAL, us-east-1) and its association with the stage.

Managed groups (shared/runtime/waf.py defaults: IP reputation, common rule set, known bad inputs) and one per-IP
rate limit (`apiWafRateLimit` per `apiWafEvaluationWindowSeconds`): over it, `429` JSON with `Retry-After`.
The stage's own throttling (usage plan, method settings) still bounds each API key; WAF bounds each address.
Association: https://docs.aws.amazon.com/waf/latest/developerguide/web-acl-associating-aws-resource.html
(REST API stages only; the ARN is the stage's `arn:aws:apigateway:<region>::/restapis/<id>/stages/<stage>`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from shared.runtime.waf import DEFAULT_MANAGED_RULE_GROUPS, CatalogWebAcl, RateRule, WebAclArgs


@dataclass(frozen=True)
class ApiWafArgs:
    web_acl_name: str
    log_group_name: str  # aws-waf-logs-...
    log_retention_days: int
    rate_limit: int
    window_s: int
    stage_arn: pulumi.Input[str]


class ApiWaf(pulumi.ComponentResource):
    def __init__(self, resource_name: str, args: ApiWafArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:app:ApiWaf", resource_name, None, opts)
        self.acl = CatalogWebAcl(f"{resource_name}-acl", WebAclArgs(
            scope="REGIONAL",
            name=args.web_acl_name,
            description="catalog API Gateway stage: managed rules, per-IP rate limit, 429 JSON",
            log_group_name=args.log_group_name,
            log_retention_days=args.log_retention_days,
            managed_rule_groups=DEFAULT_MANAGED_RULE_GROUPS,
            rate_rules=(RateRule("rate-ip", args.rate_limit, args.window_s),),
            retry_after_s=args.window_s,
            tags={"Name": args.web_acl_name},
        ), opts=pulumi.ResourceOptions(parent=self))
        self.association = aws.wafv2.WebAclAssociation(
            f"{resource_name}-stage", resource_arn=args.stage_arn, web_acl_arn=self.acl.web_acl.arn,
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"webAclArn": self.acl.web_acl.arn})
