"""The providers' webhook-registration APIs over HTTPS (urllib), with the base URL injectable so that the
local stack and the tests point them at the local stand-ins (tapstack/local/provider_apis/).

Stripe (https://docs.stripe.com/api/webhook_endpoints): form-encoded requests with the API key as a
bearer token and `Stripe-Version` pinned; `POST /v1/webhook_endpoints` returns the endpoint's `secret`
only at creation. PayPal (https://developer.paypal.com/api/webhooks/v1/): an OAuth token from
`POST /v1/oauth2/token` (client credentials), then JSON requests; webhooks belong to the app whose
credentials made the token, and an app holds at most one webhook per URL (`WEBHOOK_URL_ALREADY_EXISTS`).

No credential ever appears in an error message or a repr: errors name the provider, the call and what
the provider said.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.core.secrets import PaypalApiCredential
from handlers.providers import paypal
from handlers.providers.stripe import API_VERSION

STRIPE_API_BASE = "https://api.stripe.com"
TIMEOUT_SECONDS = 30.0
PAGE_LIMIT = 100
"""Stripe's largest page; an account has at most 16 webhook endpoints, so one page holds them all."""


def paypal_api_base(environment: str) -> str:
    """PayPal's REST API host for `live` or `sandbox` (the `api-m` host PayPal's docs give)."""
    return f"https://{paypal.API_HOSTS[environment][1]}"


class ProviderApiError(RuntimeError):
    """A provider's API refused a call or could not be reached; the message holds no credential."""

    def __init__(self, provider: str, call: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{provider} {call} failed: {detail}")
        self.status = status
        self.provider_error = detail


def _said(provider: str, status: int, body: bytes) -> str:
    """What the provider's error body says: Stripe `{"error": {"message"}}`, PayPal `{"name", "message"}`
    or OAuth `{"error", "error_description"}`."""
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return f"HTTP {status}"
    if not isinstance(document, dict):
        return f"HTTP {status}"
    error = document.get("error")
    if provider == "stripe" and isinstance(error, dict):
        return f"HTTP {status}: {error.get('message', error.get('type', ''))}"
    if "name" in document:
        return f"HTTP {status}: {document['name']} ({document.get('message', '')})"
    if isinstance(error, str):
        return f"HTTP {status}: {error} ({document.get('error_description', '')})"
    return f"HTTP {status}"


def _call(provider: str, call: str, request: urllib.request.Request, hidden: Sequence[str]) -> Any:
    """The JSON answer; ProviderApiError with what the provider said, any of `hidden` (the credentials the
    request carried) blanked should the provider echo one."""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (https or loopback)
            body = response.read()
    except urllib.error.HTTPError as error:
        said = _said(provider, error.code, error.read())
        for value in hidden:
            said = said.replace(value, "<hidden>") if value else said
        raise ProviderApiError(provider, call, said, error.code) from None
    except (urllib.error.URLError, TimeoutError) as error:
        reason = getattr(error, "reason", error)
        raise ProviderApiError(provider, call, f"cannot reach {request.full_url}: {reason}") from None
    try:
        return json.loads(body) if body else None
    except ValueError:
        raise ProviderApiError(provider, call, "the answer is not JSON") from None


@dataclass(frozen=True)
class StripeApi:
    """Stripe's webhook endpoints, with a restricted key (webhook endpoints: write)."""

    api_key: str = field(repr=False)
    base_url: str = STRIPE_API_BASE

    def _request(self, method: str, path: str, form: Sequence[tuple[str, str]] = ()) -> Any:
        data = urllib.parse.urlencode(form).encode() if method == "POST" else None
        query = "" if method == "POST" or not form else "?" + urllib.parse.urlencode(form)
        request = urllib.request.Request(  # noqa: S310 (the base URL is https, or loopback in tests)
            f"{self.base_url}{path}{query}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Stripe-Version": API_VERSION,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        return _call("stripe", f"{method} {path}", request, (self.api_key,))

    def webhook_endpoints(self) -> list[dict[str, Any]]:
        """Every webhook endpoint of the account (`GET /v1/webhook_endpoints`, following `has_more`)."""
        endpoints: list[dict[str, Any]] = []
        form = [("limit", str(PAGE_LIMIT))]
        while True:
            page = self._request("GET", "/v1/webhook_endpoints", form)
            endpoints += page["data"]
            if not page.get("has_more") or not page["data"]:
                return endpoints
            form = [("limit", str(PAGE_LIMIT)), ("starting_after", page["data"][-1]["id"])]

    def create_webhook_endpoint(
        self, url: str, events: Sequence[str], description: str, metadata: dict[str, str]
    ) -> dict[str, Any]:
        """`POST /v1/webhook_endpoints` with the pinned API version; the answer holds `secret`."""
        form = [("url", url), *(("enabled_events[]", event) for event in events)]
        form += [("api_version", API_VERSION), ("description", description)]
        form += [(f"metadata[{key}]", value) for key, value in metadata.items()]
        return dict(self._request("POST", "/v1/webhook_endpoints", form))

    def update_webhook_endpoint(
        self, endpoint_id: str, events: Sequence[str], enable: bool
    ) -> dict[str, Any]:
        """`POST /v1/webhook_endpoints/{id}`: its event types replaced; re-enabled when `enable`."""
        form = [(("enabled_events[]", event)) for event in events]
        form += [("disabled", "false")] if enable else []
        return dict(self._request("POST", f"/v1/webhook_endpoints/{urllib.parse.quote(endpoint_id)}", form))


@dataclass
class PaypalApi:
    """PayPal's webhooks of one REST app, with that app's client credentials."""

    credential: PaypalApiCredential = field(repr=False)
    base_url: str
    _token: str | None = field(default=None, repr=False)

    def _access_token(self) -> str:
        if self._token is None:
            pair = f"{self.credential.client_id}:{self.credential.client_secret}".encode()
            request = urllib.request.Request(  # noqa: S310 (the base URL is https, or loopback in tests)
                f"{self.base_url}/v1/oauth2/token",
                data=b"grant_type=client_credentials",
                method="POST",
                headers={
                    "Authorization": f"Basic {base64.b64encode(pair).decode()}",
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            answer = _call("paypal", "POST /v1/oauth2/token", request, (self.credential.client_secret,))
            self._token = str(answer["access_token"])
        return self._token

    def _request(self, method: str, path: str, document: object = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 (the base URL is https, or loopback in tests)
            f"{self.base_url}{path}",
            data=None if document is None else json.dumps(document).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self._access_token()}", "Content-Type": "application/json"},
        )
        return _call(
            "paypal", f"{method} {path}", request, (self.credential.client_secret, self._access_token())
        )

    def webhooks(self) -> list[dict[str, Any]]:
        """The app's webhooks (`GET /v1/notifications/webhooks`)."""
        return list(self._request("GET", "/v1/notifications/webhooks")["webhooks"])

    def create_webhook(self, url: str, events: Sequence[str]) -> dict[str, Any]:
        """`POST /v1/notifications/webhooks`; the answer's `id` is the webhook id signatures cover."""
        document = {"url": url, "event_types": [{"name": event} for event in events]}
        return dict(self._request("POST", "/v1/notifications/webhooks", document))

    def replace_event_types(self, webhook_id: str, events: Sequence[str]) -> dict[str, Any]:
        """`PATCH /v1/notifications/webhooks/{id}` with a JSON patch replacing `/event_types`."""
        patch = [{"op": "replace", "path": "/event_types", "value": [{"name": event} for event in events]}]
        return dict(
            self._request("PATCH", f"/v1/notifications/webhooks/{urllib.parse.quote(webhook_id)}", patch)
        )
