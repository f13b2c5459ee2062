"""PayPal's simulator through the receiver's entry point and the whole pipeline: refused by a stack as
generated (AcceptPayPalSimulator false), accepted by one that opted in, stored and published marked
`simulated`; a genuine PayPal delivery on that stack is not marked."""

from dataclasses import replace

from handlers import receiver
from handlers.providers import paypal
from tapstack.local.delivery import Sender
from tests.support.pipeline import API, Pipeline, sample, signer_for

BODY = sample("paypal/PAYMENT.CAPTURE.COMPLETED.json")


def simulator(pipeline: Pipeline) -> Sender:
    """Deliveries signed as PayPal's simulator signs them: PayPal's key, the literal id WEBHOOK_ID."""
    return Sender(
        signer_for(pipeline.sender.signer.paypal, paypal_webhook_id=paypal.SIMULATOR_WEBHOOK_ID), API
    )


def opt_in(pipeline: Pipeline) -> None:
    """The receiver as deployed with AcceptPayPalSimulator=true (its environment variable)."""
    receiver.DEPENDENCIES.set(replace(receiver.DEPENDENCIES.get(), accept_paypal_simulator=True))


def test_a_stack_as_generated_refuses_the_simulator(pipeline: Pipeline) -> None:
    status, answer = pipeline.send(simulator(pipeline).event("paypal", BODY))
    assert (status, answer["error"]["code"]) == (401, "signature_invalid")
    assert pipeline.stack.items() == []


def test_an_opted_in_stack_stores_and_publishes_simulator_events_marked(pipeline: Pipeline) -> None:
    opt_in(pipeline)
    status, answer = pipeline.send(simulator(pipeline).event("paypal", BODY))
    assert status == 202
    item = pipeline.stack.item(answer["transaction_id"])
    assert item is not None
    assert item["simulated"] == "true"
    (published,) = pipeline.stack.published()
    assert published["body"]["simulated"] == "true"
    assert published["attributes"]["simulated"]["StringValue"] == "true"


def test_a_genuine_delivery_on_an_opted_in_stack_is_not_marked(pipeline: Pipeline) -> None:
    opt_in(pipeline)
    status, answer = pipeline.send(pipeline.sender.event("paypal", BODY))
    assert status == 202
    item = pipeline.stack.item(answer["transaction_id"])
    assert item is not None
    assert "simulated" not in item
