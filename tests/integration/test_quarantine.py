"""`tapstack local quarantine list|show|reprocess` on the stack deployed in the emulator.

A delivery is quarantined the way it happens in production (signed, through the receiver, processor and
notifier), a fix to the code is simulated by monkeypatching (a currency added to the table, a normaliser
that reads the event id differently), and reprocessing must store it once and publish it once.
"""

import json
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from handlers.aws import DynamoTransactions
from handlers.core import money, receiving
from handlers.core.model import Transaction
from handlers.providers import adyen, hmac_signed
from tapstack import paths
from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.local.send import LocalRuntime, stored_item
from tapstack.operate.quarantine import ReplacingStore, StackQuarantine
from templates.contract import TRANSACTIONS_TABLE_NAME
from tests.integration.conftest import on_emulator
from tests.support.lifecycles import stripe_payment
from tests.support.settings import PREFIX

UNKNOWN_CURRENCY = "XTS"  # ISO 4217's code for testing: no exponent, so not in the table


def _cli(stack: LocalRuntime, capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str]:
    """Run `tapstack local quarantine …` against this stack; the exit status and stdout."""
    port = str(stack.clients.endpoint_url).rsplit(":", 1)[1]
    capsys.readouterr()
    status = main(["local", "quarantine", *arguments, "--port", port, "--env", stack.environment])
    return status, capsys.readouterr().out


def _item(stack: LocalRuntime, transaction_id: str) -> dict[str, str] | None:
    return stored_item(stack.clients("dynamodb"), stack.outputs[TRANSACTIONS_TABLE_NAME], transaction_id)


def _store(stack: LocalRuntime) -> DynamoTransactions:
    return DynamoTransactions(stack.clients("dynamodb"), stack.outputs[TRANSACTIONS_TABLE_NAME])


def _stale_replacement(stack: LocalRuntime, quarantined: dict[str, Any], transaction_id: str) -> bool:
    """What a reprocess that read `quarantined` before another one replaced it would write."""
    store = ReplacingStore(
        stack.clients("dynamodb"),
        stack.outputs[TRANSACTIONS_TABLE_NAME],
        quarantined,
        "2026-12-01T00:00:00.000Z",
    )
    return store.put_if_absent({"transaction_id": transaction_id, "provider": "stale"})


def _published(stack: LocalRuntime, transaction_id: str) -> list[dict[str, Any]]:
    return [m for m in stack.drain_published() if m["message"]["transaction_id"] == transaction_id]


def _deliver(stack: LocalRuntime, provider: str, body: bytes) -> str:
    """Deliver signed; assert it was quarantined and not published; its transaction id."""
    delivery = stack.deliver(stack.sender().event(provider, body))
    assert (delivery.status, delivery.body["status"]) == (202, "quarantined"), delivery.body
    transaction_id = str(delivery.body["transaction_id"])
    assert _published(stack, transaction_id) == []
    return transaction_id


def _stripe_body(currency: str) -> tuple[str, bytes]:
    event_id = f"evt_quarantine{uuid.uuid4().hex}"
    sample = (paths.EVENTS / "stripe" / "payment_intent.succeeded.json").read_bytes()
    return event_id, sample.replace(b"evt_3QxSample0001PaymentOk", event_id.encode()).replace(
        b'"currency":"usd"', f'"currency":"{currency.lower()}"'.encode()
    )


