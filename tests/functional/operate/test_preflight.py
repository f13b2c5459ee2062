"""Preflight checks against the moto server (tests/unit/operate/test_preflight.py has those against
stubbed accounts): no AWS is reached."""

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tapstack.cfn.model import read_template
from tapstack.cli import main
from tapstack.local.target import EmulatorTarget, emulator_clients
from tapstack.operate.cloud import TEMPLATE_PATH
from tapstack.operate.preflight import (
    LOCAL_VERIFICATION_MATERIAL,
    DeployPlan,
    Status,
    check_webhook_secret,
    failed,
    run_preflight,
)
from templates.contract import WEBHOOK_SECRET_ARN

TEMPLATE = read_template(TEMPLATE_PATH)


# ---------------------------------------------------------------------- against the emulator


def test_every_check_reports_against_the_emulator(moto_endpoint: str) -> None:
    missing = DeployPlan(
        "pf", "tapstack-pf", "tapstack-bootstrap", {}, "no-such-artifact-bucket", "lambda-abc.zip", False
    )

    results = run_preflight(EmulatorTarget.at(moto_endpoint), TEMPLATE, missing)

    assert [r.check for r in results] == [
        "credentials", "stack state", "reserved concurrency", "artifact", "api logging role",
        "execution log group", "vpc", "paypal simulator", "webhook secret",
    ]  # fmt: skip
    by_check = {result.check: result for result in results}
    assert by_check["artifact"].status is Status.FAIL
    assert failed(results)
    # The emulator's deploy puts working local material in: no placeholder warning that is false there.
    secret = by_check["webhook secret"]
    assert (secret.status, secret.detail) == (Status.PASS, LOCAL_VERIFICATION_MATERIAL.detail)


def test_the_cli_prints_every_check_and_fails_when_one_fails(
    moto_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    artifact = tmp_path / "lambda.zip"
    artifact.write_bytes(b"zip")
    # `tapstack preflight` talks to AWS through the usual chain: point that chain at the emulator.
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    arguments = ["preflight", "--region", "us-east-1", "--env", "pf", "--params", "params/prod.json"]

    status = main([*arguments, "--artifact", str(artifact)])

    printed = capsys.readouterr().out
    checks = (
        "credentials",
        "stack state",
        "reserved concurrency",
        "artifact",
        "api logging role",
        "webhook secret",
    )
    for check in checks:
        assert f"] {check}: " in printed
    assert status == (1 if "[FAIL]" in printed else 0)


@pytest.mark.parametrize(
    ("secret", "status", "says"),
    [
        (
            {"stripe_signing_secrets": [], "paypal_webhook_id": ""},
            Status.WARN,
            "stripe_signing_secrets is empty",
        ),
        (
            {"stripe_signing_secrets": ["whsec_1"], "paypal_webhook_id": "WEBHOOK_ID"},
            Status.WARN,
            "WEBHOOK_ID",
        ),
        (
            {"stripe_signing_secrets": ["whsec_1"], "paypal_webhook_id": "WH-1"},
            Status.WARN,
            "the providers' APIs cannot be called: stripe_api_keys is empty",
        ),
        (
            {
                "stripe_signing_secrets": ["whsec_1"],
                "paypal_webhook_id": "WH-1",
                "stripe_api_keys": ["rk_live_1"],
                "paypal_api_credentials": [],
            },
            Status.WARN,
            "paypal_api_credentials is empty",
        ),
        (
            {
                "stripe_signing_secrets": ["whsec_1"],
                "paypal_webhook_id": "WH-1",
                "stripe_api_keys": ["rk_live_1"],
                "paypal_api_credentials": [{"client_id": "A", "client_secret": "B"}],
            },
            Status.PASS,
            "environment live",
        ),
        ({"paypal_api_credentials": [{"client_id": "A"}]}, Status.FAIL, "paypal_api_credentials must be"),
        ({"paypal_environment": "staging"}, Status.FAIL, "live or sandbox"),
        # A catalogue provider's placeholder object, as the stack creates it for each accepted provider.
        (
            {
                "stripe_signing_secrets": ["whsec_1"],
                "paypal_webhook_id": "WH-1",
                "square": {"signing_keys": [], "notification_url": ""},
            },
            Status.WARN,
            "square.signing_keys is empty; square.notification_url is empty",
        ),
        (
            {
                "stripe_signing_secrets": ["whsec_1"],
                "paypal_webhook_id": "WH-1",
                "stripe_api_keys": ["rk_live_1"],
                "paypal_api_credentials": [{"client_id": "A", "client_secret": "B"}],
                "github": {"signing_keys": ["gh-secret"]},
            },
            Status.PASS,
            "environment live",
        ),
        (
            {"stripe_signing_secrets": ["whsec_1"], "github": {"signing_keys": "one"}},
            Status.FAIL,
            "github.signing_keys must be a list",
        ),
    ],
)
def test_the_deployed_webhook_secret_is_checked_for_placeholders(
    moto_endpoint: str, secret: dict[str, Any], status: Status, says: str
) -> None:
    clients = emulator_clients(moto_endpoint)
    arn = clients("secretsmanager").create_secret(
        Name=f"pf-{uuid.uuid4().hex}", SecretString=json.dumps(secret)
    )["ARN"]
    stack = {"Outputs": [{"OutputKey": WEBHOOK_SECRET_ARN, "OutputValue": arn}]}
    result = check_webhook_secret(clients, stack)
    assert result.status is status
    assert says in result.detail


def test_a_new_stack_is_warned_that_its_secret_starts_as_placeholders(moto_endpoint: str) -> None:
    result = check_webhook_secret(emulator_clients(moto_endpoint), None)
    assert result.status is Status.WARN
    assert not failed([result])
