"""Every permission a layer's program needs is granted, derived from the program itself: each layer runs under
the planner's mocks, which record every data source it calls and every resource type it declares; the table in
projects/bootstrap/program_actions.py turns those into IAM actions; the plan and deploy roles must allow them."""

from __future__ import annotations

from typing import Any

import pytest

from projects.bootstrap import program_actions as table
from shared.plan.planner import Plan
from shared.runtime.layers import LAYER_NAMES
from tests.bootstrap.conftest import role_documents
from tests.bootstrap.iam_eval import allows_action


def declared(chain: dict[str, Plan], plan_with: Any, layer: str) -> tuple[set[str], set[str]]:
    """Resource types and data-source tokens of the layer's program, default config plus a sale window (the
    schedules exist only then)."""
    from tests.bootstrap.test_bootstrap import with_sale_window

    types = {r.type for r in with_sale_window(plan_with, chain, layer)}
    invokes = {i["token"] for i in chain[layer].invokes}
    return types, invokes


def missing(boot: Plan, layer: str, need: dict[str, dict[str, set[str]]]) -> list[str]:
    out = []
    for kind in ("plan", "deploy"):
        docs = role_documents(boot, layer, kind)
        for action, tokens in sorted(need[kind].items()):
            if not allows_action(docs, action):
                out.append(f"{layer} {kind} role lacks {action} (for {', '.join(sorted(tokens))})")
    return out


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_the_roles_allow_every_action_the_program_needs(boot: Plan, chain: dict[str, Plan], plan_with: Any,
                                                        layer: str) -> None:
    types, invokes = declared(chain, plan_with, layer)
    problems = missing(boot, layer, table.required_actions(types, invokes))
    assert not problems, "\n".join(problems)


def test_the_data_layer_runs_no_cloudformation_and_generates_no_password(chain: dict[str, Plan],
                                                                          plan_with: Any) -> None:
    """Its rotation function is its own (no hosted application's stack), its passwords are made inside AWS."""
    types, invokes = declared(chain, plan_with, "data")
    assert "aws:lambda/function:Function" in types
    assert not [t for t in types if t.startswith("aws:serverlessrepository/")]
    assert "aws:secretsmanager/getRandomPassword:getRandomPassword" not in invokes
    # A CloudFormation-backed type would need actions no deploy role has: the table refuses it by name.
    with pytest.raises(KeyError, match="cloudFormationStack:CloudFormationStack: add it to CREATES"):
        table.create_actions("aws:serverlessrepository/cloudFormationStack:CloudFormationStack")


def test_a_data_source_the_table_does_not_know_is_refused_by_name() -> None:
    with pytest.raises(KeyError, match="aws:ssm/getParameter:getParameter: add it to DATA_SOURCES"):
        table.required_actions(set(), {"aws:ssm/getParameter:getParameter"})


def test_a_resource_type_is_mapped_through_botocore_or_the_table() -> None:
    assert table.create_actions("aws:ec2/vpc:Vpc") == ("ec2:CreateVpc",)  # botocore: ec2 CreateVpc
    assert table.create_actions("aws:wafv2/webAcl:WebAcl") == ("wafv2:CreateWebACL",)  # botocore's spelling
    assert table.create_actions("aws:lb/loadBalancer:LoadBalancer") == ("elasticloadbalancing:CreateLoadBalancer",)
    assert table.iam_prefix("cloudwatch") == "cloudwatch"  # signs as `monitoring`
    with pytest.raises(KeyError, match="aws:ec2/vpnGatewayAttachment:VpnGatewayAttachment: add it to CREATES"):
        table.create_actions("aws:ec2/vpnGatewayAttachment:VpnGatewayAttachment")


@pytest.mark.parametrize("layer", LAYER_NAMES)
def test_every_token_of_every_layer_is_in_the_table(chain: dict[str, Plan], plan_with: Any, layer: str) -> None:
    types, invokes = declared(chain, plan_with, layer)
    table.required_actions(types, invokes)  # raises naming the first unknown token
