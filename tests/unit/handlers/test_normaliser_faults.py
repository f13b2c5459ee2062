"""A verified delivery never ends in a 5xx: whatever a normaliser step raises, the delivery is quarantined
(provider routes) or refused with a 400 (internal clients, who can fix and resend)."""

import decimal
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import BuiltinFunctionType, FunctionType, ModuleType
from typing import Any

import pytest

from handlers.core import fields, jsonbody, money, receiving
from handlers.core.errors import Reason, RejectionError
from handlers.core.receiving import INTERNAL_PROVIDER, normalise_body
from handlers.providers import hmac_signed, paypal, stripe
from tests.support.pipeline import EVENTS

STEP_MODULES = (jsonbody, fields, money, stripe, paypal, hmac_signed, receiving)
"""Every module a normalisation runs through: their functions (and the library functions they imported)
are the steps an exception is injected into."""
INJECTED = (
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    decimal.InvalidOperation,
    RecursionError,
)
SAMPLES = sorted(path for provider in receiving.NORMALISERS for path in (EVENTS / provider).glob("*.json"))


def steps() -> list[tuple[ModuleType, str]]:
    return [
        (module, name)
        for module in STEP_MODULES
        for name, value in vars(module).items()
        if isinstance(value, FunctionType | BuiltinFunctionType) and name != normalise_body.__name__
    ]


class Injector:
    """Counts the steps a normalisation calls and raises `error` at call number `fail_at`."""

    def __init__(self, fail_at: int | None, error: type[BaseException]) -> None:
        self.calls = 0
        self.fail_at = fail_at
        self.error = error

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def step(*args: Any, **kwargs: Any) -> Any:
            index, self.calls = self.calls, self.calls + 1
            if index == self.fail_at:
                raise self.error("injected")
            return function(*args, **kwargs)

        return step


@contextmanager
def injected(monkeypatch: pytest.MonkeyPatch, injector: Injector) -> Iterator[None]:
    with monkeypatch.context() as patch:
        for module, name in steps():
            patch.setattr(module, name, injector.wrap(getattr(module, name)))
        yield


def provider_of(path: Any) -> str:
    return str(path.parent.name)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_an_exception_in_any_normaliser_step_quarantines_and_never_escapes(
    monkeypatch: pytest.MonkeyPatch, path: Any
) -> None:
    provider, body = provider_of(path), path.read_bytes()
    counting = Injector(None, ValueError)
    with injected(monkeypatch, counting):
        assert normalise_body(provider, body).quarantine_reason is None
    assert counting.calls > 0
    for fail_at in range(counting.calls):
        error = INJECTED[fail_at % len(INJECTED)]
        with injected(monkeypatch, Injector(fail_at, error)):
            if provider == INTERNAL_PROVIDER:
                with pytest.raises(RejectionError) as refused:
                    normalise_body(provider, body)
                assert refused.value.reason.status == 400
            else:
                transaction = normalise_body(provider, body)
                assert transaction.quarantine_reason is not None, (fail_at, error)
                assert transaction.amount is None


def test_a_paypal_up_link_that_cannot_be_parsed_quarantines_the_delivery() -> None:
    document = json.loads((EVENTS / "paypal" / "PAYMENT.CAPTURE.REFUNDED.json").read_bytes())
    document["resource"]["links"] = [{"rel": "up", "href": "https://[api.paypal.com/v2/payments/captures/1"}]
    transaction = normalise_body("paypal", json.dumps(document).encode())
    assert transaction.quarantine_reason == Reason.INVALID_EVENT.code
    assert transaction.provider_event_id == document["id"]
    assert transaction.quarantine_detail is not None
    assert "api.paypal.com" not in transaction.quarantine_detail
