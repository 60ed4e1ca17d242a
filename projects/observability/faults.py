"""Fault Injection Service experiment templates for the sale rehearsal (only with `faultExperiments` set).

One template per fault (shared/runtime/faults.py), each stopped by the layer's composite alarm (every
customer-facing alarm) and run by one role that may touch exactly the experiments' targets: the Aurora cluster it
fails over, the API function it slows or breaks, the S3 location the FIS Lambda extension reads, the network ACLs
FIS creates (tagged `managedByFIS=true`) in the network layer's VPC and the subnets it swaps them onto (and back
onto their original ACL, the VPC's default one: see `network_statements`). The role carries the layer's permissions
boundary (shared/runtime/boundary.py sets it on every role), whose network-ACL actions reach only that VPC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from shared.runtime.errors import ConfigError
from shared.runtime.faults import FAULTS, FIS_TAG, Fault

STOP_SOURCE = "aws:cloudwatch:alarm"


@dataclass(frozen=True)
class Network:
    """The network layer's VPC and private subnets (the API function's, one per AZ in `azs` order)."""

    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    az_index: int  # az-disrupt cuts this AZ's private subnet
    default_acl_id: pulumi.Input[str]  # the VPC's default ACL: the subnets' own, which the swap back attaches


@dataclass(frozen=True)
class FaultArgs:
    faults: tuple[str, ...]
    role_name: str
    account_id: str
    region: str
    stop_alarm_arns: list[pulumi.Input[str]]
    cluster_arn: pulumi.Input[str] | None  # the data layer's Aurora cluster (aurora-failover)
    function_arn: pulumi.Input[str] | None  # the app layer's API function, unqualified (lambda-*)
    config_location: pulumi.Input[str]  # the app layer's faultConfigLocation: where the FIS Lambda extension reads
    network: Network | None  # the network faults' VPC and subnets (dynamodb-disrupt, az-disrupt)
    duration_minutes: int
    invocation_percentage: int
    delay_ms: int


def _trust(account_id: str, region: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "fis.amazonaws.com"}, "Action": "sts:AssumeRole",
        # Only this account's experiments (confused deputy).
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                      "ArnLike": {"aws:SourceArn": f"arn:aws:fis:{region}:{account_id}:experiment/*"}}}]})


def subnet_targets(fault: Fault, subnet_ids: list[str], az_index: int) -> list[str]:
    """The subnets a network fault cuts: every private subnet (the API function's) or one AZ's."""
    return [subnet_ids[az_index]] if fault.scope == "all" else list(subnet_ids)


def subnet_arn(region: str, account_id: str, subnet_id: str) -> str:
    return f"arn:aws:ec2:{region}:{account_id}:subnet/{subnet_id}"


def network_statements(faults: tuple[str, ...], region: str, account_id: str, vpc_id: str,
                       subnet_arns: list[str], default_acl_id: str) -> list[dict[str, Any]]:
    """aws:network:disrupt-connectivity (FIS actions reference, its permissions): create a network ACL in the VPC
    tagged managedByFIS=true, fill it with deny entries, swap it onto the target subnets, swap the originals back,
    delete it. Only in the network layer's VPC, only ACLs FIS tagged, only the target subnets."""
    vpc = f"arn:aws:ec2:{region}:{account_id}:vpc/{vpc_id}"
    acls = f"arn:aws:ec2:{region}:{account_id}:network-acl/*"
    fis_made = {"aws:RequestTag/" + FIS_TAG: "true"}
    in_vpc = {"ec2:Vpc": vpc}
    statements: list[dict[str, Any]] = [
        # Describe calls have no resource-level permission.
        {"Sid": "ReadTheNetwork", "Effect": "Allow", "Resource": "*",
         "Action": ["ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls", "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs"]},
        {"Sid": "CreateAclInTheVpc", "Effect": "Allow", "Action": "ec2:CreateNetworkAcl", "Resource": vpc},
        {"Sid": "CreateFisAcl", "Effect": "Allow", "Action": "ec2:CreateNetworkAcl", "Resource": acls,
         "Condition": {"StringEquals": fis_made}},
        {"Sid": "TagFisAclOnCreate", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": acls,
         "Condition": {"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl", **fis_made}}},
        {"Sid": "FillAndDeleteFisAcl", "Effect": "Allow", "Action": ["ec2:CreateNetworkAclEntry",
                                                                     "ec2:DeleteNetworkAcl"], "Resource": acls,
         "Condition": {"StringEquals": {"ec2:ResourceTag/" + FIS_TAG: "true", **in_vpc}}},
        # The swap authorizes the subnet (only the targets) and the ACL it gets: FIS's during the fault (tagged),
        # the subnet's original after it, the VPC's default ACL (untagged: by its id, a network layer output; the
        # network layer gives its subnets no other ACL). No other ACL of the VPC can be swapped onto them.
        {"Sid": "SwapTheTargetSubnetsAcl", "Effect": "Allow", "Action": "ec2:ReplaceNetworkAclAssociation",
         "Resource": [*subnet_arns, f"arn:aws:ec2:{region}:{account_id}:network-acl/{default_acl_id}"],
         "Condition": {"StringEquals": in_vpc}},
        {"Sid": "SwapOntoFisAcl", "Effect": "Allow", "Action": "ec2:ReplaceNetworkAclAssociation", "Resource": acls,
         "Condition": {"StringEquals": {"ec2:ResourceTag/" + FIS_TAG: "true", **in_vpc}}},
    ]
    if any(FAULTS[f].network and FAULTS[f].scope == "dynamodb" for f in faults):
        # DynamoDB's addresses: the Region's AWS-managed prefix list (owner "aws" in its ARN).
        statements.append({"Sid": "ReadDynamoDbPrefixList", "Effect": "Allow",
                           "Action": "ec2:GetManagedPrefixListEntries",
                           "Resource": f"arn:aws:ec2:{region}:aws:prefix-list/*"})
    return statements


