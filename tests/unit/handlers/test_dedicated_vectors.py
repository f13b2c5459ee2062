"""Every Adyen and Braintree signature vector the vendors published, through TapStack's verifiers.

The vectors live beside the project, in `../shared/vendor-vectors/providers/{adyen,braintree}/`
(their README explains the fields), as CI has them; they are not copied into the repository. Where
the folder is absent the tests skip, saying so.
"""

import ast
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from handlers.core.errors import RejectionError
from handlers.core.http import Headers
from handlers.core.jsonbody import parse_object
from handlers.core.secrets import ProviderMaterial
from handlers.providers import adyen, braintree
from tapstack import paths

VECTORS = paths.REPOSITORY.parent / "shared" / "vendor-vectors" / "providers"


def manifest(provider: str) -> list[dict[str, Any]]:
    path = VECTORS / provider / "manifest.json"
    if not path.is_file():
        return []
    vectors: list[dict[str, Any]] = json.loads(path.read_text())["vectors"]
    return vectors


def vectors(provider: str, where: Callable[[dict[str, Any]], bool] = bool) -> list[Any]:
    """The provider's vectors that `where` selects, or one skipped case saying why there are none."""
    found = [pytest.param(vector, id=vector["id"]) for vector in manifest(provider) if where(vector)]
    reason = f"the vendor vectors are absent: {VECTORS / provider} (a sibling of the project, as CI has it)"
    return found or [pytest.param(None, marks=pytest.mark.skip(reason=reason))]


def body_of(provider: str, vector: dict[str, Any]) -> bytes:
    return (VECTORS / provider / str(vector["body_file"])).read_bytes()


def headers_of(vector: dict[str, Any]) -> Headers:
    return Headers({name.lower(): (value,) for name, value in vector["headers"].items()})


# --- Adyen ----------------------------------------------------------------------------------------


def adyen_delivery(vector: dict[str, Any]) -> bytes:
    """What Adyen posts for the vector: a bare item (as the SDK tests hold it) inside its envelope,
    byte for byte, so that nothing the vendor wrote is re-serialised."""
    body = body_of("adyen", vector)
    if vector["body_shape"] == "item":
        return b'{"live": "false", "notificationItems": [{"NotificationRequestItem": ' + body + b"}]}"
    return body


def adyen_material(vector: dict[str, Any]) -> ProviderMaterial:
    return ProviderMaterial((vector["secret"],), {})


@pytest.mark.parametrize("vector", vectors("adyen"))
def test_every_adyen_vector_gets_the_vendors_verdict(vector: dict[str, Any]) -> None:
    expect = vector["expect"]
    delivery = adyen_delivery(vector)
    if expect.get("requires"):
        # Json.NET's single-quoted JSON, which no Adyen delivery is: refused as carrying no signature
        # TapStack can read (401); its signed values verify item-wise (below).
        with pytest.raises(RejectionError, match="signature_missing"):
            adyen.verify(headers_of(vector), delivery, adyen_material(vector), 0.0)
        return
    if expect["verdict"] == "valid":
        events = adyen.verify(headers_of(vector), delivery, adyen_material(vector), 0.0)
        assert len(events) == 1
    else:
        with pytest.raises(RejectionError) as refused:
            adyen.verify(headers_of(vector), delivery, adyen_material(vector), 0.0)
        assert refused.value.reason.status == 401


@pytest.mark.parametrize("vector", vectors("adyen", lambda vector: vector["body_shape"] == "item"))
def test_adyen_item_vectors_verify_item_wise_with_their_signing_string(vector: dict[str, Any]) -> None:
    """The signing string the vendor asserts, and the item's own check (the lenient-JSON vector too:
    parsed as Json.NET reads it, a refusal of the delivery is right, but its signed values verify)."""
    text = body_of("adyen", vector)
    if vector["expect"].get("requires"):
        item = ast.literal_eval(text.decode())
        item["amount"]["value"] = Decimal(item["amount"]["value"])
        with pytest.raises(RejectionError, match="signature_missing"):
            adyen.verify(Headers({}), adyen_delivery(vector), adyen_material(vector), 0.0)
    else:
        item = parse_object(text)
    assert adyen.signing_string(item).decode() == vector["signing_string"]
    keys = adyen.keys(adyen_material(vector))
    if vector["expect"]["verdict"] == "valid":
        adyen.verify_item(item, keys)
    else:
        with pytest.raises(RejectionError):
            adyen.verify_item(item, keys)


def valid_with_money(vector: dict[str, Any]) -> bool:
    return (
        vector["expect"].get("verdict") == "valid"
        and "money" in vector
        and not vector["expect"].get("requires")
    )


