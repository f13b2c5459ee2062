"""The preflight's VPC check (tapstack/operate/vpc.py) against networks built on the moto server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tapstack.cfn.model import read_template
from tapstack.local.target import EmulatorTarget
from tapstack.operate.cloud import TEMPLATE_PATH
from tapstack.operate.preflight import DeployPlan, Status, run_preflight
from tapstack.operate.vpc import SERVICES_CALLED, VPC_EGRESS_OVERRIDE, check_vpc

REGION = "us-east-1"
GATEWAY_SERVICES = ("dynamodb", "s3")


@dataclass
class Network:
    ec2: Any
    vpc_id: str
    subnet_ids: list[str]
    group_id: str
    route_table_id: str

    def parameters(self, subnets: list[str] | None = None) -> dict[str, str]:
        return {
            "VpcSubnetIds": ",".join(self.subnet_ids if subnets is None else subnets),
            "VpcSecurityGroupIds": self.group_id,
        }

    def add_endpoints(self, services: tuple[str, ...] = tuple(SERVICES_CALLED)) -> None:
        for service in services:
            gateway = service in GATEWAY_SERVICES
            self.ec2.create_vpc_endpoint(
                VpcId=self.vpc_id,
                ServiceName=f"com.amazonaws.{REGION}.{service}",
                VpcEndpointType="Gateway" if gateway else "Interface",
                **(
                    {"RouteTableIds": [self.route_table_id]}
                    if gateway
                    else {"SubnetIds": self.subnet_ids, "PrivateDnsEnabled": True}
                ),
            )

    def add_nat_route(self) -> None:
        allocation = self.ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = self.ec2.create_nat_gateway(SubnetId=self.subnet_ids[0], AllocationId=allocation)
        self.ec2.create_route(
            RouteTableId=self.route_table_id,
            DestinationCidrBlock="0.0.0.0/0",
            NatGatewayId=nat["NatGateway"]["NatGatewayId"],
        )


@pytest.fixture
def network(moto_endpoint: str) -> Network:
    """A VPC with a private subnet in each of two zones, sharing one route table, and a security group
    that allows only HTTPS out."""
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=moto_endpoint)
    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.20.{index}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for index, zone in enumerate((f"{REGION}a", f"{REGION}b"))
    ]
    route_table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    for subnet_id in subnet_ids:
        ec2.associate_route_table(RouteTableId=route_table_id, SubnetId=subnet_id)
    group_id = ec2.create_security_group(GroupName=f"functions-{vpc_id}", Description="x", VpcId=vpc_id)[
        "GroupId"
    ]
    ec2.revoke_security_group_egress(
        GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    ec2.authorize_security_group_egress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.20.0.0/16"}]}
        ],
    )
    return Network(ec2, vpc_id, subnet_ids, group_id, route_table_id)


def test_no_vpc_asks_nothing(network: Network) -> None:
    verdict = check_vpc(network.ec2, {"VpcSubnetIds": "", "VpcSecurityGroupIds": ""}, REGION)
    assert verdict.status == "pass"
    assert "outside any VPC" in verdict.detail


@pytest.mark.parametrize("given", ["VpcSubnetIds", "VpcSecurityGroupIds"])
def test_subnets_and_security_groups_come_together(network: Network, given: str) -> None:
    parameters = {"VpcSubnetIds": "", "VpcSecurityGroupIds": ""} | {given: network.parameters()[given]}
    verdict = check_vpc(network.ec2, parameters, REGION)
    assert verdict.status == "fail"
    assert verdict.detail.startswith(f"{given} is set but ")


def test_an_unknown_subnet_is_named(network: Network) -> None:
    verdict = check_vpc(network.ec2, network.parameters(["subnet-0123456789abcdef0"]), REGION)
    assert verdict.status == "fail"
    assert "subnet-0123456789abcdef0" in verdict.detail
    assert "this account and Region" in verdict.fix


def test_without_endpoints_or_a_nat_route_each_unreachable_api_is_named(network: Network) -> None:
    network.add_endpoints(("dynamodb", "s3"))
    verdict = check_vpc(network.ec2, network.parameters(), REGION)
    assert verdict.status == "fail"
    assert "lambda (receiver), secretsmanager (receiver), sns (notifier)" in verdict.detail
    assert "dynamodb" not in verdict.detail


def test_a_gateway_endpoint_on_another_route_table_does_not_count(network: Network) -> None:
    other_table = network.ec2.create_route_table(VpcId=network.vpc_id)["RouteTable"]["RouteTableId"]
    network.route_table_id, mine = other_table, network.route_table_id
    network.add_endpoints()
    network.route_table_id = mine
    verdict = check_vpc(network.ec2, network.parameters(), REGION)
    assert verdict.status == "fail"
    assert "dynamodb (processor, notifier), s3 (processor)" in verdict.detail


def test_every_endpoint_without_a_nat_route_warns_that_paypal_cannot_be_verified(network: Network) -> None:
    network.add_endpoints()
    verdict = check_vpc(network.ec2, network.parameters(), REGION)
    assert verdict.status == "warn"
    assert "through its endpoints" in verdict.detail
    assert "PayPal deliveries would be refused" in verdict.detail


def test_a_nat_route_in_two_zones_passes(network: Network) -> None:
    network.add_nat_route()
    verdict = check_vpc(network.ec2, network.parameters(), REGION)
    assert verdict.status == "pass", verdict
    assert "2 subnet(s) in 2 zone(s)" in verdict.detail
    assert "through the NAT route" in verdict.detail


def test_one_zone_is_a_warning(network: Network) -> None:
    network.add_endpoints()
    network.add_nat_route()
    verdict = check_vpc(network.ec2, network.parameters(network.subnet_ids[:1]), REGION)
    assert verdict.status == "warn"
    assert "one zone's outage stops intake" in verdict.detail


def test_security_groups_without_https_out_fail(network: Network) -> None:
    network.ec2.revoke_security_group_egress(
        GroupId=network.group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.20.0.0/16"}]}
        ],
    )
    verdict = check_vpc(network.ec2, network.parameters(), REGION)
    assert verdict.status == "fail"
    assert "allows HTTPS (443) out" in verdict.detail


def test_preflight_runs_the_check_with_the_parameter_file(network: Network, moto_endpoint: str) -> None:
    plan = DeployPlan(
        "vpc", "tapstack-vpc", "tapstack-bootstrap", network.parameters(), None, "lambda-abc.zip", True
    )
    results = run_preflight(EmulatorTarget.at(moto_endpoint), read_template(TEMPLATE_PATH), plan)
    (vpc,) = [result for result in results if result.check == "vpc"]
    assert vpc.status is Status.FAIL
    assert "no NAT route" in vpc.detail


# --- Landing-zone networks: egress preflight cannot see beyond ------------------------------------


def test_egress_through_a_transit_gateway_is_a_warning_naming_it_not_a_refusal(network: Network) -> None:
    tgw = network.ec2.create_transit_gateway(Description="hub")["TransitGateway"]["TransitGatewayId"]
    network.ec2.create_route(
        RouteTableId=network.route_table_id, DestinationCidrBlock="0.0.0.0/0", TransitGatewayId=tgw
    )
    verdict = check_vpc(network.ec2, network.parameters(), REGION)
    assert verdict.status == "warn"
    assert f"Transit Gateway {tgw}" in verdict.detail
    assert "cannot tell" in verdict.detail
    # What it could not see: the APIs without an endpoint here, endpoints shared from another VPC.
    assert "lambda (receiver)" in verdict.detail
    assert "shared from another VPC" in verdict.detail


def test_egress_through_a_firewall_appliance_is_a_warning_naming_it(network: Network) -> None:
    appliance = network.ec2.create_network_interface(SubnetId=network.subnet_ids[0])["NetworkInterface"][
        "NetworkInterfaceId"
    ]
    network.ec2.create_route(
        RouteTableId=network.route_table_id, DestinationCidrBlock="0.0.0.0/0", NetworkInterfaceId=appliance
    )
    network.add_endpoints()
    verdict = check_vpc(network.ec2, network.parameters(), REGION)
    assert verdict.status == "warn"
    assert f"network interface {appliance}" in verdict.detail
    assert "PayPal" in verdict.detail  # its internet egress is what cannot be told


class UnreadableRouteTables:
    """EC2 as a deploying role without ec2:DescribeRouteTables sees it."""

    def __init__(self, ec2: Any) -> None:
        self._ec2 = ec2

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ec2, name)

    def describe_route_tables(self, **_: Any) -> Any:
        error = {"Error": {"Code": "UnauthorizedOperation", "Message": "not authorized"}}
        raise ClientError(error, "DescribeRouteTables")


def test_route_tables_it_cannot_read_are_a_warning_never_a_pass(network: Network) -> None:
    verdict = check_vpc(UnreadableRouteTables(network.ec2), network.parameters(), REGION)
    assert verdict.status == "warn"
    assert "route tables" in verdict.detail
    assert "ec2:DescribeRouteTables" in verdict.fix


def test_a_network_with_no_path_out_fails_unless_the_egress_is_confirmed(network: Network) -> None:
    refused = check_vpc(network.ec2, network.parameters(), REGION)
    assert refused.status == "fail"
    assert VPC_EGRESS_OVERRIDE in refused.fix
    confirmed = check_vpc(network.ec2, network.parameters(), REGION, egress_confirmed=True)
    assert confirmed.status == "warn"
    assert refused.detail in confirmed.detail
    assert f"{VPC_EGRESS_OVERRIDE} says" in confirmed.detail
