"""Property tests: no input makes the receiver fail with a 5xx, and numbers survive end to end exactly."""

import json
import uuid
from decimal import Decimal
from typing import Any

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers import receiver
from handlers.aws import AwsClients
from handlers.core.money import storable
from tests.handlers.support import PROCESSOR, Pipeline, Signer, api_gateway_event, sample
from tools.local_lambda import AsyncFunction, FakeContext, LocalLambda

PROVIDERS = ["stripe", "paypal", "generic", "internal"]
SAMPLES = {
    "stripe": sample("stripe/payment_intent.succeeded.json"),
    "paypal": sample("paypal/PAYMENT.CAPTURE.COMPLETED.json"),
    "generic": sample("generic/payment.succeeded.json"),
    "internal": sample("internal/transaction.created.json"),
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.decimals(allow_nan=False, places=3),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def mutated_document(base: bytes) -> st.SearchStrategy[bytes]:
    """The sample with some top-level or nested fields replaced by arbitrary JSON values."""
    document = json.loads(base)

    def mutate(changes: dict[str, Any]) -> bytes:
        mutated = dict(document)
        for key, value in changes.items():
            if key == "data" and isinstance(mutated.get("data"), dict):
                mutated["data"] = {"object": value}
            else:
                mutated[key] = value
        return json.dumps(mutated, default=str).encode()

    keys = st.sampled_from([*document.keys(), "data", "resource", "amount", "currency", "id"])
    return st.dictionaries(keys, json_values, max_size=3).map(mutate)


bodies = st.one_of(
    st.sampled_from(list(SAMPLES.values())),
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    json_values.map(lambda value: json.dumps(value, default=str).encode()),
    st.sampled_from(list(SAMPLES.values())).flatmap(mutated_document),
)
headers = st.dictionaries(
    st.sampled_from(
        [
            "Content-Type",
            "Stripe-Signature",
            "X-Tap-Timestamp",
            "X-Tap-Signature",
            "PAYPAL-CERT-URL",
            "PAYPAL-AUTH-ALGO",
        ]
    ),
    st.text(max_size=80),
    max_size=4,
)


class Recorder:
    """The processor stand-in for fuzzing: records payloads and checks they are plain JSON."""

    def __init__(self) -> None:
        self.payloads: list[Any] = []

    def __call__(self, event: Any, _context: Any) -> None:
        self.payloads.append(event)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    provider=st.sampled_from(PROVIDERS),
    body=bodies,
    extra_headers=st.one_of(st.just({}), st.just({}), st.just({}), headers),
    content_type=st.sampled_from(
        ["application/json"] * 3 + ["Application/JSON; charset=utf-8", "text/plain", ""]
    ),
    sign=st.sampled_from([True] * 4 + [False]),
    base64_body=st.booleans(),
    method=st.sampled_from(["POST"] * 5 + ["GET"]),
)
def test_no_request_makes_the_receiver_answer_5xx(
    pipeline: Pipeline,
    provider: str,
    body: bytes,
    extra_headers: dict[str, str],
    content_type: str,
    sign: bool,
    base64_body: bool,
    method: str,
) -> None:
    recorder = Recorder()
    recording = LocalLambda([AsyncFunction(PROCESSOR, recorder)], pipeline.stack.clients["sqs"])
    clients = AwsClients(pipeline.stack.endpoint, given={"lambda": recording})
    receiver.DEPENDENCIES.set(
        receiver.Dependencies(
            clients, PROCESSOR, pipeline.stack.secret_arn, fetch_certificate=pipeline.certificates
        )
    )
    if not base64_body:
        body = body.decode("utf-8", "replace").encode()  # API Gateway passes text bodies as str
    signed = pipeline.signer.headers(provider, body) if sign else {}
    resource = "/transactions" if provider == "internal" else "/webhooks/{provider}"
    event = api_gateway_event(
        body,
        signed | extra_headers | {"Content-Type": content_type},
        None if provider == "internal" else provider,
        resource=resource,
        method=method,
        base64_body=base64_body,
    )
    response = receiver.handler(event, FakeContext("receiver"))
    answer = json.loads(response["body"])
    event_label = str(response["statusCode"]) + " " + str(answer.get("error", {}).get("code", "accepted"))
    hypothesis.event(event_label)  # shown by --hypothesis-show-statistics: which paths were reached
    assert response["statusCode"] < 500, answer
    assert (response["statusCode"] == 202) == (len(recorder.payloads) == 1)
    if response["statusCode"] != 202:
        assert set(answer["error"]) == {"code", "message", "reference"}


def representable(value: Decimal) -> bool:
    try:
        storable(value)
    except Exception:
        return False
    return True


numbers = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.integers(-(10**37), 10**37).map(Decimal),
    st.builds(lambda d, e: Decimal(d).scaleb(e), st.integers(-(10**20), 10**20), st.integers(-120, 100)),
).filter(representable)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=numbers)
def test_any_json_number_round_trips_exactly_to_dynamodb_and_sns(pipeline: Pipeline, number: Decimal) -> None:
    text = str(number)  # a valid JSON number for every finite Decimal ("1E+5", "-0.000")
    event_id = f"prop-{uuid.uuid4().hex}"
    body = (
        f'{{"id":"{event_id}","type":"payment.succeeded","occurred_at":"2026-11-23T10:00:00Z",'
        f'"currency":"USD","amount":{text}}}'
    ).encode()
    status, answer = pipeline.send(pipeline.signer.event("generic", body))
    assert status == 202, answer
    item = pipeline.stack.item(f"generic#{event_id}")
    assert item is not None
    assert item["amount"] == Decimal(text)
    (message,) = pipeline.stack.published()
    assert isinstance(message["body"]["amount"], str)
    assert Decimal(message["body"]["amount"]) == Decimal(text)


def test_signer_secret_shape_matches_the_contract(signer: Signer) -> None:
    assert set(signer.secret()) == {
        "stripe_signing_secrets",
        "paypal_webhook_id",
        "internal_hmac_key",
        "internal_hmac_previous_keys",
    }
    assert len(signer.internal_key) == 64
