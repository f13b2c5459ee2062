"""Whether the organisation's VPC the functions attach to (VpcSubnetIds, VpcSecurityGroupIds) can carry
what they do, checked before a deploy: a function in a VPC reaches AWS APIs only through VPC endpoints
or a NAT route, and a missing one shows only as timeouts once deliveries arrive.

Lambda needs subnets and security groups of one VPC; it advises subnets in at least two Availability
Zones (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html). The functions call:
DynamoDB and S3 (gateway or interface endpoints), and Lambda, Secrets Manager and SNS (interface
endpoints, with private DNS so that the SDK's default hostnames resolve to them). Logs and traces leave
through Lambda's own service, not the VPC. The receiver also fetches PayPal's signing certificate from
PayPal's API host, on the internet: without a NAT route, PayPal deliveries cannot be verified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import ClientError

from templates.parameters import VPC_SECURITY_GROUP_IDS, VPC_SUBNET_IDS

VPC_DOCS: Final = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc-endpoints.html"
# The AWS APIs the functions call, and which function calls each.
SERVICES_CALLED: Final = {
    "dynamodb": "processor, notifier",
    "s3": "processor",
    "lambda": "receiver",
    "secretsmanager": "receiver",
    "sns": "notifier",
}
HTTPS_PORT: Final = 443
MINIMUM_AVAILABILITY_ZONES: Final = 2


@dataclass(frozen=True)
class VpcVerdict:
    """What the check found: "pass", "warn" or "fail", a one-line detail and what to do."""

    status: str
    detail: str
    fix: str = ""


def _ids(parameters: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in parameters.get(name, "").split(",") if item.strip()]


def check_vpc(ec2: Any, parameters: Mapping[str, str], region: str) -> VpcVerdict:
    subnet_ids = _ids(parameters, VPC_SUBNET_IDS)
    group_ids = _ids(parameters, VPC_SECURITY_GROUP_IDS)
    if not subnet_ids and not group_ids:
        return VpcVerdict("pass", "the functions run outside any VPC (VpcSubnetIds is empty)")
    if not subnet_ids or not group_ids:
        given, missing = [VPC_SUBNET_IDS, VPC_SECURITY_GROUP_IDS][:: 1 if subnet_ids else -1]
        return VpcVerdict(
            "fail",
            f"{given} is set but {missing} is empty: Lambda needs both",
            f"set {missing} in the parameter file, or clear {given} to run outside a VPC",
        )
    try:
        subnets = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
        groups = ec2.describe_security_groups(GroupIds=group_ids)["SecurityGroups"]
    except ClientError as error:
        return VpcVerdict(
            "fail",
            f"{error.response['Error']['Message']} (in {region})",
            f"set {VPC_SUBNET_IDS} and {VPC_SECURITY_GROUP_IDS} to ids of this account and Region",
        )
    vpcs = {subnet["VpcId"] for subnet in subnets} | {group["VpcId"] for group in groups}
    if len(vpcs) != 1:
        return VpcVerdict(
            "fail",
            f"the subnets and security groups are in more than one VPC ({', '.join(sorted(vpcs))})",
            "give subnets and security groups of one VPC",
        )
    if not any(_allows_https_out(group) for group in groups):
        return VpcVerdict(
            "fail",
            f"no security group of {', '.join(group_ids)} allows HTTPS ({HTTPS_PORT}) out",
            "add an outbound rule for TCP 443 to the VPC endpoints (or 0.0.0.0/0 behind a NAT)",
        )
    return _reachability(ec2, vpcs.pop(), subnets, region)


def _reachability(ec2: Any, vpc_id: str, subnets: list[Mapping[str, Any]], region: str) -> VpcVerdict:
    """Whether the subnets reach every AWS API the functions call, and PayPal's API host."""
    route_tables = _route_tables_of(ec2, vpc_id, [subnet["SubnetId"] for subnet in subnets])
    missing = [
        service
        for service in SERVICES_CALLED
        if not _endpoint_serves(ec2, vpc_id, f"com.amazonaws.{region}.{service}", route_tables)
    ]
    nat = all(_routes_to_nat(table) for table in route_tables.values())
    if missing and not nat:
        names = ", ".join(f"{service} ({SERVICES_CALLED[service]})" for service in missing)
        return VpcVerdict(
            "fail",
            f"VPC {vpc_id} has no endpoint for {names} and the subnets have no NAT route: those calls "
            "would time out",
            f"create the VPC endpoints (interface ones with private DNS; {VPC_DOCS}) or a NAT route",
        )
    problems = []
    if not nat:
        problems.append(
            "the subnets have no NAT route, so the receiver cannot fetch PayPal's signing certificate: "
            "PayPal deliveries would be refused"
        )
    zones = {subnet["AvailabilityZone"] for subnet in subnets}
    if len(zones) < MINIMUM_AVAILABILITY_ZONES:
        problems.append(f"the subnets are all in {', '.join(sorted(zones))}: one zone's outage stops intake")
    reached = f"through the NAT route ({', '.join(missing)})" if missing else "through its endpoints"
    detail = f"VPC {vpc_id}, {len(subnets)} subnet(s) in {len(zones)} zone(s): AWS APIs reached {reached}"
    if problems:
        return VpcVerdict(
            "warn",
            f"{detail}; but {'; '.join(problems)}",
            "add a NAT route for PayPal's API host, and subnets in a second Availability Zone, as they apply",
        )
    return VpcVerdict("pass", detail)


def _allows_https_out(group: Mapping[str, Any]) -> bool:
    return any(
        rule.get("IpProtocol") == "-1"
        or (
            rule.get("IpProtocol") == "tcp"
            and rule.get("FromPort", 0) <= HTTPS_PORT <= rule.get("ToPort", -1)
        )
        for rule in group.get("IpPermissionsEgress", [])
    )


def _route_tables_of(ec2: Any, vpc_id: str, subnet_ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
    """Each subnet's route table: the one associated with it, else the VPC's main one."""
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    main = next(
        (table for table in tables if any(a.get("Main") for a in table.get("Associations", []))), None
    )
    found: dict[str, Mapping[str, Any]] = {}
    for subnet_id in subnet_ids:
        table = next(
            (
                table
                for table in tables
                if any(a.get("SubnetId") == subnet_id for a in table.get("Associations", []))
            ),
            main,
        )
        if table is not None:
            found[subnet_id] = table
    return found


def _endpoint_serves(
    ec2: Any, vpc_id: str, service_name: str, route_tables: Mapping[str, Mapping[str, Any]]
) -> bool:
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "service-name", "Values": [service_name]},
        ]
    )["VpcEndpoints"]
    table_ids = {table["RouteTableId"] for table in route_tables.values()}
    for endpoint in endpoints:
        if endpoint.get("State", "available").lower() != "available":
            continue
        if endpoint.get("VpcEndpointType") == "Gateway":
            if table_ids <= set(endpoint.get("RouteTableIds", [])):
                return True
        elif endpoint.get("PrivateDnsEnabled"):
            return True
    return False


def _routes_to_nat(table: Mapping[str, Any]) -> bool:
    return any(
        route.get("DestinationCidrBlock") == "0.0.0.0/0" and route.get("NatGatewayId")
        for route in table.get("Routes", [])
    )
