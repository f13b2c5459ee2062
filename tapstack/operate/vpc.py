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
VPC_EGRESS_VARIABLE: Final = "TAPSTACK_VPC_EGRESS"
VPC_EGRESS_OVERRIDE: Final = f"{VPC_EGRESS_VARIABLE}=confirmed"
"""The environment setting with which preflight lets a deploy through a VPC it sees no way out of."""
MINIMUM_AVAILABILITY_ZONES: Final = 2


@dataclass(frozen=True)
class VpcVerdict:
    """What the check found: "pass", "warn" or "fail", a one-line detail and what to do."""

    status: str
    detail: str
    fix: str = ""


def _ids(parameters: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in parameters.get(name, "").split(",") if item.strip()]


def check_vpc(
    ec2: Any, parameters: Mapping[str, str], region: str, egress_confirmed: bool = False
) -> VpcVerdict:
    """`egress_confirmed`: the operator says the functions reach out where preflight sees no way."""
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
    return _reachability(ec2, vpcs.pop(), subnets, region, egress_confirmed)


OPAQUE_TARGETS: Final = {
    "TransitGatewayId": "Transit Gateway",
    "NetworkInterfaceId": "network interface",
    "VpcPeeringConnectionId": "VPC peering connection",
    "CoreNetworkArn": "Cloud WAN core network",
    "LocalGatewayId": "local gateway",
}
"""Route targets preflight cannot see beyond: a hub VPC's endpoints or NAT, a firewall or proxy appliance.
A `vpce-` gateway (a Gateway Load Balancer endpoint: AWS Network Firewall, third-party firewalls) too."""
SHARED_ENDPOINTS: Final = (
    "endpoints shared from another VPC (a hub's, resolved through Route 53 private hosted zones) are not "
    "visible from here"
)


@dataclass(frozen=True)
class Routes:
    """What the subnets' route tables show of the way out."""

    nat: bool
    """Every subnet's default route goes to a NAT gateway."""
    opaque: list[str]
    """Routes to targets preflight cannot see beyond, as `<kind> <id> (<destination>)`."""
    opaque_default: bool
    """Every subnet's default route goes to a NAT gateway or such a target."""
    unreadable: str | None
    """Why the route tables could not be read, if they could not."""
    table_ids: set[str] | None = None
    """The subnets' route tables (None when unreadable)."""


def _routes(ec2: Any, vpc_id: str, subnet_ids: list[str]) -> Routes:
    try:
        tables = _route_tables_of(ec2, vpc_id, subnet_ids)
    except ClientError as error:
        return Routes(
            False, [], False, f"the route tables could not be read ({error.response['Error']['Code']})"
        )
    unseen = [subnet for subnet in subnet_ids if subnet not in tables]
    if unseen:
        return Routes(False, [], False, f"no route table of {', '.join(unseen)} could be read")
    opaque = sorted({description for table in tables.values() for description in _opaque_routes(table)})
    return Routes(
        nat=all(_routes_to_nat(table) for table in tables.values()),
        opaque=opaque,
        opaque_default=all(
            _routes_to_nat(table) or any(d.endswith("(0.0.0.0/0)") for d in _opaque_routes(table))
            for table in tables.values()
        ),
        unreadable=None,
        table_ids={table["RouteTableId"] for table in tables.values()},
    )


def _opaque_routes(table: Mapping[str, Any]) -> list[str]:
    found = []
    for route in table.get("Routes", []):
        destination = route.get("DestinationCidrBlock") or route.get("DestinationPrefixListId", "?")
        for key, kind in OPAQUE_TARGETS.items():
            if route.get(key):
                found.append(f"{kind} {route[key]} ({destination})")
        # A gateway endpoint's routes (S3, DynamoDB) go to its prefix list; a firewall's carry a CIDR.
        if str(route.get("GatewayId", "")).startswith("vpce-") and route.get("DestinationCidrBlock"):
            found.append(f"firewall endpoint {route['GatewayId']} ({destination})")
    return found


