"""Property tests: no input makes the receiver fail with a 5xx, and numbers survive end to end exactly."""

import copy
import json
import uuid
from collections.abc import Callable
from decimal import Context, Decimal
from typing import Any, TypeVar

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers import receiver
from handlers.aws import AwsClients, DynamoObjectStates, DynamoTransactions, S3Archive
from handlers.core.errors import RejectionError
from handlers.core.model import SCHEMA_VERSION, HandOff
from handlers.core.money import storable
from handlers.core.processing import process
from handlers.providers import paypal, stripe
from handlers.providers.catalogue import CATALOGUE
from tapstack.local.delivery import Route, Signer, api_gateway_event
from tapstack.local.local_lambda import AsyncFunction, FakeContext, LocalLambda
from tests.support.pipeline import API, EVENTS, PROCESSOR, WEBHOOK_SECRET, Pipeline, sample
from tests.support.strategies import currency_texts, edge_number_texts, odd_envelopes, unterminated_strings

PROVIDERS = ["stripe", "paypal", "generic", "internal", *CATALOGUE]
SAMPLES = {
    "stripe": sample("stripe/payment_intent.succeeded.json"),
    "paypal": sample("paypal/PAYMENT.CAPTURE.COMPLETED.json"),
    "generic": sample("generic/payment.succeeded.json"),
    "internal": sample("internal/transaction.created.json"),
    # The catalogue's: each provider's first sample (GoCardless's is a batch, Braintree's XML).
    **{name: sorted((EVENTS / name).glob("*"))[0].read_bytes() for name in CATALOGUE},
}
EVERY_SAMPLE = {
    provider: [path.read_bytes() for path in sorted((EVENTS / provider).glob("*.json"))]
    for provider in SAMPLES
}
"""Every sample event: one shape per mapped kind, each a base for mutations."""

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.decimals(allow_nan=False, places=3),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


# The fields the money model reads, at the top level and inside the event's object.
MONEY_FIELDS = [
    # The catalogue's: Shopify, Checkout.com, Square, GoCardless, Standard Webhooks.
    "total_price",
    "transactions",
    "order_id",
    "action_id",
    "payment_id",
    "amount_money",
    "event_id",
    "events",
    "resource_type",
    "action",
    "created_on",
    "timestamp",
    "type",
    "event_type",
    "amount",
    "amount_received",
    "amount_captured",
    "amount_refunded",
    "amount_total",
    "amount_paid",
    "amount_due",
    "currency",
    "payment_status",
    "payment_intent",
    "charge",
    "parent",
    "purchase_units",
    "dispute_amount",
    "dispute_id",
    "disputed_transactions",
    "billing_info",
    "billing_agreement_id",
    "supplementary_data",
    "links",
    "sale_id",
    "plan_id",
    "kind",
    "direction",
    "object_id",
    "related_object_id",
]
EVENT_TYPES = [*stripe.MEANINGS, *paypal.MEANINGS, "customer.updated", "PAYMENTS.PAYMENT.CREATED"]


def mutated_document(base: bytes) -> st.SearchStrategy[bytes]:
    """The sample with some top-level fields or fields of its object replaced by arbitrary JSON values
    or by another mapped event type, so that each type meets the shapes of the others."""
    document = json.loads(base)

    def mutate(changes: dict[str, Any], inner: dict[str, Any], retyped: str | None) -> bytes:
        mutated = copy.deepcopy(document) | changes  # deep: each example starts from the sample
        target = mutated.get("data", {}).get("object") if isinstance(mutated.get("data"), dict) else None
        target = target if isinstance(target, dict) else mutated.get("resource")
        if isinstance(target, dict):
            target.update(inner)
        if retyped is not None:
            mutated["type" if "type" in mutated else "event_type"] = retyped
        return json.dumps(mutated, default=str).encode()

    keys = st.sampled_from([*document.keys(), "data", "resource", "amount", "currency", "id"])
    return st.builds(
        mutate,
        st.dictionaries(keys, json_values, max_size=2),
        st.dictionaries(st.sampled_from(MONEY_FIELDS), json_values, max_size=3),
        st.none() | st.sampled_from(EVENT_TYPES),
    )


