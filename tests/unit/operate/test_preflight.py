"""Preflight checks against stubbed accounts (botocore Stubber): no AWS is reached."""

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tapstack.cfn.model import read_template
from tapstack.local.target import EmulatorTarget
from tapstack.operate.cloud import TEMPLATE_PATH, Clients
from tapstack.operate.preflight import (
    DeployPlan,
    Status,
    check_api_logging_role,
    check_artifact,
    check_credentials,
    check_reserved_concurrency,
    check_stack_state,
    effective_parameters,
)
from tapstack.operate.target import AwsTarget
from templates.contract import ROLES, function_name_output

TEMPLATE = read_template(TEMPLATE_PATH)
FAKE = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
PLAN = DeployPlan(
    "dev", "tapstack-dev", "tapstack-bootstrap", {}, "artifacts", "lambda-abc.zip", artifact_will_upload=False
)


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, **FAKE)
    return client, Stubber(client)


@pytest.fixture
def lambda_stub() -> Iterator[tuple[Any, Stubber]]:
    client, stubber = stubbed("lambda")
    with stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def account(stubber: Stubber, limit: int, unreserved: int) -> None:
    stubber.add_response(
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": unreserved}},
    )


def reservations(receiver: int, processor: int, notifier: int, reconciler: int = 0) -> dict[str, str]:
    return {
        "ReceiverReservedConcurrency": str(receiver),
        "ProcessorReservedConcurrency": str(processor),
        "NotifierReservedConcurrency": str(notifier),
        "ReconcilerReservedConcurrency": str(reconciler),
    }


def existing_stack(status: str = "UPDATE_COMPLETE") -> dict[str, Any]:
    names = {function_name_output(role): f"tapstack-{role}-dev" for role in ROLES}
    return {
        "StackStatus": status,
        "Parameters": [{"ParameterKey": "LogRetentionDays", "ParameterValue": "90"}],
        "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in names.items()],
    }


# ---------------------------------------------------------------------------------- concurrency


def on_aws(lambda_client: Any) -> AwsTarget:
    return AwsTarget(Clients(session=None, given={"lambda": lambda_client}))


def test_a_stack_that_reserves_nothing_needs_no_account_lookup(lambda_stub: tuple[Any, Stubber]) -> None:
    client, _ = lambda_stub

    result = check_reserved_concurrency(
        client, reservations(0, 0, 0), None, on_aws(client).lambda_account_limits
    )

    assert result.status is Status.PASS


