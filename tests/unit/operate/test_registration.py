"""The registration decision (tapstack/operate/registration.py), without a provider or AWS."""

import typing

import pytest
from stripe.params._webhook_endpoint_create_params import WebhookEndpointCreateParams

from handlers.providers import paypal, stripe
from tapstack.operate.registration import (
    EVENT_TYPES,
    PREVIOUS_PAYPAL_IDS,
    Action,
    Endpoint,
    RegistrationRefusedError,
    decide_paypal,
    decide_stripe,
    merged_secret,
)

URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/webhooks/stripe"
STRIPE_EVENTS = EVENT_TYPES["stripe"]
PAYPAL_EVENTS = EVENT_TYPES["paypal"]


def stripe_endpoint(
    endpoint_id: str = "we_1",
    events: tuple[str, ...] = STRIPE_EVENTS,
    version: str | None = stripe.API_VERSION,
    enabled: bool = True,
    created: int = 1,
    url: str = URL,
) -> Endpoint:
    return Endpoint(endpoint_id, url, tuple(sorted(events)), enabled, version, created)


def test_the_pinned_api_version_is_one_stripe_accepts_for_an_endpoint() -> None:
    # The official package types `api_version` of WebhookEndpoint.create as the versions Stripe accepts.
    annotation = WebhookEndpointCreateParams.__annotations__["api_version"]
    (versions,) = typing.get_args(annotation)
    assert stripe.API_VERSION in typing.get_args(versions)


def test_the_event_types_are_those_the_normalisers_map() -> None:
    assert set(STRIPE_EVENTS) == set(stripe.MEANINGS)
    assert set(PAYPAL_EVENTS) == set(paypal.MEANINGS)


def test_every_stripe_event_type_registered_is_one_stripe_accepts() -> None:
    # The official package types `enabled_events` as a list of the event types Stripe accepts.
    (accepted,) = typing.get_args(WebhookEndpointCreateParams.__annotations__["enabled_events"])
    assert set(STRIPE_EVENTS) <= set(typing.get_args(accepted))


# -- Stripe ------------------------------------------------------------------------------------------


def test_stripe_creates_when_nothing_is_registered_or_in_use() -> None:
    other_url = stripe_endpoint("we_other", url="https://elsewhere.example/hook")
    plan = decide_stripe(URL, STRIPE_EVENTS, [other_url], secret_in_use=False, rotate=False)
    assert (plan.action, plan.writes_secret, plan.keeps_previous) == (Action.CREATE, True, False)
    assert plan.endpoint is None
    assert plan.retire_after_overlap == ()


def test_a_stripe_rerun_changes_nothing() -> None:
    plan = decide_stripe(URL, STRIPE_EVENTS, [stripe_endpoint()], secret_in_use=True, rotate=False)
    assert plan.action is Action.UNCHANGED
    assert not plan.changes
    assert plan.document("payments-dev")["summary"].startswith("nothing to change")


def test_stripe_updates_the_event_types_and_re_enables_a_disabled_endpoint() -> None:
    stale = (*STRIPE_EVENTS[1:], "customer.created")
    plan = decide_stripe(URL, STRIPE_EVENTS, [stripe_endpoint(events=stale, enabled=False)], True, False)
    assert plan.action is Action.UPDATE
    assert (plan.added, plan.removed, plan.reenable) == ((STRIPE_EVENTS[0],), ("customer.created",), True)
    assert not plan.writes_secret


def test_stripe_refuses_to_replace_a_secret_in_use_without_rotate() -> None:
    with pytest.raises(RegistrationRefusedError, match="--rotate to keep the old secret"):
        decide_stripe(URL, STRIPE_EVENTS, [], secret_in_use=True, rotate=False)


def test_a_stripe_endpoint_whose_secret_is_not_stored_cannot_be_adopted() -> None:
    # Stripe shows an endpoint's secret only at creation: an endpoint made by hand needs a new one.
    with pytest.raises(RegistrationRefusedError, match="only at creation"):
        decide_stripe(URL, STRIPE_EVENTS, [stripe_endpoint()], secret_in_use=False, rotate=False)


def test_another_api_version_takes_a_rotation() -> None:
    old = stripe_endpoint(version="2024-06-20")
    with pytest.raises(RegistrationRefusedError, match=f"pins {stripe.API_VERSION}"):
        decide_stripe(URL, STRIPE_EVENTS, [old], secret_in_use=True, rotate=False)
    plan = decide_stripe(URL, STRIPE_EVENTS, [old], secret_in_use=True, rotate=True)
    assert (plan.action, plan.keeps_previous, plan.retire_after_overlap) == (Action.CREATE, True, ("we_1",))