every_sample = st.sampled_from([body for bodies in EVERY_SAMPLE.values() for body in bodies])
bodies = st.one_of(
    every_sample,
    every_sample,  # twice: unmutated samples of every kind are the deliveries that must be stored as such
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    json_values.map(lambda value: json.dumps(value, default=str).encode()),
    every_sample.flatmap(mutated_document),
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


def _with_raw_field(base: bytes, path: str, raw_json: bytes) -> bytes:
    """`base` with the field at `path` (inside the event's object) set to `raw_json`, written as text:
    number literals reach the parser as sent."""
    document = json.loads(base)
    data = document.get("data")
    target = data.get("object", data) if isinstance(data, dict) else document.get("resource", document)
    *parents, key = path.split(".")
    for parent in parents:
        if not isinstance(target.get(parent), dict):
            target[parent] = {}
        target = target[parent]
    target[key] = "\u0000PLACEHOLDER"
    return json.dumps(document).encode().replace(b'"\\u0000PLACEHOLDER"', raw_json)


# Where each sample's amount is: Stripe's integers, PayPal's decimal strings (v2 and v1), generic's.
# Then the catalogue's: Shopify's decimal strings, Square's minor units (Checkout.com's is `amount`).
AMOUNT_PATHS = [
    "amount",
    "amount_received",
    "amount_refunded",
    "amount.value",
    "amount.total",
    "total_price",
    "payment.amount_money.amount",
    "refund.amount_money.amount",
]


def _edge_bodies(base: bytes) -> st.SearchStrategy[bytes]:
    number_at = st.sampled_from(AMOUNT_PATHS)
    return st.one_of(
        st.builds(
            lambda path, text: _with_raw_field(base, path, text.encode()), number_at, edge_number_texts
        ),
        st.builds(
            lambda path, text: _with_raw_field(base, path, json.dumps(text).encode()),
            number_at,
            edge_number_texts,
        ),
        currency_texts.map(lambda code: _with_raw_field(base, "currency", json.dumps(code).encode())),
        currency_texts.map(
            lambda code: _with_raw_field(base, "amount.currency_code", json.dumps(code).encode())
        ),
        edge_number_texts.map(lambda text: base[:-1] + b',"n":' + text.encode() + b"}"),
        unterminated_strings.map(lambda tail: base[:-1] + b',"s":' + tail),
        unterminated_strings,
    )


signed_bodies = st.one_of(
    bodies,
    st.sampled_from(
        [body for provider in PROVIDERS if provider != "internal" for body in EVERY_SAMPLE[provider]]
    ).flatmap(_edge_bodies),
)


Signed = TypeVar("Signed")


def signing(sign: Callable[[], Signed], provider: str) -> Signed:
    """`sign()`; an example Adyen cannot sign is rejected: Adyen signs each item inside its JSON, so a
    body that is no notification has no Adyen signature at all (the unsigned case covers it)."""
    try:
        return sign()
    except (RejectionError, ValueError, TypeError, AttributeError, KeyError):
        if provider != "adyen":
            raise
        hypothesis.reject()


def answer_of(provider: str, response: Any) -> dict[str, Any]:
    """The receiver's JSON answer; a provider that expects its own acknowledgement (Adyen's
    `[accepted]`) gets it instead, read here as "accepted" with no per-event detail."""
    reply = CATALOGUE[provider].reply if provider in CATALOGUE else None
    if reply is not None and response["statusCode"] == reply.status:
        assert response["body"] == reply.body
        return {"status": "accepted", "acknowledged": True}
    answer: dict[str, Any] = json.loads(response["body"])
    return answer


class Recorder:
    """The processor stand-in for fuzzing: records payloads and checks they are plain JSON."""

    def __init__(self) -> None:
        self.payloads: list[Any] = []

    def __call__(self, event: Any, _context: Any) -> None:
        self.payloads.append(event)


def record_hand_offs(pipeline: Pipeline) -> Recorder:
    """Wire the receiver to a processor stand-in that records each hand-off instead of processing it."""
    recorder = Recorder()
    recording = LocalLambda([AsyncFunction(PROCESSOR, recorder)], pipeline.stack.clients["sqs"])
    clients = AwsClients(pipeline.stack.endpoint, given={"lambda": recording})
    receiver.DEPENDENCIES.set(
        receiver.Dependencies(
            clients,
            PROCESSOR,
            pipeline.stack.secret_arn,
            fetch_certificate=pipeline.sender.signer.paypal.fetch,
            paypal_trust=pipeline.sender.signer.paypal.trust,
        )
    )
    return recorder


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
    recorder = record_hand_offs(pipeline)
    if not base64_body:
        body = body.decode("utf-8", "replace").encode()  # API Gateway passes text bodies as str
    signed = signing(lambda: pipeline.sender.signer.headers(provider, body), provider) if sign else {}
    event = api_gateway_event(
        Route.of(provider),
        body,
        signed | extra_headers | {"Content-Type": content_type},
        API,
        method=method,
        base64_body=base64_body,
    )
    response = receiver.handler(event, FakeContext("receiver"))
    answer = answer_of(provider, response)
    event_label = str(response["statusCode"]) + " " + str(answer.get("error", {}).get("code", "accepted"))
    hypothesis.event(event_label)  # shown by --hypothesis-show-statistics: which paths were reached
    assert response["statusCode"] < 500, answer
    accepted = response["statusCode"] == 202 or "acknowledged" in answer
    assert accepted == (len(recorder.payloads) >= 1)
    if not accepted:
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


PLACES = {"JPY": 0, "USD": 2, "KWD": 3, "CLF": 4}


def within_places(value: Decimal, places: int) -> bool:
    """An independent reading of the precision rule: quantizing to `places` keeps the value."""
    return value.quantize(Decimal(1).scaleb(-places), context=Context(prec=400)) == value


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=numbers, currency=st.sampled_from(["JPY", "USD", "KWD", "CLF"]), as_text=st.booleans())
def test_any_json_number_round_trips_exactly_or_is_quarantined_by_the_precision_rule(
    pipeline: Pipeline, number: Decimal, currency: str, as_text: bool
) -> None:
    """A JSON number or decimal string on the generic route: stored and published with its exact value
    when it is within the currency's places, quarantined (never rounded) when it is not."""
    text = str(number)  # a valid JSON number for every finite Decimal ("1E+5", "-0.000")
    literal = json.dumps(text) if as_text else text
    event_id = f"prop-{uuid.uuid4().hex}"
    body = (
        f'{{"id":"{event_id}","type":"payment.succeeded","occurred_at":"2026-11-23T10:00:00Z",'
        f'"currency":"{currency}","amount":{literal}}}'
    ).encode()
    status, answer = pipeline.send(pipeline.sender.event("generic", body))
    assert status == 202, answer
    item = pipeline.stack.item(f"generic#{event_id}")
    assert item is not None
    decimal_text = not as_text or "E" not in text.upper()  # strings are plain decimals only
    stored = decimal_text and within_places(number, PLACES[currency])
    hypothesis.event("stored" if stored else "quarantined")
    if not stored:
        assert item["quarantine_reason"] == "invalid_event"
        assert "amount" not in item
        assert pipeline.stack.published() == []
        return
    assert item["amount"] == Decimal(text)
    (message,) = pipeline.stack.published()
    assert isinstance(message["body"]["amount"], str)
    assert Decimal(message["body"]["amount"]) == Decimal(text)
    assert message["body"]["version"] == SCHEMA_VERSION


