"""The local providers' event-log APIs, over HTTP on loopback: Stripe's read by the official `stripe`
package, PayPal's by its documented OAuth token and paging links."""

import base64
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe

from handlers.core.secrets import ApiCredentials
from tapstack.local.provider_apis import ApiResponse, EventLog, InjectedAnswer, ProviderApiServer
from tapstack.local.provider_apis.stand_ins import provider_api_server, record_creation

STRIPE_KEY = "rk_test_local_events_read"
PAYPAL_CLIENT = {"client_id": "local-client", "client_secret": "local-secret"}
START = 1_790_000_000


def stripe_event(number: int, event_type: str = "refund.created") -> bytes:
    return json.dumps(
        {
            "id": f"evt_local{number:04d}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": START + number,
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
            "data": {"object": {"id": f"re_{number}", "object": "refund", "amount": 500, "currency": "usd"}},
        },
        separators=(",", ":"),
    ).encode()


def paypal_event(number: int) -> bytes:
    return json.dumps(
        {
            "id": f"WH-LOCAL{number:04d}",
            "create_time": f"2026-12-01T10:{number // 60:02d}:{number % 60:02d}.000Z",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "resource": {"id": f"CAP{number}", "amount": {"currency_code": "USD", "value": "10.99"}},
        }
    ).encode()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ProviderApiServer]:
    credentials = ApiCredentials.from_secret_string(
        json.dumps({"stripe_api_keys": [STRIPE_KEY], "paypal_api_credentials": [PAYPAL_CLIENT]})
    )
    for number in range(25):
        record_creation(
            "stripe",
            stripe_event(number, "payout.created" if number % 5 == 0 else "refund.created"),
            number % 2 == 0,
            tmp_path,
        )
    for number in range(7):
        record_creation("paypal", paypal_event(number), False, tmp_path)
    with provider_api_server(credentials, tmp_path).running() as running:
        yield running


def client(server: ProviderApiServer, key: str = STRIPE_KEY) -> stripe.StripeClient:
    """The official client, its API base the stand-in's address."""
    return stripe.StripeClient(key, base_addresses={"api": server.url}, max_network_retries=0)


@pytest.fixture
def stripe_client(server: ProviderApiServer) -> stripe.StripeClient:
    return client(server)


def call(request: urllib.request.Request) -> bytes:
    assert request.full_url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(request) as response:  # noqa: S310 (loopback, checked above)
        return bytes(response.read())


def test_the_official_stripe_client_pages_through_every_event_newest_first(
    stripe_client: stripe.StripeClient,
) -> None:
    page = stripe_client.v1.events.list(params={"limit": 10})
    assert (str(page["object"]), page.url, page.has_more, len(page.data)) == ("list", "/v1/events", True, 10)
    every = [event.id for event in page.auto_paging_iter()]
    assert every == [f"evt_local{number:04d}" for number in reversed(range(25))]


def test_created_range_types_and_delivery_success_filter_as_documented(
    stripe_client: stripe.StripeClient,
) -> None:
    window = stripe_client.v1.events.list(
        params={"created": {"gte": START + 10, "lt": START + 20}, "limit": 100}
    )
    assert [event.created for event in window.data] == list(range(START + 19, START + 9, -1))
    payouts = stripe_client.v1.events.list(params={"types": ["payout.created"], "limit": 100})
    assert {event.id for event in payouts.data} == {f"evt_local{n:04d}" for n in range(0, 25, 5)}
    wildcard = stripe_client.v1.events.list(params={"type": "payout.*", "limit": 100})
    assert [event.id for event in wildcard.data] == [event.id for event in payouts.data]
    undelivered = stripe_client.v1.events.list(params={"delivery_success": False, "limit": 100})
    assert {event.id for event in undelivered.data} == {f"evt_local{n:04d}" for n in range(1, 25, 2)}


def test_ending_before_returns_the_newer_page(stripe_client: stripe.StripeClient) -> None:
    page = stripe_client.v1.events.list(params={"ending_before": "evt_local0010", "limit": 3})
    assert [event.id for event in page.data] == ["evt_local0013", "evt_local0012", "evt_local0011"]
    assert page.has_more is True


def test_a_listed_event_is_byte_for_byte_the_created_one(server: ProviderApiServer, tmp_path: Path) -> None:
    text = call(
        urllib.request.Request(  # noqa: S310 (loopback)
            f"{server.url}/v1/events?limit=1", headers={"Authorization": f"Bearer {STRIPE_KEY}"}
        )
    )
    assert stripe_event(24) in text
    assert EventLog("stripe", tmp_path).events()[0].body.encode() == stripe_event(24)


def test_stripe_refusals_are_stripe_errors(server: ProviderApiServer) -> None:
    wrong_key = stripe.StripeClient(
        "rk_test_someone_else", base_addresses={"api": server.url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError):
        wrong_key.v1.events.list()
    right_key = client(server)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        right_key.v1.events.list(params={"limit": 101})
    assert refused.value.param == "limit"
    server.inject(InjectedAnswer(429, {"Retry-After": "1"}))
    with pytest.raises(stripe.RateLimitError):
        right_key.v1.events.list()


def _paypal_token(server: ProviderApiServer) -> str:
    basic = base64.b64encode(
        f"{PAYPAL_CLIENT['client_id']}:{PAYPAL_CLIENT['client_secret']}".encode()
    ).decode()
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{server.url}/v1/oauth2/token",
        data=b"grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    answer = json.loads(call(request))
    assert (answer["token_type"], answer["expires_in"] > 0) == ("Bearer", True)
    return str(answer["access_token"])


def test_paypal_lists_through_its_oauth_token_and_next_links(server: ProviderApiServer) -> None:
    token = _paypal_token(server)
    url: str | None = (
        f"{server.url}/v1/notifications/webhooks-events?page_size=3&start_time=2026-12-01T10:00:01Z"
    )
    seen = []
    while url is not None:
        page = json.loads(
            call(urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"}))  # noqa: S310 (loopback)
        )
        assert page["count"] == len(page["events"]) <= 3
        seen += [event["id"] for event in page["events"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert seen == [f"WH-LOCAL{number:04d}" for number in reversed(range(1, 7))]


def test_paypal_refuses_a_wrong_client_secret(server: ProviderApiServer) -> None:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{server.url}/v1/oauth2/token",
        data=b"grant_type=client_credentials",
        headers={"Authorization": "Basic " + base64.b64encode(b"local-client:wrong").decode()},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(request)
    assert refused.value.code == 401


def test_a_route_served_twice_is_refused_and_path_parameters_reach_the_handler(tmp_path: Path) -> None:
    server = provider_api_server(ApiCredentials.from_secret_string("{}"), tmp_path)
    assert ("GET", "/v1/webhook_endpoints") in server.routes  # the registration routes, on the same server
    with pytest.raises(ValueError, match="served twice"):
        server.add_routes({("GET", "/v1/webhook_endpoints"): lambda _request: ApiResponse.of(200, {})})
    server.add_routes(
        {("GET", "/v1/things/{id}/parts"): lambda request: ApiResponse.of(200, dict(request.parameters))}
    )
    with server.running():
        answer = call(urllib.request.Request(f"{server.url}/v1/things/th_1/parts"))  # noqa: S310 (loopback)
        assert json.loads(answer) == {"id": "th_1"}
        with pytest.raises(urllib.error.HTTPError) as unrouted:
            call(urllib.request.Request(f"{server.url}/v1/things/th_1/parts/more"))  # noqa: S310 (loopback)
        assert unrouted.value.code == 404
