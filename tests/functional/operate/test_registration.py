"""Registration against the local providers' stand-ins (the server `tapstack local reconcile` also runs)
over loopback, the stack's secret in the moto server: create, re-run unchanged, update, rotate; the Stripe
stand-in checked with the official `stripe` package as its client; the command's one JSON document and
its exit-2 lines."""

import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stripe as stripe_sdk

from handlers.core.errors import RejectionError
from handlers.core.http import Headers
from handlers.core.secrets import ApiCredentials, PaypalApiCredential, VerificationMaterial
from handlers.providers import stripe
from tapstack.cfn.model import read_template
from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.local.provider_apis.stand_ins import LocalProviders
from tapstack.local.target import emulator_clients
from tapstack.operate.cloud import TEMPLATE_PATH
from tapstack.operate.provider_api import PaypalApi, ProviderApiError, StripeApi
from tapstack.operate.registration import (
    EVENT_TYPES,
    PREVIOUS_PAYPAL_IDS,
    Action,
    Registration,
    RegistrationRefusedError,
    register,
)
from templates.contract import WEBHOOK_SECRET_ARN, webhook_url_output
from templates.naming import names_of
from templates.webhook_secret import PLACEHOLDER_MATERIAL

STRIPE_KEY = "rk_test_registration0000000000"
PAYPAL_APP = {"client_id": "AppRegistration", "client_secret": "EL-registration-secret"}
OTHER_APP = PaypalApiCredential("AppOther", "EL-other")
ROTATED_APP = {"client_id": "AppRotated", "client_secret": "EL-rotated"}
CREDENTIALS = ApiCredentials(
    (STRIPE_KEY,), (PaypalApiCredential(**PAYPAL_APP), OTHER_APP, PaypalApiCredential(**ROTATED_APP))
)
"""What the stand-ins accept: the secrets' credentials, and the apps a rotation or a test moves to."""
STACK = "payments-dev"
"""The stack a registration names (in the endpoint's metadata and the printed document)."""
URL = "https://abc123.execute-api.us-east-1.amazonaws.com/v1/webhooks/{provider}"


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[tuple[LocalProviders, str]]:
    providers = LocalProviders.of(CREDENTIALS, tmp_path)
    with providers.server().running() as server:
        yield providers, server.url


def make_secret(moto_endpoint: str, **material: Any) -> tuple[Any, str]:
    """A webhook secret as the template makes it, with the operator's API credentials put in."""
    secretsmanager = emulator_clients(moto_endpoint)("secretsmanager")
    document = PLACEHOLDER_MATERIAL | {
        "internal_hmac_key": "generated",
        "stripe_api_keys": [STRIPE_KEY],
        "paypal_api_credentials": [PAYPAL_APP],
    }
    created = secretsmanager.create_secret(
        Name=f"registration-{uuid.uuid4().hex}", SecretString=json.dumps(document | material)
    )
    return secretsmanager, created["ARN"]


def stored(secretsmanager: Any, arn: str) -> dict[str, Any]:
    return dict(json.loads(secretsmanager.get_secret_value(SecretId=arn)["SecretString"]))


def stripe_delivery_verifies(secret: str, material: VerificationMaterial) -> bool:
    body = b'{"id": "evt_1"}'
    now = int(time.time())
    headers = Headers({"stripe-signature": (stripe.sign(body, secret, now),)})
    try:
        stripe.verify(headers, body, material, now)
    except RejectionError:
        return False
    return True


# -- the stand-in, with the official client ------------------------------------------------------------


