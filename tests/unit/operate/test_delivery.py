"""The one API Gateway event builder and signer that `send`, `load` and the handler tests share."""

import base64
import json

from handlers.core.http import Headers, HttpRequest
from handlers.core.secrets import VerificationMaterial
from handlers.providers import hmac_signed, stripe
from tapstack.local.delivery import ApiIdentity, Route, Sender, Signer, api_gateway_event
from tapstack.local.paypal_pki import LocalPaypal

API = ApiIdentity(api_id="a1b2c3d4e5", stage="v1", api_key_id="key0000001")
MATERIAL = VerificationMaterial(("whsec_tools",), "WH-TOOLS", ("k" * 64,))
BODY = b'{"id":"evt_1","type":"payment_intent.succeeded"}'


def test_each_provider_posts_to_its_route() -> None:
    webhook, internal = Route.of("stripe"), Route.of("internal")

    assert (webhook.resource, webhook.path, webhook.path_parameters) == (
        "/webhooks/{provider}",
        "/webhooks/stripe",
        {"provider": "stripe"},
    )
    assert (internal.resource, internal.path, internal.path_parameters) == (
        "/transactions",
        "/transactions",
        None,
    )
    assert (webhook.requires_api_key, internal.requires_api_key) == (False, True)


def test_the_event_has_the_rest_proxy_shape_and_what_api_gateway_adds() -> None:
    event = api_gateway_event(Route.of("paypal"), BODY, {"User-Agent": "PayPal/AUHD-214.0"}, API)

    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/webhooks/{provider}",
        "/webhooks/paypal",
        "POST",
    )
    assert event["pathParameters"] == {"provider": "paypal"}
    assert event["multiValueHeaders"] == {name: [value] for name, value in event["headers"].items()}
    assert event["headers"]["Host"] == "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
    assert event["headers"]["X-Forwarded-Proto"] == "https"
    context = event["requestContext"]
    assert (context["path"], context["stage"], context["apiId"]) == ("/v1/webhooks/paypal", "v1", API.api_id)
    assert context["identity"]["userAgent"] == "PayPal/AUHD-214.0"
    assert context["identity"]["apiKeyId"] is None
    assert (event["body"], event["isBase64Encoded"]) == (BODY.decode(), False)
    json.dumps(event)  # Lambda delivers it as JSON


def test_internal_requests_carry_the_api_key_id_and_bodies_can_be_base64() -> None:
    event = api_gateway_event(Route.of("internal"), BODY, {}, API, method="PUT", base64_body=True)

    assert event["requestContext"]["identity"]["apiKeyId"] == API.api_key_id
    assert event["requestContext"]["httpMethod"] == "PUT"
    assert (base64.b64decode(event["body"]), event["isBase64Encoded"]) == (BODY, True)
    assert HttpRequest.from_api_gateway(event).body == BODY


def test_a_sent_request_is_signed_as_its_provider_signs() -> None:
    sender = Sender(Signer(MATERIAL, LocalPaypal()), API)

    stripe_event = sender.event("stripe", BODY)
    generic_event = sender.event("generic", BODY)

    now = float(int(stripe_event["requestContext"]["requestTimeEpoch"] / 1000))
    stripe.verify(Headers.from_event(stripe_event), BODY, MATERIAL, now)
    hmac_signed.verify(Headers.from_event(generic_event), BODY, MATERIAL, now)
    assert stripe_event["requestContext"]["identity"]["userAgent"] == "tapstack-send/stripe"