def role_policy(faults: tuple[str, ...], cluster_arn: str | None, function_arn: str | None,
                config_location: str, network: list[dict[str, Any]] | None = None) -> str:
    """What the experiments do, on their targets only (the FIS actions reference's permissions per action)."""
    lambda_faults = [f for f in faults if FAULTS[f].lambda_extension]
    if lambda_faults and not config_location:
        # Without the extension in the function an experiment would run and inject nothing.
        raise ConfigError(f"faultExperiments {', '.join(lambda_faults)} need the FIS Lambda extension in the API, "
                          "and the app layer's faultConfigLocation output is empty",
                          "deploy the app layer with faultInjection=true (projects/app/README.md) first")
    statements: list[dict[str, Any]] = []
    if "aurora-failover" in faults:
        statements.append({"Sid": "FailOverTheCluster", "Effect": "Allow",
                           "Action": ["rds:FailoverDBCluster", "rds:DescribeDBClusters"], "Resource": cluster_arn})
    if any(FAULTS[f].lambda_extension for f in faults):
        statements += [
            {"Sid": "ReadTheFunction", "Effect": "Allow", "Action": "lambda:GetFunction", "Resource": function_arn},
            # FIS writes the fault's configuration where the function's FIS extension reads it, then removes it.
            {"Sid": "WriteFaultConfig", "Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"],
             "Resource": f"{config_location.rstrip('/')}/*"},
        ]
    statements += network or []
    # FIS resolves targets through the Resource Groups Tagging API, which has no resource-level permission.
    statements.append({"Sid": "ResolveTargets", "Effect": "Allow", "Action": "tag:GetResources", "Resource": "*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _action(fault: Fault, args: FaultArgs) -> dict[str, Any]:
    duration = f"PT{args.duration_minutes}M"
    parameters = {
        "aurora-failover": {},
        "lambda-errors": {"duration": duration, "invocationPercentage": str(args.invocation_percentage)},
        "lambda-latency": {"duration": duration, "invocationPercentage": str(args.invocation_percentage),
                           "startupDelayMilliseconds": str(args.delay_ms)},
    }.get(fault.name, {"duration": duration, "scope": fault.scope} if fault.network else {})
    return {"name": fault.name, "action_id": fault.action_id, "description": fault.what[:512],
            "parameters": [{"key": k, "value": v} for k, v in sorted(parameters.items())],
            "target": {"key": fault.target_key, "value": "target"}}


class FaultExperiments(pulumi.ComponentResource):
    def __init__(self, name: str, args: FaultArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("catalog:observability:FaultExperiments", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role("fault-injection", name=args.role_name,
                                 assume_role_policy=_trust(args.account_id, args.region), opts=child)
        net = args.network
        subnets = pulumi.Output.from_input(net.private_subnet_ids if net else [])
        network_faults = [f for f in args.faults if FAULTS[f].network]

        def arns_of(fault: Fault) -> pulumi.Output[list[str]]:
            assert net is not None
            return subnets.apply(lambda ids: [subnet_arn(args.region, args.account_id, s)
                                              for s in subnet_targets(fault, ids, net.az_index)])

        def network_policy(vpc_id: str, ids: list[str], default_acl: str) -> list[dict[str, Any]] | None:
            if not network_faults or net is None:
                return None
            cut = sorted({subnet_arn(args.region, args.account_id, s)
                          for f in network_faults for s in subnet_targets(FAULTS[f], ids, net.az_index)})
            return network_statements(args.faults, args.region, args.account_id, vpc_id, cut, default_acl)

        targets = pulumi.Output.all(args.cluster_arn, args.function_arn, net.vpc_id if net else "", subnets,
                                    args.config_location, net.default_acl_id if net else "")
        aws.iam.RolePolicy("fault-injection", role=self.role.id, opts=child, policy=targets.apply(
            lambda t: role_policy(args.faults, t[0], t[1], t[4], network_policy(t[2], t[3], t[5]))))
        self.templates: dict[str, aws.fis.ExperimentTemplate] = {}
        for fault_name in args.faults:
            fault = FAULTS[fault_name]
            target_arns: pulumi.Input[list[str]] = (
                arns_of(fault) if fault.network
                else [args.cluster_arn if fault.target_type == "aws:rds:cluster" else args.function_arn])
            self.templates[fault_name] = aws.fis.ExperimentTemplate(
                fault_name,
                description=f"Sale rehearsal: {fault.what}"[:512],
                role_arn=self.role.arn,
                stop_conditions=[{"source": STOP_SOURCE, "value": arn} for arn in args.stop_alarm_arns],
                targets=[{"name": "target", "resource_type": fault.target_type, "selection_mode": "ALL",
                          "resource_arns": target_arns}],
                actions=[_action(fault, args)],
                tags={"Name": fault_name},
                opts=child)
        self.register_outputs({})
