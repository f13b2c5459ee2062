"""`tapstack local register` on the deployed local stack: the first registration is a rotation (the local
deploy put working material in), the local material stays accepted, deliveries signed with the new material
verify, and a second run changes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handlers.core.secrets import ApiCredentials, VerificationMaterial
from tapstack import paths
from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.local.emulator import LOCAL_PAYPAL_WEBHOOK_ID
from tapstack.local.provider_apis.stand_ins import LocalProviders
from templates.contract import WEBHOOK_SECRET_ARN
from tests.integration.conftest import DeployedStack


def secret_of(deployment: DeployedStack) -> dict[str, Any]:
    arn = deployment.outputs[WEBHOOK_SECRET_ARN]
    return dict(
        json.loads(deployment.clients("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])
    )


def send(
    port: str, environment: str, event: str, directory: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    """`tapstack local send` of a copy of the sample `event` with an id of its own, so that no other test's
    delivery of the same sample to the session's stack makes either a duplicate."""
    document = json.loads((paths.EVENTS / event).read_text())
    document["id"] = f"{document['id']}-{uuid.uuid4().hex[:12]}"
    copy = directory / event
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(json.dumps(document))
    status = main(["local", "send", str(copy), "--port", port, "--env", environment])
    document = dict(json.loads(capsys.readouterr().out))
    assert status == ExitCode.OK, document
    return document


@pytest.fixture
def restored_secret(deployment: DeployedStack) -> Iterator[DeployedStack]:
    """The session's stack, its secret put back afterwards: the other tests on it sign with the local
    material, which a registration replaces."""
    arn = deployment.outputs[WEBHOOK_SECRET_ARN]
    secretsmanager = deployment.clients("secretsmanager")
    before = secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
    yield deployment
    secretsmanager.put_secret_value(SecretId=arn, SecretString=before)


def test_local_registration_rotates_in_the_stand_ins_material(
    moto_endpoint: str,
    restored_secret: DeployedStack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    deployment = restored_secret
    port = moto_endpoint.rsplit(":", 1)[1]
    local = ["local", "register", "--port", port, "--env", deployment.environment]
    local_secret = secret_of(deployment)["stripe_signing_secrets"][0]
    providers = LocalProviders.of(
        ApiCredentials.from_secret_string(json.dumps(secret_of(deployment))), tmp_path
    )

    with providers.server().running() as server:
        stripe = [*local, "--provider", "stripe", "--api-base", server.url]
        assert main(stripe) == ExitCode.USAGE  # the local material is in use: a rotation is needed
        assert "--rotate" in capsys.readouterr().err

        assert main([*stripe, "--apply", "--rotate"]) == ExitCode.OK
        assert json.loads(capsys.readouterr().out)["action"] == "create"
        (endpoint,) = providers.stripe.endpoints
        assert secret_of(deployment)["stripe_signing_secrets"] == [endpoint["secret"], local_secret]

        assert main([*stripe, "--apply"]) == ExitCode.OK
        assert json.loads(capsys.readouterr().out)["action"] == "unchanged"

    assert send(port, deployment.environment, "stripe/payment_intent.succeeded.json", tmp_path, capsys)["ok"]

    # Without --api-base the local providers run in the command (as for `local reconcile`), their
    # registrations kept in files between runs.
    kept = tmp_path / "providers"
    monkeypatch.setattr("tapstack.local.provider_apis.stand_ins.STATE_DIRECTORY", kept)
    paypal = [*local, "--provider", "paypal", "--apply"]
    assert main([*paypal, "--rotate"]) == ExitCode.OK
    created = json.loads(capsys.readouterr().out)
    material = VerificationMaterial.from_secret_string(json.dumps(secret_of(deployment)))
    assert material.paypal_webhook_ids == (created["endpoint"], LOCAL_PAYPAL_WEBHOOK_ID)
    assert main(paypal) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["action"] == "unchanged"
    assert (kept / "paypal-webhooks.json").exists()

    assert send(port, deployment.environment, "paypal/PAYMENT.CAPTURE.COMPLETED.json", tmp_path, capsys)["ok"]
