"""A webhook delivery as the receiver gets it: signed as each provider signs, wrapped as API Gateway wraps it.

`Signer` signs a body as its provider does (Stripe's `Stripe-Signature`, PayPal's certificate-based
signature through the local PKI, the HMAC headers of `generic` webhooks and internal clients) with
the material of a webhook secret. `api_gateway_event` is the Lambda proxy integration event (payload
format 1.0) of a REST API, in the shape AWS documents: the client's headers plus those API Gateway
adds, the route's resource and path parameters, and the request context of the stage. `Sender` puts
the two together: a client of the deployed API. `send`, `load`, the benchmarks and the tests all
build their requests here.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from handlers.core.secrets import VerificationMaterial
from handlers.providers import hmac_signed, stripe
from handlers.providers.catalogue import CATALOGUE
from tapstack.local.local_lambda import ACCOUNT_ID, REGION
from tapstack.local.paypal_pki import LocalPaypal

WEBHOOK_RESOURCE = "/webhooks/{provider}"
TRANSACTIONS_RESOURCE = "/transactions"
INTERNAL_PROVIDER = "internal"
SOURCE_IP = "203.0.113.10"  # TEST-NET-3: documentation addresses
# The caller identity fields of an unauthenticated request, all null (no IAM, Cognito or mTLS caller).
ANONYMOUS_IDENTITY: dict[str, Any] = dict.fromkeys(
    (
        "accessKey",
        "accountId",
        "caller",
        "cognitoAuthenticationProvider",
        "cognitoAuthenticationType",
        "cognitoIdentityId",
        "cognitoIdentityPoolId",
        "principalOrgId",
        "user",
        "userArn",
    )
)


@dataclass(frozen=True)
class Signer:
    """Signs bodies as each provider does, with the material of a webhook secret."""

    material: VerificationMaterial
    paypal: LocalPaypal

    @classmethod
    def from_secret(cls, secretsmanager: Any, secret_arn: str, local_paypal: LocalPaypal) -> Signer:
        text = secretsmanager.get_secret_value(SecretId=secret_arn)["SecretString"]
        return cls(VerificationMaterial.from_secret_string(text), local_paypal)

    def signed(
        self, provider: str, body: bytes, now: int | None = None, event_type: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body as sent (a form-encoded provider wraps it) and its headers, signed at `now`.

        `event_type`: for a provider that names it in a header (GitHub, Shopify), the stored type, whose
        `.` the header writes `/` (Shopify's `orders/paid` is stored `orders.paid`).
        """
        entry = CATALOGUE.get(provider)
        if entry is None:
            return body, self.headers(provider, body, now)
        sent, headers = entry.sign(
            body, self.material.catalogue[provider], int(time.time()) if now is None else now
        )
        if entry.type_header is not None and event_type is not None:
            headers[entry.type_header] = event_type.replace(".", "/")
        return sent, headers

    def headers(self, provider: str, body: bytes, now: int | None = None) -> dict[str, str]:
        """The content type and signature headers of `body`, signed at `now` (default: this second)."""
        signed_at = int(time.time()) if now is None else now
        if provider in CATALOGUE:
            return self.signed(provider, body, signed_at)[1]
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if provider == "stripe":
            return headers | {
                "Stripe-Signature": stripe.sign(body, self.material.stripe_signing_secrets[0], signed_at)
            }
        if provider == "paypal":
            return headers | self.paypal.headers(body, self.material.paypal_webhook_id, signed_at)
        return headers | hmac_signed.sign(body, self.material.internal_hmac_keys[0], signed_at)


@dataclass(frozen=True)
class ApiIdentity:
    """What API Gateway knows about the deployed API: its id, stage and the internal clients' key."""

    api_id: str
    stage: str
    api_key_id: str


@dataclass(frozen=True)
class Route:
    """A resource of the API and the values of its path parameters."""

    resource: str
    path_parameters: Mapping[str, str] | None = None

    @classmethod
    def of(cls, provider: str) -> Route:
        """Where `provider` sends: internal clients to POST /transactions, providers to their webhook."""
        if provider == INTERNAL_PROVIDER:
            return cls(TRANSACTIONS_RESOURCE)
        return cls(WEBHOOK_RESOURCE, {"provider": provider})

    @property
    def path(self) -> str:
        path = self.resource
        for name, value in (self.path_parameters or {}).items():
            path = path.replace(f"{{{name}}}", value)
        return path

    @property
    def requires_api_key(self) -> bool:
        """As the template's methods: only POST /transactions requires the internal clients' key."""
        return self.resource == TRANSACTIONS_RESOURCE


def api_gateway_event(
    route: Route,
    body: bytes,
    headers: Mapping[str, str],
    api: ApiIdentity,
    *,
    method: str = "POST",
    base64_body: bool = False,
) -> dict[str, Any]:
    """The REST proxy integration event (payload 1.0) API Gateway sends the receiver for this request."""
    domain = f"{api.api_id}.execute-api.{REGION}.amazonaws.com"
    now = datetime.now(UTC)
    sent = {
        **headers,
        "Host": domain,
        "X-Amzn-Trace-Id": f"Root=1-{int(now.timestamp()):08x}-{uuid.uuid4().hex[:24]}",
        "X-Forwarded-For": SOURCE_IP,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    user_agent = next((value for name, value in headers.items() if name.lower() == "user-agent"), None)
    return {
        "resource": route.resource,
        "path": route.path,
        "httpMethod": method,
        "headers": sent,
        "multiValueHeaders": {name: [value] for name, value in sent.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None if route.path_parameters is None else dict(route.path_parameters),
        "stageVariables": None,
        "requestContext": {
            "resourceId": uuid.uuid4().hex[:6],
            "resourcePath": route.resource,
            "httpMethod": method,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes).decode()[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{api.stage}{route.path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": api.stage,
            "domainPrefix": api.api_id,
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {
                **ANONYMOUS_IDENTITY,
                "sourceIp": SOURCE_IP,
                "userAgent": user_agent,
                "apiKey": None,
                "apiKeyId": api.api_key_id if route.requires_api_key else None,
            },
            "domainName": domain,
            "apiId": api.api_id,
        },
        "body": base64.b64encode(body).decode() if base64_body else body.decode("utf-8"),
        "isBase64Encoded": base64_body,
    }


@dataclass(frozen=True)
class Sender:
    """A client of the deployed API: each body signed as its provider signs it, delivered through `api`."""

    signer: Signer
    api: ApiIdentity

    def event(
        self, provider: str, body: bytes, *, base64_body: bool = False, event_type: str | None = None
    ) -> dict[str, Any]:
        """A correctly signed request from `provider` (`internal`: the POST /transactions route);
        `event_type` as `Signer.signed` takes it."""
        sent, headers = self.signer.signed(provider, body, event_type=event_type)
        headers |= {"User-Agent": f"tapstack-send/{provider}"}
        return api_gateway_event(Route.of(provider), sent, headers, self.api, base64_body=base64_body)