def test_signer_secret_shape_matches_the_contract(signer: Signer) -> None:
    assert set(WEBHOOK_SECRET) == {
        "stripe_signing_secrets",
        "paypal_webhook_id",
        "internal_hmac_key",
        "internal_hmac_previous_keys",
        *CATALOGUE,
    }
    assert len(signer.material.internal_hmac_keys[0]) == 64


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(provider=st.sampled_from(PROVIDERS), body=signed_bodies, base64_body=st.booleans())
def test_a_verified_delivery_on_a_provider_route_is_always_accepted_and_stored(
    pipeline: Pipeline, provider: str, body: bytes, base64_body: bool
) -> None:
    """Verified means stored: 202 and a stored item (quarantined if odd) on /webhooks/*; internal
    clients get 202 or a specific 400. The real processor stores every hand-off without raising."""
    recorder = record_hand_offs(pipeline)
    if not base64_body:
        body = body.decode("utf-8", "replace").encode()  # API Gateway passes text bodies as str
    hypothesis.assume(provider != "braintree" or body)  # Braintree never posts an empty notification
    response = receiver.handler(
        signing(lambda: pipeline.sender.event(provider, body, base64_body=base64_body), provider),
        FakeContext("receiver"),
    )
    answer = answer_of(provider, response)
    hypothesis.event(f"{response['statusCode']} {answer.get('status') or answer['error']['code']}")
    if provider == "internal":
        assert response["statusCode"] in (202, 400), answer
    elif "acknowledged" not in answer:
        assert response["statusCode"] == 202, answer
    if "acknowledged" in answer:  # Adyen's `[accepted]` names no event: each hand-off is stored
        store = DynamoTransactions(pipeline.stack.clients["dynamodb"], pipeline.stack.table)
        archive = S3Archive(pipeline.stack.clients["s3"], pipeline.stack.bucket)
        states = DynamoObjectStates(pipeline.stack.clients["dynamodb"], pipeline.stack.objects_table)
        assert recorder.payloads
        for payload in recorder.payloads:
            process(HandOff.from_json(payload), store, archive, states, "2026-12-01T00:00:00.000Z")
    elif response["statusCode"] == 202:
        events = answer.get("events", [answer])  # a batch answers for each of its events
        assert len(recorder.payloads) == len(events)
        store = DynamoTransactions(pipeline.stack.clients["dynamodb"], pipeline.stack.table)
        archive = S3Archive(pipeline.stack.clients["s3"], pipeline.stack.bucket)
        states = DynamoObjectStates(pipeline.stack.clients["dynamodb"], pipeline.stack.objects_table)
        for payload, event in zip(recorder.payloads, events, strict=True):
            stored = process(HandOff.from_json(payload), store, archive, states, "2026-12-01T00:00:00.000Z")
            assert stored.transaction_id == event["transaction_id"]
            if not stored.duplicate:  # examples share a table, and sample ids repeat across them
                assert stored.quarantined == (event["status"] == "quarantined")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), provider=st.sampled_from(PROVIDERS))
