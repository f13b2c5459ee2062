"""The dashboard of the stack deployed on the emulator: created under its name, with a body that is JSON
and draws the deployed functions and dead-letter queues by the names they were given, in the stack's
Region."""

import json
from typing import Any

from tapstack.operate.destroy import listed_resources
from tests.integration.conftest import NAMES, DeployedStack


def _dimensions(body: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (dimension name, value) pair of the body's metric lines."""
    pairs = set()
    for widget in body["widgets"]:
        for line in widget["properties"].get("metrics", []):
            strings = [item for item in line if isinstance(item, str)][2:]
            pairs |= set(zip(strings[::2], strings[1::2], strict=True))
    return pairs


def test_the_deployed_dashboard_draws_the_deployed_functions_and_queues(deployment: DeployedStack) -> None:
    clients = deployment.clients
    name = NAMES.dashboard.for_suffix(deployment.environment)
    body = json.loads(clients("cloudwatch").get_dashboard(DashboardName=name)["DashboardBody"])
    assert {w["properties"]["region"] for w in body["widgets"] if w["type"] == "metric"} == {clients.region}
    drawn = _dimensions(body)
    resources = listed_resources(clients("cloudformation"), deployment.deployment.stack)
    functions = [r.physical_id for r in resources if r.kind == "AWS::Lambda::Function"]
    queues = [r.physical_id.rsplit("/", 1)[-1] for r in resources if r.kind == "AWS::SQS::Queue"]
    assert functions
    assert queues
    assert {("FunctionName", function) for function in functions} <= drawn
    assert {("QueueName", queue) for queue in queues} <= drawn