def _reachability(
    ec2: Any, vpc_id: str, subnets: list[Mapping[str, Any]], region: str, egress_confirmed: bool
) -> VpcVerdict:
    """Whether the subnets reach every AWS API the functions call, and PayPal's API host: reached,
    unreachable (fail), or cannot tell (warn, naming what preflight could not see)."""
    routes = _routes(ec2, vpc_id, [subnet["SubnetId"] for subnet in subnets])
    missing = [
        service
        for service in SERVICES_CALLED
        if not _endpoint_serves(ec2, vpc_id, f"com.amazonaws.{region}.{service}", routes.table_ids)
    ]
    names = ", ".join(f"{service} ({SERVICES_CALLED[service]})" for service in missing)
    beyond = routes.unreadable or (
        f"the subnets route through {', '.join(routes.opaque)}, which preflight cannot see beyond"
        if routes.opaque
        else None
    )
    if missing and not routes.nat and beyond is None:
        detail = (
            f"VPC {vpc_id} has no endpoint for {names} and the subnets have no NAT route or other way "
            "out (Transit Gateway, firewall): those calls would time out"
        )
        if egress_confirmed:
            return VpcVerdict("warn", f"{detail}; deploying anyway, as {VPC_EGRESS_OVERRIDE} says")
        return VpcVerdict(
            "fail",
            detail,
            f"create the VPC endpoints (interface ones with private DNS; {VPC_DOCS}) or a NAT route; if "
            f"the egress exists where preflight cannot see it, deploy with {VPC_EGRESS_OVERRIDE}",
        )
    zones = {subnet["AvailabilityZone"] for subnet in subnets}
    problems = []
    if missing and not routes.nat:
        problems.append(f"cannot tell whether {names} are reachable: {beyond}; {SHARED_ENDPOINTS}")
    if not routes.nat:
        if beyond is not None and (routes.unreadable or routes.opaque_default):
            problems.append(
                f"cannot tell whether PayPal's API host on the internet is reachable ({beyond}): without "
                "it PayPal deliveries would be refused"
            )
        else:
            problems.append(
                "the subnets have no NAT route, so the receiver cannot fetch PayPal's signing certificate: "
                "PayPal deliveries would be refused"
            )
    if len(zones) < MINIMUM_AVAILABILITY_ZONES:
        problems.append(f"the subnets are all in {', '.join(sorted(zones))}: one zone's outage stops intake")
    reached = (
        "through its endpoints"
        if not missing
        else f"through the NAT route ({', '.join(missing)})"
        if routes.nat
        else "as far as preflight can see"
    )
    detail = f"VPC {vpc_id}, {len(subnets)} subnet(s) in {len(zones)} zone(s): AWS APIs reached {reached}"
    if problems:
        fix = (
            "add a NAT route for PayPal's API host, and subnets in a second Availability Zone, as they apply"
        )
        if beyond is not None:
            fix = (
                "confirm with the network team that the functions reach what is named "
                f"(a test delivery after the deploy shows it); {fix}"
                + ("; give the deploying role ec2:DescribeRouteTables" if routes.unreadable else "")
            )
        return VpcVerdict("warn", f"{detail}; but {'; '.join(problems)}", fix)
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


def _endpoint_serves(ec2: Any, vpc_id: str, service_name: str, table_ids: set[str] | None) -> bool:
    """An available endpoint of the VPC serves the subnets: a gateway one on all their route tables
    (`table_ids`, None when unreadable), or an interface one with private DNS."""
    endpoints = ec2.describe_vpc_endpoints(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "service-name", "Values": [service_name]},
        ]
    )["VpcEndpoints"]
    for endpoint in endpoints:
        if endpoint.get("State", "available").lower() != "available":
            continue
        if endpoint.get("VpcEndpointType") == "Gateway":
            if table_ids is not None and table_ids <= set(endpoint.get("RouteTableIds", [])):
                return True
        elif endpoint.get("PrivateDnsEnabled"):
            return True
    return False


def _routes_to_nat(table: Mapping[str, Any]) -> bool:
    return any(
        route.get("DestinationCidrBlock") == "0.0.0.0/0" and route.get("NatGatewayId")
        for route in table.get("Routes", [])
    )
