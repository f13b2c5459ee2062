"""The sample events in events/ are distinct deliveries: a shared id would be deduplicated away."""

from __future__ import annotations

import collections
import json

from handlers.core.http import Headers
from handlers.providers.catalogue import CATALOGUE
from tapstack import paths
from tapstack.local.paypal_pki import LocalPaypal
from tests.support.pipeline import signer_for

EVENTS = paths.EVENTS
SIGNED_AT = 1_763_892_000


def test_every_provider_has_success_refund_non_payment_and_zero_decimal_samples() -> None:
    for provider in ("stripe", "paypal", "generic"):
        documents = [json.loads(path.read_text()) for path in (EVENTS / provider).glob("*.json")]
        text = json.dumps(documents).upper()
        assert "REFUND" in text, provider
        assert any(currency in text for currency in ('"JPY"', '"KRW"')), provider
        assert len(documents) >= 4, provider


def test_sample_event_ids_are_unique_per_provider() -> None:
    ids = collections.Counter(
        (path.parent.name, json.loads(path.read_text())["id"])
        for path in EVENTS.glob("*/*.json")
        if path.parent.name not in CATALOGUE
    )
    assert [key for key, count in ids.items() if count > 1] == []


def test_catalogue_sample_event_ids_are_unique_per_provider() -> None:
    """Where a catalogue provider names its events (a header, the body, each item of a batch), as signed
    by `make send` and read by the provider's verifier."""
    signer = signer_for(LocalPaypal())
    ids: collections.Counter[tuple[str, str]] = collections.Counter()
    for name, entry in CATALOGUE.items():
        for path in sorted((EVENTS / name).glob("*")):  # Braintree's is XML
            body, headers = signer.signed(name, path.read_bytes(), SIGNED_AT, path.name.removesuffix(".json"))
            received = Headers({header.lower(): (value,) for header, value in headers.items()})
            events = entry.verify(received, body, signer.material.catalogue[name], SIGNED_AT)
            assert all(event.event_id for event in events), path
            ids.update((name, event.event_id) for event in events)
    assert {name for name, _ in ids} == set(CATALOGUE)
    assert [key for key, count in ids.items() if count > 1] == []