def test_a_quarantined_delivery_is_listed_shown_and_after_a_fix_stored_and_published_once(
    stack: LocalRuntime, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id, body = _stripe_body(UNKNOWN_CURRENCY)
    transaction_id = _deliver(stack, "stripe", body)
    assert transaction_id == f"stripe#{event_id}"

    status, listed = _cli(stack, capsys, "list")
    assert status == ExitCode.OK
    (line,) = [line for line in listed.splitlines() if transaction_id in line]
    quarantined = _item(stack, transaction_id)
    as_read = _store(stack).get(transaction_id)
    assert quarantined is not None
    assert as_read is not None
    assert line.split()[:4] == [quarantined["received_at"], transaction_id, "stripe", "invalid_event:"]

    status, shown = _cli(stack, capsys, "show", transaction_id)
    assert status == ExitCode.OK
    document = json.loads(shown)
    assert document["item"] == quarantined
    assert document["audit_object_key"] == quarantined["audit_object_key"]
    assert document["body"] == body.decode()

    status, output = _cli(stack, capsys, "reprocess", transaction_id)  # no fix yet
    assert status == ExitCode.FAILED
    assert f"{transaction_id}: still quarantined: invalid_event" in output
    assert _item(stack, transaction_id) == quarantined

    monkeypatch.setitem(money.ISO_4217_EXPONENTS, UNKNOWN_CURRENCY, 2)  # the fix
    status, output = _cli(stack, capsys, "reprocess", transaction_id)

    assert status == ExitCode.OK, output
    assert f"{transaction_id}: stored and published" in output
    item = _item(stack, transaction_id)
    assert item is not None
    assert "quarantine_reason" not in item
    assert (item["amount"], item["currency"], item["kind"]) == ("20.00", UNKNOWN_CURRENCY, "payment")
    assert item["former_quarantine_reason"] == "invalid_event"
    assert item["former_audit_object_key"] == quarantined["audit_object_key"]
    assert (item["received_at"], item["correlation_id"]) == (
        quarantined["received_at"],
        quarantined["correlation_id"],
    )
    (published,) = _published(stack, transaction_id)
    assert published["message"]["amount"] == "20.00"
    assert item["sns_message_id"] in output

    assert transaction_id not in _cli(stack, capsys, "list")[1]
    status, output = _cli(stack, capsys, "reprocess", transaction_id)  # again: nothing to do
    assert status == ExitCode.OK
    assert f"{transaction_id}: not quarantined (published at {item['published_at']})" in output
    assert _published(stack, transaction_id) == []
    assert _item(stack, transaction_id) == item
    assert not _stale_replacement(stack, as_read, transaction_id)  # the conditional write holds
    assert _item(stack, transaction_id) == item


def _adyen_batch(currency: str) -> tuple[bytes, list[str]]:
    """The sample authorisation and capture under fresh references, the capture in `currency`; their ids."""
    document = json.loads((paths.EVENTS / "adyen" / "AUTHORISATION+CAPTURE.json").read_bytes())
    authorisation, capture = (entry["NotificationRequestItem"] for entry in document["notificationItems"])
    authorisation["pspReference"] = capture["originalReference"] = f"AUTH{uuid.uuid4().hex[:12].upper()}"
    capture["pspReference"] = f"CAPT{uuid.uuid4().hex[:12].upper()}"
    capture["amount"]["currency"] = currency
    ids = [f"adyen#{adyen.event_id(item)}" for item in (authorisation, capture)]
    return json.dumps(document).encode(), ids


def test_a_quarantined_event_of_a_catalogue_batch_is_reprocessed_alone(
    stack: LocalRuntime, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each event of an Adyen batch is archived with the whole delivery: reprocessing picks its own."""
    body, (authorisation_id, capture_id) = _adyen_batch(UNKNOWN_CURRENCY)
    assert stack.deliver(stack.sender().event("adyen", body)).status == 200
    quarantined = _item(stack, capture_id)
    assert quarantined is not None
    assert quarantined["quarantine_reason"] == "invalid_event"
    authorisation = _item(stack, authorisation_id)
    assert authorisation is not None
    assert "quarantine_reason" not in authorisation
    assert len(_published(stack, authorisation_id)) == 1

    status, output = _cli(stack, capsys, "reprocess", capture_id)  # no fix yet
    assert status == ExitCode.FAILED
    assert f"{capture_id}: still quarantined: invalid_event" in output
    monkeypatch.setitem(money.ISO_4217_EXPONENTS, UNKNOWN_CURRENCY, 2)  # the fix
    status, output = _cli(stack, capsys, "reprocess", capture_id)

    assert status == ExitCode.OK, output
    assert f"{capture_id}: stored and published" in output
    item = _item(stack, capture_id)
    assert item is not None
    assert (item["kind"], item["amount"], item["currency"]) == ("capture", "10.00", UNKNOWN_CURRENCY)
    assert item["related_object_id"] == authorisation["object_id"]
    assert [message["message"]["amount"] for message in _published(stack, capture_id)] == ["10.00"]
    assert _item(stack, authorisation_id) == authorisation  # the batch's other event untouched


def test_a_catalogue_event_whose_type_is_a_header_is_refused_saying_why(
    stack: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": uuid.uuid4().int % 10**9}).encode()
    delivery = stack.deliver(stack.sender().event("github", body, event_type="not a token"))
    assert (delivery.status, delivery.body["status"]) == (202, "quarantined"), delivery.body
    transaction_id = str(delivery.body["transaction_id"])

    status, output = _cli(stack, capsys, "reprocess", transaction_id)

    assert status == ExitCode.FAILED
    assert f"{transaction_id}: failed: GitHub's event type is in the x-github-event header" in output
    assert _item(stack, transaction_id) is not None


def test_reprocess_all_stores_under_a_new_key_once_and_publishes_once(
    stack: LocalRuntime, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quarantined under `sha256:<body hash>` (its id is not a token); the fix reads another id."""
    fixed_id = f"gen-fixed-{uuid.uuid4().hex}"
    body = json.dumps(
        {
            "id": "not a token",
            "type": "payment.succeeded",
            "occurred_at": "2026-11-23T10:00:00Z",
            "amount": "12.34",
            "currency": "EUR",
            "nonce": fixed_id,
        }
    ).encode()
    quarantined_id = _deliver(stack, "generic", body)
    assert quarantined_id.startswith("generic#sha256:")
    as_read = _store(stack).get(quarantined_id)
    assert as_read is not None

    def reads_the_nonce(document: Mapping[str, object], provider: str, body_sha256: str) -> Transaction:
        return hmac_signed.normalise({**document, "id": document["nonce"]}, provider, body_sha256)

    monkeypatch.setitem(receiving.NORMALISERS, "generic", reads_the_nonce)
    _, output = _cli(stack, capsys, "reprocess", "--all")  # other tests may leave items it cannot fix

    assert f"{quarantined_id}: stored as generic#{fixed_id} and published" in output, output
    assert _item(stack, quarantined_id) is None
    item = _item(stack, f"generic#{fixed_id}")
    assert item is not None
    assert (item["amount"], item["former_quarantine_reason"]) == ("12.34", "invalid_event")
    assert len(_published(stack, f"generic#{fixed_id}")) == 1

    _cli(stack, capsys, "reprocess", "--all")
    assert _published(stack, f"generic#{fixed_id}") == []
    assert _item(stack, f"generic#{fixed_id}") == item
    # A stale reprocess writes neither the key taken nor a new one: its quarantined item is gone.
    assert not _stale_replacement(stack, as_read, f"generic#{fixed_id}")
    assert not _stale_replacement(stack, as_read, f"generic#other-{fixed_id}")
    assert _item(stack, f"generic#{fixed_id}") == item
    assert _item(stack, f"generic#other-{fixed_id}") is None


def test_a_reprocess_stopped_before_publishing_is_published_by_the_next_one(
    stack: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, body = _stripe_body(UNKNOWN_CURRENCY)
    transaction_id = _deliver(stack, "stripe", body)
    monkeypatch.setitem(money.ISO_4217_EXPONENTS, UNKNOWN_CURRENCY, 2)
    quarantine = StackQuarantine.of_deployment(on_emulator(stack.clients, stack.environment))

    def topic_down(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "Publish")

    events = stack.clients("sns").meta.events
    events.register("before-call.sns.Publish", topic_down, unique_id="test-topic-down")
    try:
        (stopped,) = quarantine.reprocess([transaction_id])
    finally:
        events.unregister("before-call.sns.Publish", unique_id="test-topic-down")

    assert not stopped.resolved
    assert "failed" in stopped.message
    stored = _item(stack, transaction_id)
    assert stored is not None
    assert "quarantine_reason" not in stored
    assert "published_at" not in stored
    assert _published(stack, transaction_id) == []

    # --all takes the interrupted one too (the shared stack may hold other tests' quarantined items)
    (finished,) = [o for o in quarantine.reprocess(None) if o.transaction_id == transaction_id]
    assert finished.resolved
    assert finished.message.startswith("stored and published")
    assert len(_published(stack, transaction_id)) == 1


def test_a_stack_that_is_not_deployed_says_to_deploy_it(
    moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    port = moto_endpoint.rsplit(":", 1)[1]  # the emulator alone: no stack of this suffix is deployed
    assert main(["local", "quarantine", "list", "--port", port, "--env", "nosuch"]) == ExitCode.USAGE
    # the emulator's request log shares stderr in this process; the command's own output is one line
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: stack {PREFIX}-nosuch does not exist: deploy it first (`make deploy-local`)"]


def test_reprocess_wants_ids_or_all(stack: LocalRuntime, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = _cli(stack, capsys, "reprocess")
    assert status == ExitCode.USAGE


def test_a_reprocessed_delivery_older_than_its_objects_state_is_stored_stale(
    stack: LocalRuntime, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reprocessing goes through the processor's ordering like any delivery (docs/webhooks.md, "Ordering")."""
    created, _, succeeded, *_ = stripe_payment(uuid.uuid4().hex[:12])
    unknown = f'"currency": "{UNKNOWN_CURRENCY.lower()}"'.encode()
    transaction_id = _deliver(stack, "stripe", created.body.replace(b'"currency": "usd"', unknown))
    assert stack.deliver(stack.sender().event("stripe", succeeded.body)).status == 202

    monkeypatch.setitem(money.ISO_4217_EXPONENTS, UNKNOWN_CURRENCY, 2)
    status, output = _cli(stack, capsys, "reprocess", transaction_id)

    assert status == ExitCode.OK, output
    item = _item(stack, transaction_id)
    assert item is not None
    assert (item["stale"], item["superseded_by"]) == ("true", succeeded.transaction.transaction_id)