def test_an_envelope_api_gateway_would_never_send_is_a_4xx_not_a_5xx(
    pipeline: Pipeline, data: st.DataObject, provider: str
) -> None:
    event = data.draw(odd_envelopes(pipeline.sender.event(provider, SAMPLES[provider])))
    response = receiver.handler(event, FakeContext("receiver"))
    assert response["statusCode"] < 500, response


def _catalogue_body(provider: str, literal: str, currency: str, event_id: str) -> tuple[bytes, str, str]:
    """A body of `provider` carrying `literal` where its money is, its event type and its event id."""
    if provider == "checkout-com":
        document = {"id": event_id, "type": "payment_captured", "data": {"id": "pay_p", "currency": currency}}
        return json.dumps(document).replace("}}", ',"amount":' + literal + "}}").encode(), "", event_id
    if provider == "square":
        payment = {"id": "PAY-P", "amount_money": {"currency": currency}}
        square = {"type": "payment.updated", "event_id": event_id, "data": {"object": {"payment": payment}}}
        text = json.dumps(square).replace(
            f'"currency": "{currency}"', f'"currency": "{currency}", "amount": {literal}'
        )
        return text.encode(), "", event_id
    # Shopify names the delivery in a header: a body of its own makes each example a new delivery.
    order = {"id": 450789469, "name": event_id, "currency": currency}
    return (json.dumps(order)[:-1] + ', "total_price": ' + literal + "}").encode(), "orders.paid", ""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    provider=st.sampled_from(["checkout-com", "square", "shopify"]),
    number=numbers,
    currency=st.sampled_from(["JPY", "USD", "KWD", "CLF"]),
)
def test_any_catalogue_amount_round_trips_exactly_or_is_quarantined(
    pipeline: Pipeline, provider: str, number: Decimal, currency: str
) -> None:
    """Minor units (Checkout.com, Square: JSON numbers) and decimal strings (Shopify): stored with
    their exact value, or quarantined, never rounded."""
    text = str(number)
    literal = json.dumps(text) if provider == "shopify" else text
    body, event_type, event_id = _catalogue_body(provider, literal, currency, f"prop-{uuid.uuid4().hex}")
    status, answer = pipeline.send(pipeline.sender.event(provider, body, event_type=event_type or None))
    assert status == 202, answer
    item = pipeline.stack.item(answer["transaction_id"])
    assert item is not None
    if event_id:
        assert item["provider_event_id"] == event_id
    places = PLACES[currency]
    if provider == "shopify":
        expected = Decimal(text) if "E" not in text.upper() and within_places(number, places) else None
    else:
        minor = number == number.to_integral_value()
        scaled = number.scaleb(-places, Context(prec=400)) if minor else None
        expected = scaled if scaled is not None and representable(scaled) else None
    if number < 0:
        expected = None  # a magnitude where no money goes out: the provider routes refuse a sign
    hypothesis.event("stored" if expected is not None else "quarantined")
    if expected is None:
        assert item["quarantine_reason"] in ("invalid_event", "amount_invalid")
        assert "amount" not in item
        return
    assert item["amount"] == expected
    (message,) = pipeline.stack.published()
    assert Decimal(message["body"]["amount"]) == expected
