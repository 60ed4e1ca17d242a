"""Network layer under mocks: the real program, longest legal suffix."""

from __future__ import annotations

import ipaddress

import pytest

from projects.network.subnets import layout
from shared.plan.planner import Plan, PlanError
from shared.runtime.naming import Service, check_name
from shared.runtime.tags import is_taggable
from tests.conftest import SUFFIX

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE = "aws:ec2/route:Route"
NAT = "aws:ec2/natGateway:NatGateway"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"


@pytest.fixture(scope="module")
def net(chain: dict[str, Plan]) -> Plan:
    return chain["network"]


def ids(plan: Plan, type_token: str) -> dict[str, str]:
    """logical name -> mocked physical id, recomputed the way the planner made it."""
    from shared.plan.computed import computed_state

    return {r.name: computed_state(r.type, r.name, r.inputs)[0] for r in plan.of_type(type_token)}


def test_vpc_has_dns_on_and_configured_cidr(net: Plan) -> None:
    vpc = net.one("aws:ec2/vpc:Vpc")
    assert vpc.get("cidrBlock") == "10.0.0.0/16"
    assert vpc.get("enableDnsHostnames") is True
    assert vpc.get("enableDnsSupport") is True


def test_three_public_and_three_private_subnets_in_three_distinct_azs(net: Plan) -> None:
    subnets = net.of_type(SUBNET)
    public = [s for s in subnets if s.get("tags", "Tier") == "public"]
    private = [s for s in subnets if s.get("tags", "Tier") == "private"]
    assert len(public) == 3 and len(private) == 3
    assert len({s.get("availabilityZone") for s in public}) == 3
    assert {s.get("availabilityZone") for s in public} == {s.get("availabilityZone") for s in private}
    assert all(s.get("mapPublicIpOnLaunch") is True for s in public)
    assert all(s.get("mapPublicIpOnLaunch") is False for s in private)
    assert net.export_value("azs") == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_subnet_cidrs_are_disjoint_and_inside_the_vpc(net: Plan) -> None:
    vpc = ipaddress.ip_network(net.one("aws:ec2/vpc:Vpc").get("cidrBlock"))
    cidrs = [ipaddress.ip_network(s.get("cidrBlock")) for s in net.of_type(SUBNET)]
    assert all(c.subnet_of(vpc) for c in cidrs)
    for i, a in enumerate(cidrs):
        for b in cidrs[i + 1:]:
            assert not a.overlaps(b), (a, b)


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.20.0.0/18", "192.168.16.0/20"])
def test_layout_leaves_room_to_grow(cidr: str) -> None:
    result = layout(cidr, 3)
    vpc = ipaddress.ip_network(cidr)
    used = sum(ipaddress.ip_network(c).num_addresses for c in result.public + result.private)
    assert used < vpc.num_addresses / 2
    assert all(ipaddress.ip_network(c).num_addresses >= 64 for c in result.public)


def test_each_private_route_goes_to_the_nat_of_its_own_az(net: Plan) -> None:
    subnet_az = {sid: r.get("availabilityZone") for r, sid in
                 zip(net.of_type(SUBNET), ids(net, SUBNET).values(), strict=True)}
    nat_ids = ids(net, NAT)
    nat_az = {nat_ids[n.name]: subnet_az[n.get("subnetId")] for n in net.of_type(NAT)}
    tables = {rid: r for r, rid in zip(net.of_type("aws:ec2/routeTable:RouteTable"),
                                       ids(net, "aws:ec2/routeTable:RouteTable").values(), strict=True)}
    private_routes = [r for r in net.of_type(ROUTE) if r.get("natGatewayId")]
    assert len(private_routes) == 3
    for route in private_routes:
        table = tables[route.get("routeTableId")]
        table_az = table.get("tags", "Name").rsplit("-rt-", 1)[0][-1]
        assert route.get("destinationCidrBlock") == "0.0.0.0/0"
        assert nat_az[route.get("natGatewayId")].endswith(table_az)
    assert len(set(nat_az.values())) == 3


def test_nats_sit_in_public_subnets_with_vpc_eips(net: Plan) -> None:
    public_ids = set(net.export_value("publicSubnetIds"))
    for nat in net.of_type(NAT):
        assert nat.get("subnetId") in public_ids
    assert all(e.get("domain") == "vpc" for e in net.of_type("aws:ec2/eip:Eip"))
    public_default = [r for r in net.of_type(ROUTE) if r.get("gatewayId")]
    assert len(public_default) == 1 and public_default[0].get("destinationCidrBlock") == "0.0.0.0/0"