@pytest.mark.parametrize("vector", vectors("adyen", valid_with_money))
def test_adyen_vectors_carry_the_money_the_vendor_shows(vector: dict[str, Any]) -> None:
    money = vector["money"]
    (event,) = adyen.verify(headers_of(vector), adyen_delivery(vector), adyen_material(vector), 0.0)
    assert event.event_id.startswith(
        f"{event.document['pspReference']}:{money['event_type']}:{money['success']}"
    )
    if "eventDate" not in event.document:
        # The Node/Java/.NET item has no eventDate, which Adyen always sends: stored in quarantine.
        with pytest.raises(RejectionError, match="eventDate"):
            adyen.normalise(event.document, "adyen", "0" * 64)
        return
    transaction = adyen.normalise(event.document, "adyen", "0" * 64)
    assert transaction.event_type == money["event_type"]
    assert transaction.status == ("succeeded" if money["success"] == "true" else "failed")
    if money["event_type"] in adyen.MEANINGS:
        assert transaction.amount == Decimal(money["amount_minor_units"]) / 100
        assert transaction.currency == money["currency"]
        assert transaction.object_id == event.document["pspReference"]
    else:
        assert (transaction.kind, transaction.amount) == ("other", None)


# --- Braintree ------------------------------------------------------------------------------------


def braintree_material(vector: dict[str, Any]) -> ProviderMaterial:
    secret = vector["secret"]
    return ProviderMaterial(({"public_key": secret["public_key"], "private_key": secret["private_key"]},), {})


def braintree_delivery(vector: dict[str, Any]) -> bytes:
    """The form Braintree posts: the vector's `bt_signature` and its `bt_payload` file, form-encoded."""
    payload = body_of("braintree", vector).decode("ascii")
    return urlencode({"bt_signature": vector["form_fields"]["bt_signature"], "bt_payload": payload}).encode()


@pytest.mark.parametrize("vector", vectors("braintree", lambda vector: vector.get("kind") != "challenge"))
def test_every_braintree_notification_vector_gets_the_vendors_verdict(vector: dict[str, Any]) -> None:
    headers = headers_of(vector)
    if vector["expect"]["verdict"] == "valid":
        (event,) = braintree.verify(headers, braintree_delivery(vector), braintree_material(vector), 0.0)
        assert event.event_id == event.document["id"]
        assert event.event_id.startswith("sha256:")
    else:
        with pytest.raises(RejectionError) as refused:
            braintree.verify(headers, braintree_delivery(vector), braintree_material(vector), 0.0)
        assert refused.value.reason.status == 401


@pytest.mark.parametrize("vector", vectors("braintree", lambda vector: vector.get("kind") == "challenge"))
def test_braintree_challenge_vectors(vector: dict[str, Any]) -> None:
    challenge = body_of("braintree", vector).decode()
    expect = vector["expect"]
    material = braintree_material(vector)
    if "current_sdks" in expect or expect["response"] is None:
        # Current SDKs answer hex challenges only; the legacy vector still pins the derived key.
        with pytest.raises(RejectionError, match="hex"):
            braintree.challenge_response(challenge, material)
        if expect["response"] is not None:
            (key,) = braintree.key_pairs(material)
            assert f"{key.public_key}|{key.digest(challenge)}" == expect["response"]
    else:
        assert braintree.challenge_response(challenge, material) == expect["response"]


# Braintree's SDK samples trim the transaction: no currency where a real one carries it. A mapped
# kind without its currency is stored in quarantine, never with a guessed one.
BRAINTREE_MONEY = {
    "transaction_settled": ("payment", Decimal("100.00"), "USD", "in", None),
    "dispute_opened": ("dispute", Decimal("100.00"), "USD", "out", "my_id"),
    "subscription_charged_successfully": None,
    "transaction_disbursed": ("other", None, None, None, None),
    "subscription_went_past_due": ("other", None, None, None, None),
}


@pytest.mark.parametrize("vector", vectors("braintree", valid_with_money))
def test_braintree_vectors_carry_the_money_the_vendor_shows(vector: dict[str, Any]) -> None:
    (event,) = braintree.verify(Headers({}), braintree_delivery(vector), braintree_material(vector), 0.0)
    event_type = vector["money"]["event_type"]
    expected = BRAINTREE_MONEY[event_type]
    if expected is None:
        with pytest.raises(RejectionError, match="currency"):
            braintree.normalise(event.document, "braintree", "0" * 64)
        return
    transaction = braintree.normalise(event.document, "braintree", "0" * 64)
    assert transaction.event_type == event_type
    assert transaction.provider_event_id == event.event_id
    assert transaction.occurred_at == "2024-01-01T00:00:00.000Z"
    assert (transaction.kind, transaction.amount, transaction.currency, transaction.direction) == expected[:4]
    assert (transaction.object_id, transaction.related_object_id) == ("my_id", expected[4])