def test_the_stripe_stand_in_answers_the_official_client(
    stand_in: tuple[LocalProviders, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, base = stand_in
    monkeypatch.setattr(stripe_sdk, "api_base", base)
    monkeypatch.setattr(stripe_sdk, "api_key", STRIPE_KEY)
    monkeypatch.setattr(stripe_sdk, "max_network_retries", 0)

    # Plain dicts: the SDK types api_version as the Literal of the versions it knows.
    creation: dict[str, Any] = {
        "url": URL.format(provider="stripe"),
        "enabled_events": ["charge.succeeded", "refund.created"],
        "api_version": stripe.API_VERSION,
        "description": "TapStack",
        "metadata": {"tapstack_stack": STACK},
    }
    created = stripe_sdk.WebhookEndpoint.create(**creation)
    assert (created.secret or "").startswith("whsec_")
    assert (created.api_version, created.status, created.metadata["tapstack_stack"]) == (
        stripe.API_VERSION, "enabled", STACK,
    )  # fmt: skip

    listed = stripe_sdk.WebhookEndpoint.list(limit=100)
    assert [endpoint.id for endpoint in listed.data] == [created.id]
    assert "secret" not in listed.data[0]  # only the creation's answer holds it
    assert listed.has_more is False

    modified = stripe_sdk.WebhookEndpoint.modify(created.id, enabled_events=["refund.created"], disabled=True)
    assert (modified.enabled_events, modified.status) == (["refund.created"], "disabled")
    version_change: dict[str, Any] = {"api_version": "2024-06-20"}  # an endpoint's version is fixed
    with pytest.raises(stripe_sdk.InvalidRequestError, match="unknown parameter: api_version"):
        stripe_sdk.WebhookEndpoint.modify(created.id, **version_change)

    assert stripe_sdk.WebhookEndpoint.delete(created.id).deleted is True
    with pytest.raises(stripe_sdk.InvalidRequestError, match="No such webhook endpoint"):
        stripe_sdk.WebhookEndpoint.retrieve(created.id)


def test_the_stand_ins_pages_follow_starting_after(stand_in: tuple[LocalProviders, str]) -> None:
    providers, base = stand_in
    api = StripeApi(STRIPE_KEY, base)
    for index in range(3):
        api.create_webhook_endpoint(f"https://example.com/{index}", ["charge.succeeded"], "d", {})
    pages: list[Any] = []
    page = api._request("GET", "/v1/webhook_endpoints", [("limit", "2")])
    pages.append(page)
    page = api._request(
        "GET", "/v1/webhook_endpoints", [("limit", "2"), ("starting_after", page["data"][-1]["id"])]
    )
    pages.append(page)
    assert [(len(p["data"]), p["has_more"]) for p in pages] == [(2, True), (1, False)]
    assert len(api.webhook_endpoints()) == len(providers.stripe.endpoints) == 3


def test_paypal_holds_one_webhook_per_url_in_an_app(stand_in: tuple[LocalProviders, str]) -> None:
    _, base = stand_in
    app = PaypalApi(PaypalApiCredential(**PAYPAL_APP), base)
    created = app.create_webhook(URL.format(provider="paypal"), ["PAYMENT.CAPTURE.COMPLETED"])
    assert [link["rel"] for link in created["links"]] == ["self", "update", "delete"]
    with pytest.raises(ProviderApiError, match="WEBHOOK_URL_ALREADY_EXISTS"):
        app.create_webhook(URL.format(provider="paypal"), ["PAYMENT.CAPTURE.COMPLETED"])
    assert PaypalApi(OTHER_APP, base).webhooks() == []  # webhooks belong to the app whose token lists them


def test_one_paypal_token_serves_its_webhooks_and_its_event_log(stand_in: tuple[LocalProviders, str]) -> None:
    # One OAuth token implementation: the token registration takes is the one the event log reads with.
    providers, base = stand_in
    app = PaypalApi(OTHER_APP, base)
    app.create_webhook(URL.format(provider="paypal"), ["PAYMENT.CAPTURE.COMPLETED"])
    assert list(providers.paypal.webhooks) == [OTHER_APP.client_id]
    token = app._access_token()
    events = urllib.request.Request(  # noqa: S310 (loopback)
        f"{base}/v1/notifications/webhooks-events", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(events) as answer:  # noqa: S310 (loopback)
        assert json.loads(answer.read()) == {"count": 0, "links": [], "events": []}
    forged = PaypalApi(OTHER_APP, base, _token="A21AA-forged")
    with pytest.raises(ProviderApiError, match="AUTHENTICATION_FAILURE"):
        forged.webhooks()


def test_the_registrations_outlive_the_server(tmp_path: Path) -> None:
    # Kept under the state directory, as separate `tapstack local register` commands need them.
    with LocalProviders.of(CREDENTIALS, tmp_path).server().running() as server:
        created = StripeApi(STRIPE_KEY, server.url).create_webhook_endpoint(
            URL.format(provider="stripe"), ["charge.succeeded"], "d", {}
        )
        webhook = PaypalApi(OTHER_APP, server.url).create_webhook(
            URL.format(provider="paypal"), ["PAYMENT.CAPTURE.COMPLETED"]
        )
    later = LocalProviders.of(CREDENTIALS, tmp_path)
    assert [endpoint["secret"] for endpoint in later.stripe.endpoints] == [created["secret"]]
    assert [w["id"] for w in later.paypal.webhooks[OTHER_APP.client_id]] == [webhook["id"]]
    with later.server().running() as server:
        assert [e["id"] for e in StripeApi(STRIPE_KEY, server.url).webhook_endpoints()] == [created["id"]]


def test_a_refused_call_names_no_credential(stand_in: tuple[LocalProviders, str]) -> None:
    _, base = stand_in
    not_a_key = "whsec_pasted_by_mistake_0000"
    with pytest.raises(ProviderApiError) as stripe_refusal:
        StripeApi(not_a_key, base).webhook_endpoints()
    with pytest.raises(ProviderApiError) as paypal_refusal:
        PaypalApi(PaypalApiCredential("AppRegistration", ""), base).webhooks()
    assert stripe_refusal.value.status == paypal_refusal.value.status == 401
    assert "invalid_client" in str(paypal_refusal.value)
    for shown in (repr(stripe_refusal.value), str(stripe_refusal.value), repr(StripeApi(not_a_key, base))):
        assert not_a_key not in shown
    assert stripe_refusal.value.__cause__ is None  # the urllib error, which holds the request, is dropped


class EchoingProvider(BaseHTTPRequestHandler):
    """A provider whose error message repeats the request's Authorization header."""

    def do_GET(self) -> None:
        body = json.dumps({"error": {"message": f"refused {self.headers['Authorization']}"}}).encode()
        self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def test_a_credential_the_provider_echoes_is_hidden_from_the_error() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(ProviderApiError) as refusal:
            StripeApi(STRIPE_KEY, f"http://127.0.0.1:{server.server_address[1]}").webhook_endpoints()
    finally:
        server.shutdown()
        server.server_close()
    assert str(refusal.value) == "stripe GET /v1/webhook_endpoints failed: HTTP 403: refused Bearer <hidden>"


# -- registration, against the stand-ins and the moto-hosted secret -------------------------------------


def test_stripe_create_rerun_update_and_rotate(
    moto_endpoint: str, stand_in: tuple[LocalProviders, str]
) -> None:
    providers, base = stand_in
    registrations = providers.stripe
    secretsmanager, arn = make_secret(moto_endpoint)
    registration = Registration("stripe", STACK, URL.format(provider="stripe"), arn)

    dry = register(registration, secretsmanager, base, apply=False, rotate=False)
    assert (dry.action, dry.applied) == (Action.CREATE, False)
    assert registrations.endpoints == []
    assert stored(secretsmanager, arn)["stripe_signing_secrets"] == []

    created = register(registration, secretsmanager, base, apply=True, rotate=False)
    (endpoint,) = registrations.endpoints
    assert created.endpoint is not None
    assert created.endpoint.id == endpoint["id"]
    assert endpoint["enabled_events"] == list(EVENT_TYPES["stripe"])
    assert endpoint["api_version"] == stripe.API_VERSION
    document = stored(secretsmanager, arn)
    assert document["stripe_signing_secrets"] == [endpoint["secret"]]
    assert (document["internal_hmac_key"], document["stripe_api_keys"]) == ("generated", [STRIPE_KEY])
    assert created.document(STACK)["changed"] is True

    again = register(registration, secretsmanager, base, apply=True, rotate=False)
    assert (again.action, again.document(STACK)["changed"]) == (Action.UNCHANGED, False)
    assert len(registrations.endpoints) == 1

    endpoint["enabled_events"] = ["charge.succeeded"]  # someone edited it in the Dashboard
    endpoint["status"] = "disabled"  # and Stripe disabled it after days of failures
    updated = register(registration, secretsmanager, base, apply=True, rotate=False)
    assert (updated.action, updated.reenable) == (Action.UPDATE, True)
    assert (endpoint["enabled_events"], endpoint["status"]) == (list(EVENT_TYPES["stripe"]), "enabled")

    old_secret = endpoint["secret"]
    rotated = register(registration, secretsmanager, base, apply=True, rotate=True)
    assert rotated.retire_after_overlap == (endpoint["id"],)
    new = next(e for e in registrations.endpoints if e["id"] != endpoint["id"])
    assert stored(secretsmanager, arn)["stripe_signing_secrets"] == [new["secret"], old_secret]
    material = VerificationMaterial.from_secret_string(json.dumps(stored(secretsmanager, arn)))
    assert stripe_delivery_verifies(new["secret"], material)
    assert stripe_delivery_verifies(old_secret, material)  # the overlap: the old endpoint's still verify
    assert not stripe_delivery_verifies("whsec_someone_else", material)

    after = register(registration, secretsmanager, base, apply=True, rotate=False)
    assert after.action is Action.UNCHANGED
    assert after.endpoint is not None
    assert (after.endpoint.id, after.retire_after_overlap) == (new["id"], (endpoint["id"],))


def test_stripe_refuses_to_replace_a_secret_in_use(
    moto_endpoint: str, stand_in: tuple[LocalProviders, str]
) -> None:
    _, base = stand_in
    secretsmanager, arn = make_secret(moto_endpoint, stripe_signing_secrets=["whsec_in_use"])
    registration = Registration("stripe", STACK, URL.format(provider="stripe"), arn)
    with pytest.raises(RegistrationRefusedError, match="--rotate"):
        register(registration, secretsmanager, base, apply=True, rotate=False)
    assert stored(secretsmanager, arn)["stripe_signing_secrets"] == ["whsec_in_use"]


def test_paypal_create_rerun_update_and_rotate_to_another_app(
    moto_endpoint: str, stand_in: tuple[LocalProviders, str]
) -> None:
    providers, base = stand_in
    registrations = providers.paypal
    secretsmanager, arn = make_secret(moto_endpoint)
    registration = Registration("paypal", STACK, URL.format(provider="paypal"), arn)

    created = register(registration, secretsmanager, base, apply=True, rotate=False)
    (webhook,) = registrations.webhooks[PAYPAL_APP["client_id"]]
    assert created.action is Action.CREATE
    assert [event["name"] for event in webhook["event_types"]] == list(EVENT_TYPES["paypal"])
    assert stored(secretsmanager, arn)["paypal_webhook_id"] == webhook["id"]

    assert register(registration, secretsmanager, base, apply=True, rotate=False).action is Action.UNCHANGED

    webhook["event_types"] = webhook["event_types"][:2]
    assert register(registration, secretsmanager, base, apply=True, rotate=False).action is Action.UPDATE
    assert len(webhook["event_types"]) == len(EVENT_TYPES["paypal"])

    with pytest.raises(RegistrationRefusedError, match="one webhook per URL"):
        register(registration, secretsmanager, base, apply=True, rotate=True)

    # A rotation: another app's credentials first; its webhook becomes current, the old id stays accepted.
    document = stored(secretsmanager, arn)
    document["paypal_api_credentials"] = [ROTATED_APP, PAYPAL_APP]
    secretsmanager.put_secret_value(SecretId=arn, SecretString=json.dumps(document))
    with pytest.raises(RegistrationRefusedError, match="--rotate"):
        register(registration, secretsmanager, base, apply=True, rotate=False)
    register(registration, secretsmanager, base, apply=True, rotate=True)
    (new_webhook,) = registrations.webhooks["AppRotated"]
    document = stored(secretsmanager, arn)
    assert (document["paypal_webhook_id"], document[PREVIOUS_PAYPAL_IDS]) == (
        new_webhook["id"],
        [webhook["id"]],
    )
    material = VerificationMaterial.from_secret_string(json.dumps(document))
    assert material.paypal_webhook_ids == (new_webhook["id"], webhook["id"])


def test_missing_credentials_are_refused_before_any_call(
    moto_endpoint: str, stand_in: tuple[LocalProviders, str]
) -> None:
    _, base = stand_in
    secretsmanager, arn = make_secret(moto_endpoint, stripe_api_keys=[], paypal_api_credentials=[])
    for provider, key in (("stripe", "stripe_api_keys"), ("paypal", "paypal_api_credentials")):
        registration = Registration(provider, STACK, URL.format(provider=provider), arn)
        with pytest.raises(RegistrationRefusedError, match=f"{key} in .* is empty"):
            register(registration, secretsmanager, base, apply=False, rotate=False)


# -- the command ------------------------------------------------------------------------------------


def deployed_outputs(moto_endpoint: str, environment: str, arn: str) -> None:
    """A stack of the committed template's name holding the outputs registration reads (the rest of the
    stack is not needed: registration reads only its outputs)."""
    stack = names_of(read_template(TEMPLATE_PATH)).stack.for_suffix(environment)
    outputs = {
        webhook_url_output("stripe"): {"Value": URL.format(provider="stripe")},
        WEBHOOK_SECRET_ARN: {"Value": arn},
    }
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
    emulator_clients(moto_endpoint)("cloudformation").create_stack(
        StackName=stack, TemplateBody=json.dumps(template)
    )


def test_the_command_prints_one_document_without_the_secret_and_refuses_in_one_line(
    moto_endpoint: str,
    stand_in: tuple[LocalProviders, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    providers, base = stand_in
    registrations = providers.stripe
    _, arn = make_secret(moto_endpoint)
    environment = f"rg{uuid.uuid4().hex[:6]}"
    deployed_outputs(moto_endpoint, environment, arn)
    arguments = ["register", "--region", "us-east-1", "--env", environment, "--provider", "stripe"]

    assert main([*arguments, "--api-base", base, "--apply"]) == ExitCode.OK
    printed = capsys.readouterr().out
    document = json.loads(printed)
    assert (document["action"], document["applied"], document["api_version"]) == (
        "create", True, stripe.API_VERSION,
    )  # fmt: skip
    assert registrations.endpoints[0]["secret"] not in printed
    assert STRIPE_KEY not in printed

    assert main([*arguments, "--api-base", base, "--apply"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["summary"].startswith("nothing to change")

    registrations.endpoints.clear()  # the endpoint was deleted at Stripe; the secret is in use
    assert main([*arguments, "--api-base", base, "--apply"]) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("error: Stripe has no endpoint")
    assert "--rotate" in captured.err


def test_the_command_refuses_a_stack_without_the_outputs_in_one_line(
    moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["register", "--region", "us-east-1", "--env", "rgnone", "--provider", "paypal"]
    assert main(arguments) == ExitCode.USAGE
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    stack = names_of(read_template(TEMPLATE_PATH)).stack.for_suffix("rgnone")
    assert f"{stack} has no PaypalWebhookUrl or WebhookSecretArn output: deploy it" in error


def test_an_unknown_provider_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["register", "--env", "dev", "--provider", "adyen"]) == ExitCode.USAGE
    assert "'adyen' is not one of 'stripe', 'paypal'" in capsys.readouterr().err