def test_a_stripe_rotation_creates_a_new_endpoint_and_keeps_the_old_secret_accepted() -> None:
    endpoints = [stripe_endpoint("we_old", created=1), stripe_endpoint("we_newer", created=2)]
    plan = decide_stripe(URL, STRIPE_EVENTS, endpoints, secret_in_use=True, rotate=True)
    assert (plan.action, plan.writes_secret, plan.keeps_previous) == (Action.CREATE, True, True)
    assert plan.retire_after_overlap == ("we_newer", "we_old")
    document = plan.document("payments-dev")
    assert document["secret"].startswith("stripe_signing_secrets: the new value in use, the previous one")
    assert document["api_version"] == stripe.API_VERSION


def test_after_a_rotation_the_newest_endpoint_is_the_one_in_use() -> None:
    endpoints = [stripe_endpoint("we_old", created=1), stripe_endpoint("we_new", created=2)]
    plan = decide_stripe(URL, STRIPE_EVENTS, endpoints, secret_in_use=True, rotate=False)
    assert plan.action is Action.UNCHANGED
    assert plan.endpoint is not None
    assert plan.endpoint.id == "we_new"
    assert plan.retire_after_overlap == ("we_old",)


def test_the_rotated_stripe_secret_goes_first_and_the_old_ones_stay() -> None:
    document = {"stripe_signing_secrets": ["whsec_old"], "internal_hmac_key": "k", "stripe_api_keys": ["rk"]}
    merged = merged_secret(document, "stripe", "whsec_new")
    assert merged == document | {"stripe_signing_secrets": ["whsec_new", "whsec_old"]}
    assert merged_secret(merged, "stripe", "whsec_new") == merged


# -- PayPal ------------------------------------------------------------------------------------------


def paypal_webhook(
    webhook_id: str = "5GP028458E2496506", events: tuple[str, ...] = PAYPAL_EVENTS
) -> Endpoint:
    return Endpoint(webhook_id, URL, tuple(sorted(events)))


def test_paypal_creates_when_nothing_is_registered_or_in_use() -> None:
    plan = decide_paypal(URL, PAYPAL_EVENTS, [], webhook_id="", rotate=False)
    assert (plan.action, plan.writes_secret, plan.keeps_previous) == (Action.CREATE, True, False)


def test_a_paypal_rerun_changes_nothing_and_changed_event_types_are_patched() -> None:
    current = paypal_webhook()
    assert decide_paypal(URL, PAYPAL_EVENTS, [current], current.id, rotate=False).action is Action.UNCHANGED
    stale = paypal_webhook(events=PAYPAL_EVENTS[:-1])
    plan = decide_paypal(URL, PAYPAL_EVENTS, [stale], stale.id, rotate=False)
    assert (plan.action, plan.added, plan.writes_secret) == (Action.UPDATE, (PAYPAL_EVENTS[-1],), False)


def test_paypal_adopts_the_apps_webhook_when_the_secret_holds_a_placeholder() -> None:
    plan = decide_paypal(URL, PAYPAL_EVENTS, [paypal_webhook()], webhook_id="WEBHOOK_ID", rotate=False)
    assert (plan.action, plan.writes_secret, plan.keeps_previous) == (Action.ADOPT, True, False)


def test_paypal_refuses_to_replace_an_id_in_use_without_rotate() -> None:
    with pytest.raises(RegistrationRefusedError, match="--rotate to keep the old id"):
        decide_paypal(URL, PAYPAL_EVENTS, [], webhook_id="WH-IN-USE", rotate=False)
    with pytest.raises(RegistrationRefusedError, match="--rotate to use it"):
        decide_paypal(URL, PAYPAL_EVENTS, [paypal_webhook()], webhook_id="WH-IN-USE", rotate=False)


def test_a_paypal_rotation_keeps_the_old_id_accepted() -> None:
    plan = decide_paypal(URL, PAYPAL_EVENTS, [paypal_webhook()], webhook_id="WH-IN-USE", rotate=True)
    assert (plan.action, plan.keeps_previous) == (Action.ADOPT, True)
    assert PREVIOUS_PAYPAL_IDS in plan.document("payments-dev")["secret"]
    merged = merged_secret(
        {"paypal_webhook_id": "WH-IN-USE", PREVIOUS_PAYPAL_IDS: ["WH-OLDER"]}, "paypal", "5GP"
    )
    assert merged == {"paypal_webhook_id": "5GP", PREVIOUS_PAYPAL_IDS: ["WH-IN-USE", "WH-OLDER"]}


def test_a_placeholder_id_is_not_kept_as_a_previous_one() -> None:
    assert merged_secret({"paypal_webhook_id": ""}, "paypal", "5GP") == {
        "paypal_webhook_id": "5GP",
        PREVIOUS_PAYPAL_IDS: [],
    }


def test_the_webhook_in_use_cannot_be_rotated_within_one_app() -> None:
    # PayPal holds one webhook per URL in an app: a rotation needs another app (or the webhook deleted).
    current = paypal_webhook()
    with pytest.raises(RegistrationRefusedError, match="one webhook per URL"):
        decide_paypal(URL, PAYPAL_EVENTS, [current], current.id, rotate=True)
