"""The sample events in events/ are distinct deliveries: a shared id would be deduplicated away."""

from __future__ import annotations

import collections
import json

from tapstack import paths

EVENTS = paths.EVENTS


def test_every_provider_has_success_refund_non_payment_and_zero_decimal_samples() -> None:
    for provider in ("stripe", "paypal", "generic"):
        documents = [json.loads(path.read_text()) for path in (EVENTS / provider).glob("*.json")]
        text = json.dumps(documents).upper()
        assert "REFUND" in text, provider
        assert any(currency in text for currency in ('"JPY"', '"KRW"')), provider
        assert len(documents) >= 4, provider


def test_sample_event_ids_are_unique_per_provider() -> None:
    ids = collections.Counter(
        (path.parent.name, json.loads(path.read_text())["id"]) for path in EVENTS.glob("*/*.json")
    )
    assert [key for key, count in ids.items() if count > 1] == []