def test_a_1000_account_can_reserve_up_to_900(lambda_stub: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_stub
    account(stubber, 1000, 1000)

    result = check_reserved_concurrency(
        client, reservations(50, 50, 20), None, on_aws(client).lambda_account_limits
    )

    assert result.status is Status.PASS
    assert "900 can be reserved" in result.detail


def test_a_1000_account_refuses_more_than_900_and_says_how_much_fits(
    lambda_stub: tuple[Any, Stubber],
) -> None:
    client, stubber = lambda_stub
    account(stubber, 1000, 1000)

    result = check_reserved_concurrency(
        client, reservations(500, 400, 1), None, on_aws(client).lambda_account_limits
    )

    assert result.status is Status.FAIL
    assert "at most 900 in total" in result.fix
    assert "L-B99A9384" in result.fix


@pytest.mark.parametrize("limit", [50, 10])
def test_small_accounts_cannot_reserve_anything(lambda_stub: tuple[Any, Stubber], limit: int) -> None:
    client, stubber = lambda_stub
    account(stubber, limit, limit)

    result = check_reserved_concurrency(
        client, reservations(1, 0, 0), None, on_aws(client).lambda_account_limits
    )

    assert result.status is Status.FAIL
    assert f"{limit} must stay unreserved: 0 can be reserved" in result.detail
    assert "set ReceiverReservedConcurrency=0" in result.fix


def test_an_update_counts_the_reservations_the_stack_already_holds(lambda_stub: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_stub
    account(stubber, 1000, 150)  # this stack's functions hold 850 of the 1000
    for held in (400, 400, 50):
        stubber.add_response("get_function_concurrency", {"ReservedConcurrentExecutions": held})
    stubber.add_response("get_function_concurrency", {})  # the reconciler reserves none

    result = check_reserved_concurrency(
        client, reservations(400, 400, 50), existing_stack(), on_aws(client).lambda_account_limits
    )

    assert result.status is Status.PASS
    assert "850 held by this stack" in result.detail


def test_an_update_growing_past_the_limit_is_refused(lambda_stub: tuple[Any, Stubber]) -> None:
    client, stubber = lambda_stub
    account(stubber, 1000, 150)
    for held in (400, 400, 50):
        stubber.add_response("get_function_concurrency", {"ReservedConcurrentExecutions": held})
    stubber.add_response("get_function_concurrency", {})  # the reconciler reserves none

    result = check_reserved_concurrency(
        client, reservations(500, 400, 50), existing_stack(), on_aws(client).lambda_account_limits
    )

    assert result.status is Status.FAIL


def test_the_emulator_skips_the_concurrency_check(lambda_stub: tuple[Any, Stubber]) -> None:
    client, _ = lambda_stub
    emulator = EmulatorTarget(Clients(session=None, given={"lambda": client}))

    result = check_reserved_concurrency(client, reservations(1, 0, 0), None, emulator.lambda_account_limits)

    assert result.status is Status.SKIP


# --------------------------------------------------------------------------------- stack state


@pytest.mark.parametrize(
    ("status", "expected", "advice"),
    [
        (None, Status.PASS, ""),
        ("REVIEW_IN_PROGRESS", Status.PASS, ""),
        ("UPDATE_COMPLETE", Status.PASS, ""),
        ("UPDATE_ROLLBACK_COMPLETE", Status.PASS, ""),
        ("ROLLBACK_COMPLETE", Status.FAIL, "make destroy ENV=dev"),
        ("UPDATE_IN_PROGRESS", Status.FAIL, "wait"),
        ("CREATE_IN_PROGRESS", Status.FAIL, "wait"),
        ("UPDATE_ROLLBACK_FAILED", Status.FAIL, "continue-update-rollback --stack-name tapstack-dev"),
    ],
)
def test_stack_state(status: str | None, expected: Status, advice: str) -> None:
    result = check_stack_state(None if status is None else existing_stack(status), PLAN)

    assert result.status is expected
    assert advice in result.fix


# --------------------------------------------------------------------------- api logging role


def clients_with(**given: Any) -> Clients:
    return Clients(boto3.session.Session(**FAKE), given=dict(given))


def test_logging_off_needs_no_role() -> None:
    parameters = {"ApiAccessLogging": "DISABLED", "ApiExecutionLogging": "OFF"}

    assert check_api_logging_role(clients_with(), parameters).status is Status.PASS


def test_access_logging_without_the_account_role_is_refused_with_both_ways_out() -> None:
    apigateway, stubber = stubbed("apigateway")
    stubber.add_response("get_account", {})
    with stubber:
        result = check_api_logging_role(clients_with(apigateway=apigateway), {"ApiAccessLogging": "ENABLED"})

    assert result.status is Status.FAIL
    assert "ApiAccessLogging=DISABLED" in result.fix
    assert "once-per-account" in result.fix


def test_execution_logging_with_the_account_role_passes() -> None:
    apigateway, api_stub = stubbed("apigateway")
    iam, iam_stub = stubbed("iam")
    role_arn = "arn:aws:iam::123456789012:role/apigateway-logs"
    api_stub.add_response("get_account", {"cloudwatchRoleArn": role_arn})
    iam_stub.add_response(
        "get_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": "apigateway-logs",
                "RoleId": "AROAEXAMPLEEXAMPLE123",
                "Arn": role_arn,
                "CreateDate": "2026-01-01T00:00:00Z",
            }
        },
        {"RoleName": "apigateway-logs"},
    )
    parameters = {"ApiAccessLogging": "DISABLED", "ApiExecutionLogging": "ERROR"}
    with api_stub, iam_stub:
        result = check_api_logging_role(clients_with(apigateway=apigateway, iam=iam), parameters)

    assert result.status is Status.PASS


# ------------------------------------------------------------------- artifact and credentials


@pytest.mark.parametrize(
    ("present", "will_upload", "expected"),
    [(True, False, Status.PASS), (False, True, Status.PASS), (False, False, Status.FAIL)],
)
def test_artifact(present: bool, will_upload: bool, expected: Status) -> None:
    s3, stubber = stubbed("s3")
    if present:
        stubber.add_response("head_object", {"ContentLength": 1})
    else:
        stubber.add_client_error("head_object", "404", http_status_code=404)
    plan = DeployPlan(
        "dev", "tapstack-dev", "tapstack-bootstrap", {}, "artifacts", "lambda-abc.zip", will_upload
    )
    with stubber:
        assert check_artifact(s3, plan).status is expected


def test_no_artifact_bucket_says_to_bootstrap() -> None:
    plan = DeployPlan("dev", "acme-dev", "acme-bootstrap", {}, None, "lambda-abc.zip", True)

    result = check_artifact(None, plan)

    assert (result.status, result.fix) == (Status.FAIL, "run make bootstrap")
    assert "stack acme-bootstrap is missing" in result.detail


def test_no_region_fails_before_any_call() -> None:
    clients = Clients(SimpleNamespace(region_name=None))  # a session that found no region

    result = check_credentials(clients)

    assert result.status is Status.FAIL
    assert "AWS_REGION" in result.fix


def test_effective_parameters_are_defaults_then_current_values_then_overrides() -> None:
    values = effective_parameters(TEMPLATE, existing_stack(), {"ApiExecutionLogging": "INFO"})

    assert values["ApiAccessLogging"] == "ENABLED"  # the template's default
    assert values["LogRetentionDays"] == "90"  # kept from the deployed stack
    assert values["ApiExecutionLogging"] == "INFO"
