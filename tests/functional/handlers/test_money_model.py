"""The precision rule through the receiver's entry point: quarantined on a provider route, a 400 for an
internal client (docs/webhooks.md, "Money model"; the mapping and the rule itself are unit-tested in
tests/unit/handlers/test_money_model.py)."""

import json

import pytest

from tests.support.pipeline import Pipeline


@pytest.mark.parametrize("provider", ["stripe", "paypal", "generic"])
def test_a_precision_violation_on_a_provider_route_is_quarantined(pipeline: Pipeline, provider: str) -> None:
    documents = {
        # 123.45 ISK: Stripe's two-decimal ISK amount with cents, which ISO 4217 ISK does not have
        "stripe": {
            "id": "evt_p",
            "type": "payment_intent.succeeded",
            "created": 1763892000,
            "data": {"object": {"id": "pi_p", "amount_received": 12345, "currency": "isk"}},
        },
        "paypal": {
            "id": "WH-p",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "create_time": "2026-11-23T10:00:00Z",
            "resource": {"id": "C", "amount": {"currency_code": "JPY", "value": "1.5"}},
        },
        "generic": {
            "id": "gen-p",
            "type": "t",
            "occurred_at": "2026-11-23T10:00:00Z",
            "amount": "1.5",
            "currency": "JPY",
        },
    }
    bodies = {name: json.dumps(document).encode() for name, document in documents.items()}
    status, answer = pipeline.send(pipeline.sender.event(provider, bodies[provider]))
    assert (status, answer["status"], answer["reason"]) == (202, "quarantined", "invalid_event")
    item = pipeline.stack.item(answer["transaction_id"])
    assert item is not None
    assert item["quarantine_detail"] == "amount has more decimal places than the currency allows"
    assert "amount" not in item


def test_a_precision_violation_from_an_internal_client_is_a_400(pipeline: Pipeline) -> None:
    body = b'{"id":"int-p","type":"t","occurred_at":"2026-11-23T10:00:00Z","amount":1.5,"currency":"JPY"}'
    status, answer = pipeline.send(pipeline.sender.event("internal", body))
    assert (status, answer["error"]["code"]) == (400, "invalid_event")
    assert pipeline.stack.items() == []