def test_gateway_endpoints_on_private_route_tables(net: Plan) -> None:
    endpoints = {e.get("serviceName"): e for e in net.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert set(endpoints) == {"com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.dynamodb"}
    for endpoint in endpoints.values():
        assert endpoint.get("vpcEndpointType") == "Gateway"
        assert endpoint.get("routeTableIds") == net.export_value("privateRouteTableIds")


def _rules(net: Plan) -> set[tuple[str, str, int, str]]:
    sg_ids = {sid: name for name, sid in ids(net, SG).items()}
    out = set()
    for kind, token in (("in", INGRESS), ("out", EGRESS)):
        for rule in net.of_type(token):
            assert rule.get("description"), f"rule {rule.name} has no description"
            assert rule.get("ipProtocol") == "tcp" and rule.get("fromPort") == rule.get("toPort")
            peer = (rule.get("prefixListId") and "cloudfront") or \
                sg_ids.get(rule.get("referencedSecurityGroupId")) or rule.get("cidrIpv4")
            out.add((sg_ids[rule.get("securityGroupId")], kind, rule.get("fromPort"), peer))
    return out


def test_security_group_rules_are_exactly_the_least_privilege_set(net: Plan) -> None:
    assert _rules(net) == {
        ("alb-http-sg", "in", 80, "cloudfront"),
        ("alb-https-sg", "in", 443, "cloudfront"),
        ("lambda-sg", "out", 5432, "proxy-sg"),
        ("lambda-sg", "out", 443, "0.0.0.0/0"),
        ("proxy-sg", "in", 5432, "lambda-sg"),
        ("proxy-sg", "out", 5432, "database-sg"),
        ("database-sg", "in", 5432, "proxy-sg"),
        # Migrate and rotation functions: password logins straight to Aurora, Secrets Manager over HTTPS.
        ("database-sg", "in", 5432, "db-admin-sg"),
        ("db-admin-sg", "out", 5432, "database-sg"),
        ("db-admin-sg", "out", 443, "0.0.0.0/0"),
    }
    for group in net.of_type(SG):
        assert not group.get("ingress") and not group.get("egress"), "rules live in separate resources"
    # The default group is held with no rules at all (Security Hub EC2.2).
    default = net.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert not default.get("ingress") and not default.get("egress")
    prefix = [i for i in net.invokes if i["token"] == "aws:ec2/getManagedPrefixList:getManagedPrefixList"]
    assert prefix and prefix[0]["args"]["name"] == "com.amazonaws.global.cloudfront.origin-facing"


def test_flow_logs_role_writes_only_its_log_group(net: Plan) -> None:
    import json

    group = net.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.get("retentionInDays") == 30
    policy = json.loads(net.one("aws:iam/rolePolicy:RolePolicy", "flow-logs-write").get("policy"))
    (statement,) = policy["Statement"]
    arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{group.get('name')}"
    assert statement["Resource"] == [arn, f"{arn}:*"]
    assert all(a.startswith("logs:") and "*" not in a for a in statement["Action"])
    trust = json.loads(net.one("aws:iam/role:Role").get("assumeRolePolicy"))
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    flow = net.one("aws:ec2/flowLog:FlowLog")
    assert flow.get("trafficType") == "ALL" and flow.get("logDestination") == arn


def test_names_are_valid_and_carry_the_whole_suffix(net: Plan) -> None:
    for group in net.of_type(SG):
        check_name(group.get("name"), Service.SECURITY_GROUP)
        assert group.get("name").endswith(f"-{SUFFIX}")
    check_name(net.one("aws:iam/role:Role").get("name"), Service.IAM_ROLE)
    for resource in net.custom_resources():
        name_tag = resource.get("tags", "Name")
        if name_tag:
            assert name_tag.endswith(SUFFIX)


def test_every_taggable_resource_is_tagged(net: Plan) -> None:
    for resource in net.custom_resources():
        if is_taggable(resource.type):
            tags = resource.get("tags") or {}
            assert tags.get("Environment") == SUFFIX, resource.name
            assert tags.get("Layer") == "network" and tags.get("Owner") == "network team"
            assert tags.get("ManagedBy") == "pulumi" and tags.get("Project") == "catalog"


def test_single_nat_mode_routes_every_az_through_one_nat(plan_with) -> None:
    plan = plan_with("network", {"catalog-network:natGateways": "single"})
    assert len(plan.of_type(NAT)) == 1
    nat_routes = {r.get("natGatewayId") for r in plan.of_type(ROUTE) if r.get("natGatewayId")}
    assert len(nat_routes) == 1 and len(plan.of_type("aws:ec2/routeTable:RouteTable")) == 4


def test_configured_azs_and_cidr_are_used(plan_with) -> None:
    plan = plan_with("network", {"catalog-network:azs": "us-east-1b,us-east-1c,us-east-1d",
                                 "catalog-network:cidr": "172.20.0.0/18"})
    assert plan.export_value("azs") == ["us-east-1b", "us-east-1c", "us-east-1d"]
    assert plan.one("aws:ec2/vpc:Vpc").get("cidrBlock") == "172.20.0.0/18"


@pytest.mark.parametrize(("overrides", "message"), [
    ({"catalog-network:cidr": "8.8.0.0/16"}, "not a private block"),
    ({"catalog-network:cidr": "10.0.0.0/8"}, "outside /16-/20"),
    ({"catalog-network:cidr": "10.0.0.0/24"}, "outside /16-/20"),
    ({"catalog-network:cidr": "10.0.0.1/16"}, "not a network address"),
    ({"catalog-network:natGateways": "two"}, "expected one of per-az, single"),
    ({"catalog-network:azs": "us-east-1a,us-east-1b"}, "not three distinct zones"),
    ({"catalog-network:azs": "us-east-1a,us-east-1b,us-east-1e"}, "not available"),
    ({"catalog-network:flowLogRetentionDays": "10"}, "not a CloudWatch Logs retention period"),
    ({"catalog-network:natGateway": "single"}, "unknown config key catalog-network:natGateway"),
])
def test_bad_config_is_refused_before_any_resource(plan_with, overrides: dict[str, str], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        plan_with("network", overrides)
