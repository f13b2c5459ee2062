"""The local providers put together: which ones keep a log, recording what they create, and one server
for all their APIs (event logs and endpoint registration) with the credentials of the stack's webhook
secret, the one `tapstack local reconcile` and `tapstack local register` both run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handlers.core.reconciling import Window
from handlers.core.secrets import ApiCredentials
from tapstack.local.provider_apis import STATE_DIRECTORY, EventLog, LoggedEvent, ProviderApiServer
from tapstack.local.provider_apis import paypal as paypal_api
from tapstack.local.provider_apis import stripe as stripe_api
from tapstack.operate.deployment import Deployment
from tapstack.operate.reconcile import reconcile_deployment
from templates.contract import WEBHOOK_SECRET_ARN

LOGGING_PROVIDERS: dict[str, Callable[[bytes, bool], LoggedEvent]] = {
    "stripe": stripe_api.logged,
    "paypal": paypal_api.logged,
}
"""The providers that keep an event log an API key can read, and how each reads its event's body."""


def record_creation(provider: str, body: bytes, delivered: bool, directory: Path = STATE_DIRECTORY) -> bool:
    """Record in `provider`'s log the event it created with `body`; False for a sender without a log."""
    read = LOGGING_PROVIDERS.get(provider)
    if read is None:
        return False
    EventLog(provider, directory).record(read(body, delivered))
    return True


@dataclass(frozen=True)
class LocalProviders:
    """One stand-in per provider: its event log and its endpoint registrations, kept in one directory."""

    stripe: stripe_api.StripeStandIn
    paypal: paypal_api.PaypalStandIn

    @classmethod
    def of(cls, credentials: ApiCredentials, directory: Path = STATE_DIRECTORY) -> LocalProviders:
        """The stand-ins over what `directory` keeps, accepting `credentials` (a stack's secret's)."""
        apps = [
            paypal_api.ClientCredentials(c.client_id, c.client_secret)
            for c in credentials.paypal_api_credentials
        ]
        return cls(
            stripe_api.StripeStandIn(directory, credentials.stripe_api_keys),
            paypal_api.PaypalStandIn(directory, apps),
        )

    def server(self) -> ProviderApiServer:
        return ProviderApiServer(self.stripe.routes(), self.paypal.routes())


def provider_api_server(credentials: ApiCredentials, directory: Path = STATE_DIRECTORY) -> ProviderApiServer:
    """The local providers' APIs over what `directory` keeps, accepting a stack's secret's credentials."""
    return LocalProviders.of(credentials, directory).server()


def local_provider_server(deployment: Deployment, directory: Path | None = None) -> ProviderApiServer:
    """The local providers' APIs for the deployed local stack: with the credentials its webhook secret holds
    now, over what `directory` keeps (default: the local session's, `STATE_DIRECTORY` when called)."""
    outputs = deployment.target.stack_outputs(deployment.stack, deployment.environment, deployment.template)
    secret = deployment.clients("secretsmanager").get_secret_value(SecretId=outputs[WEBHOOK_SECRET_ARN])
    credentials = ApiCredentials.from_secret_string(secret["SecretString"])
    return provider_api_server(credentials, STATE_DIRECTORY if directory is None else directory)


def reconcile_local_stack(
    deployment: Deployment,
    providers: list[str],
    window: Window,
    apply: bool,
    directory: Path | None = None,
) -> dict[str, Any]:
    """`tapstack local reconcile`: the local providers' APIs served for the length of one reconciliation
    of the local stack, with the credentials of its webhook secret. One provider: its document; more:
    their `missing` (and `ingested`) together, and each provider's document."""
    with local_provider_server(deployment, directory).running() as server:
        bases = dict.fromkeys(providers, server.url)
        documents = [reconcile_deployment(deployment, name, window, apply, bases) for name in providers]
    if len(documents) == 1:
        return documents[0]
    combined: dict[str, Any] = {"missing": [i for d in documents for i in d["missing"]]}
    if apply:
        combined["ingested"] = [i for d in documents for i in d["ingested"]]
    combined["complete"] = all(d["complete"] for d in documents)
    return combined | {"providers": {d["provider"]: d for d in documents}}
