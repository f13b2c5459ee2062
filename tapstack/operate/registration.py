"""Registering the stack's webhook URL with a provider and storing what it returns in the stack's secret.

`tapstack register` lists the provider's endpoints, decides (`decide_stripe`, `decide_paypal`: pure),
and, with `--apply`, creates or updates the endpoint and merges the returned material into the webhook
secret (PutSecretValue of the whole JSON, every other key kept):

- Stripe: the endpoint for the stack's `StripeWebhookUrl`, with the event types `stripe.MEANINGS` maps
  and the API version `stripe.API_VERSION`. Its signing secret (`whsec_...`) is returned only at creation,
  and an endpoint's API version cannot be changed: replacing either is a new endpoint, which takes
  `--rotate` when the stack holds a secret in use. Rotation puts the new secret first in
  `stripe_signing_secrets` and keeps the old ones after it, so deliveries of the old endpoint still verify
  during the overlap; the old endpoint is listed under `retire_after_overlap` for the operator to delete.
- PayPal: the app's webhook for the stack's `PaypalWebhookUrl` (an app holds one per URL), with the event
  types `paypal.MEANINGS` maps. Its id is not a secret but is part of every signed message; replacing the
  id in use (a webhook of another app, or one created again) takes `--rotate`, which keeps the old id in
  `paypal_previous_webhook_ids`, still accepted by the receiver during the overlap.

Nothing here prints or returns a credential or a signing secret: the plan names keys, never values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from handlers.core.secrets import ApiCredentials, VerificationMaterial
from handlers.providers import paypal, stripe
from tapstack.operate.provider_api import STRIPE_API_BASE, PaypalApi, StripeApi, paypal_api_base
from templates.contract import WEBHOOK_SECRET_ARN, webhook_url_output

PROVIDERS = ("stripe", "paypal")
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "stripe": tuple(sorted(stripe.MEANINGS)),
    "paypal": tuple(sorted(paypal.MEANINGS)),
}
"""What TapStack registers: the event types each provider's normaliser maps to a meaning (one source)."""
SECRET_KEYS = {"stripe": "stripe_signing_secrets", "paypal": "paypal_webhook_id"}
PREVIOUS_PAYPAL_IDS = "paypal_previous_webhook_ids"
METADATA_STACK = "tapstack_stack"


class RegistrationRefusedError(Exception):
    """The registration cannot go ahead as asked; the message names the problem and the next step."""


class Action(StrEnum):
    CREATE = "create"  # a new endpoint (webhook); its secret (id) is written
    UPDATE = "update"  # the endpoint in use gets the event types (and is re-enabled); nothing written
    ADOPT = "adopt"  # PayPal: the app's webhook for the URL becomes the one in the secret
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Endpoint:
    """A provider's endpoint (Stripe) or webhook (PayPal), as registration compares it."""

    id: str
    url: str
    event_types: tuple[str, ...]
    enabled: bool = True
    api_version: str | None = None
    created: int = 0

    @classmethod
    def from_stripe(cls, document: dict[str, Any]) -> Endpoint:
        return cls(
            id=str(document["id"]),
            url=str(document["url"]),
            event_types=tuple(sorted(document.get("enabled_events", []))),
            enabled=document.get("status") == "enabled",
            api_version=document.get("api_version"),
            created=int(document.get("created", 0)),
        )

    @classmethod
    def from_paypal(cls, document: dict[str, Any]) -> Endpoint:
        names = (str(event["name"]) for event in document.get("event_types", []))
        return cls(id=str(document["id"]), url=str(document["url"]), event_types=tuple(sorted(names)))


@dataclass(frozen=True)
class Plan:
    """What registration does (or did) for one provider and URL."""

    provider: str
    url: str
    action: Action
    event_types: tuple[str, ...]
    endpoint: Endpoint | None = None
    """The endpoint updated, kept or adopted; after a creation is applied, the new one."""
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reenable: bool = False
    writes_secret: bool = False
    keeps_previous: bool = False
    """The value in use stays accepted after the new one (a rotation)."""
    retire_after_overlap: tuple[str, ...] = ()
    applied: bool = False

    @property
    def changes(self) -> bool:
        return self.action is not Action.UNCHANGED

    def document(self, stack: str) -> dict[str, Any]:
        """The one JSON document the command prints: keys and ids, never a secret value."""
        key = SECRET_KEYS[self.provider]
        if not self.writes_secret:
            secret_change = "unchanged"  # noqa: S105 (what happens to the secret, not a secret)
        elif self.keeps_previous:
            kept = PREVIOUS_PAYPAL_IDS if self.provider == "paypal" else f"after it in {key}"
            secret_change = f"{key}: the new value in use, the previous one still accepted ({kept})"
        else:
            secret_change = f"{key}: the new value"
        if not self.changes:
            summary = "nothing to change: the endpoint and the secret are as registration leaves them"
        elif self.applied:
            summary = f"done: {self.action.value}"
        else:
            summary = f"dry run: would {self.action.value}; run again with --apply to do it"
        return {
            "provider": self.provider,
            "stack": stack,
            "url": self.url,
            **({"api_version": stripe.API_VERSION} if self.provider == "stripe" else {}),
            "action": self.action.value,
            "endpoint": self.endpoint.id if self.endpoint else None,
            "event_types": list(self.event_types),
            "added_event_types": list(self.added),
            "removed_event_types": list(self.removed),
            "reenable": self.reenable,
            "secret": secret_change,
            "retire_after_overlap": list(self.retire_after_overlap),
            "applied": self.applied,
            "changed": self.applied and self.changes,
            "summary": summary,
        }


def _difference(wanted: Sequence[str], endpoint: Endpoint) -> tuple[tuple[str, ...], tuple[str, ...]]:
    have = set(endpoint.event_types)
    return tuple(sorted(set(wanted) - have)), tuple(sorted(have - set(wanted)))


def _for_url(endpoints: Sequence[Endpoint], url: str) -> list[Endpoint]:
    """The endpoints for `url`, the newest first (the one a rotation made last is the one in use)."""
    return sorted((e for e in endpoints if e.url == url), key=lambda e: e.created, reverse=True)


def decide_stripe(
    url: str, wanted: Sequence[str], endpoints: Sequence[Endpoint], secret_in_use: bool, rotate: bool
) -> Plan:
    """Create, update or keep Stripe's endpoint for `url`; RegistrationRefusedError when that would replace a
    signing secret in use without `rotate`, or when the secret of the endpoint in use cannot be had."""
    matching = _for_url(endpoints, url)
    wanted = tuple(sorted(wanted))
    create = Plan("stripe", url, Action.CREATE, wanted, writes_secret=True, keeps_previous=secret_in_use)
    if rotate:
        return replace(create, retire_after_overlap=tuple(e.id for e in matching))
    if not matching:
        if secret_in_use:
            raise RegistrationRefusedError(
                f"Stripe has no endpoint for {url}, and stripe_signing_secrets holds a secret in use: "
                "creating one replaces it; run again with --rotate to keep the old secret accepted too"
            )
        return create
    current, others = matching[0], tuple(e.id for e in matching[1:])
    if not secret_in_use:
        raise RegistrationRefusedError(
            f"Stripe endpoint {current.id} exists for {url} but stripe_signing_secrets is empty, and Stripe "
            "returns an endpoint's secret only at creation: run again with --rotate to create a new endpoint "
            f"whose secret is stored (then delete {current.id}), or put its secret (Dashboard) in the secret"
        )
    if current.api_version != stripe.API_VERSION:
        raise RegistrationRefusedError(
            f"Stripe endpoint {current.id} renders events in API version {current.api_version}, TapStack "
            f"pins {stripe.API_VERSION}, and an endpoint's version cannot be changed: run again with "
            "--rotate to create one with the pinned version (the old secret stays accepted)"
        )
    added, removed = _difference(wanted, current)
    if added or removed or not current.enabled:
        return Plan(
            "stripe", url, Action.UPDATE, wanted, current, added, removed, reenable=not current.enabled,
            retire_after_overlap=others,
        )  # fmt: skip
    return Plan("stripe", url, Action.UNCHANGED, wanted, current, retire_after_overlap=others)


def decide_paypal(
    url: str, wanted: Sequence[str], webhooks: Sequence[Endpoint], webhook_id: str, rotate: bool
) -> Plan:
    """Create, update, adopt or keep the app's PayPal webhook for `url`, `webhook_id` being the one in the
    secret; RegistrationRefusedError when that would replace an id in use without `rotate`."""
    in_use = webhook_id not in paypal.PLACEHOLDER_WEBHOOK_IDS
    wanted = tuple(sorted(wanted))
    matching = _for_url(webhooks, url)
    if not matching:
        if in_use and not rotate:
            raise RegistrationRefusedError(
                f"this PayPal app has no webhook for {url}, and paypal_webhook_id holds {webhook_id}: "
                "creating one replaces it; run again with --rotate to keep the old id accepted too"
            )
        return Plan("paypal", url, Action.CREATE, wanted, writes_secret=True, keeps_previous=in_use)
    current = matching[0]
    added, removed = _difference(wanted, current)
    if current.id == webhook_id:
        if rotate:
            raise RegistrationRefusedError(
                f"PayPal webhook {webhook_id} is already the one in use, and a PayPal app holds one webhook "
                "per URL: to rotate, put another app's credentials first in paypal_api_credentials (or "
                "delete the webhook at PayPal) and run again with --rotate"
            )
        action = Action.UPDATE if added or removed else Action.UNCHANGED
        return Plan("paypal", url, action, wanted, current, added, removed)
    if in_use and not rotate:
        raise RegistrationRefusedError(
            f"PayPal webhook {current.id} is this app's for {url}, but paypal_webhook_id holds {webhook_id}: "
            "run again with --rotate to use it and keep the old id accepted during the overlap"
        )
    return Plan(
        "paypal",
        url,
        Action.ADOPT,
        wanted,
        current,
        added,
        removed,
        writes_secret=True,
        keeps_previous=in_use,
    )


def merged_secret(document: dict[str, Any], provider: str, value: str) -> dict[str, Any]:
    """The secret's JSON with `value` as the provider's material in use, the previous kept after it."""
    merged = dict(document)
    if provider == "stripe":
        previous = [secret for secret in document.get("stripe_signing_secrets", []) if secret != value]
        merged["stripe_signing_secrets"] = [value, *previous]
        return merged
    current = document.get("paypal_webhook_id", "")
    previous = [
        webhook_id
        for webhook_id in [current, *document.get(PREVIOUS_PAYPAL_IDS, [])]
        if webhook_id not in paypal.PLACEHOLDER_WEBHOOK_IDS and webhook_id != value
    ]
    merged["paypal_webhook_id"] = value
    merged[PREVIOUS_PAYPAL_IDS] = list(dict.fromkeys(previous))
    return merged


@dataclass(frozen=True)
class Registration:
    """One provider's registration for one deployed stack."""

    provider: str
    stack: str
    url: str
    secret_arn: str

    @classmethod
    def of(cls, provider: str, stack: str, outputs: dict[str, str]) -> Registration:
        url_output = webhook_url_output(provider)
        missing = [key for key in (url_output, WEBHOOK_SECRET_ARN) if key not in outputs]
        if missing:
            raise RegistrationRefusedError(
                f"stack {stack} has no {' or '.join(missing)} output: deploy it with this template first"
            )
        return cls(provider, stack, outputs[url_output], outputs[WEBHOOK_SECRET_ARN])


def _read_secret(
    secretsmanager: Any, secret_arn: str
) -> tuple[dict[str, Any], VerificationMaterial, ApiCredentials]:
    text = secretsmanager.get_secret_value(SecretId=secret_arn)["SecretString"]
    try:
        return (
            json.loads(text),
            VerificationMaterial.from_secret_string(text),
            ApiCredentials.from_secret_string(text),
        )
    except ValueError as error:
        raise RegistrationRefusedError(
            f"the webhook secret {secret_arn} is malformed: {error}; fix its JSON"
        ) from None


def _store(secretsmanager: Any, registration: Registration, value: str, endpoint: str) -> None:
    """Merge `value` into the secret as read now (another key may have changed since the plan)."""
    try:
        document, _, _ = _read_secret(secretsmanager, registration.secret_arn)
        secretsmanager.put_secret_value(
            SecretId=registration.secret_arn,
            SecretString=json.dumps(merged_secret(document, registration.provider, value)),
        )
    except Exception as error:
        # Stripe returns a secret once: say what exists at the provider, so the operator can start over.
        raise RuntimeError(
            f"{registration.provider} endpoint {endpoint} was created but storing its material in "
            f"{registration.secret_arn} failed ({error.__class__.__name__}); delete {endpoint} at the "
            "provider and run again with --apply --rotate"
        ) from None


def _missing_credentials(provider: str, secret_arn: str) -> RegistrationRefusedError:
    key = "stripe_api_keys" if provider == "stripe" else "paypal_api_credentials"
    return RegistrationRefusedError(
        f"{key} in {secret_arn} is empty: put the provider's API credentials in first (docs/go-live.md)"
    )


def register(
    registration: Registration, secretsmanager: Any, api_base: str | None, apply: bool, rotate: bool
) -> Plan:
    """Decide, and with `apply` do, the registration; the plan says what was (or would be) done."""
    _, material, credentials = _read_secret(secretsmanager, registration.secret_arn)
    url, wanted = registration.url, EVENT_TYPES[registration.provider]
    if registration.provider == "stripe":
        if not credentials.stripe_api_keys:
            raise _missing_credentials("stripe", registration.secret_arn)
        stripe_api = StripeApi(credentials.stripe_api_keys[0], api_base or STRIPE_API_BASE)
        endpoints = [Endpoint.from_stripe(e) for e in stripe_api.webhook_endpoints()]
        plan = decide_stripe(url, wanted, endpoints, bool(material.stripe_signing_secrets), rotate)
        return (
            _apply_stripe(plan, stripe_api, registration, secretsmanager) if apply and plan.changes else plan
        )
    if not credentials.paypal_api_credentials:
        raise _missing_credentials("paypal", registration.secret_arn)
    paypal_api = PaypalApi(
        credentials.paypal_api_credentials[0], api_base or paypal_api_base(material.paypal_environment)
    )
    webhooks = [Endpoint.from_paypal(w) for w in paypal_api.webhooks()]
    plan = decide_paypal(url, wanted, webhooks, material.paypal_webhook_id, rotate)
    return _apply_paypal(plan, paypal_api, registration, secretsmanager) if apply and plan.changes else plan


def _apply_stripe(plan: Plan, api: StripeApi, registration: Registration, secretsmanager: Any) -> Plan:
    if plan.action is Action.UPDATE and plan.endpoint is not None:
        updated = api.update_webhook_endpoint(plan.endpoint.id, plan.event_types, plan.reenable)
        return replace(plan, endpoint=Endpoint.from_stripe(updated), applied=True)
    created = api.create_webhook_endpoint(
        plan.url,
        plan.event_types,
        f"TapStack {registration.stack}: payment webhooks",
        {METADATA_STACK: registration.stack},
    )
    endpoint = Endpoint.from_stripe(created)
    _store(secretsmanager, registration, str(created["secret"]), endpoint.id)
    return replace(plan, endpoint=endpoint, applied=True)


def _apply_paypal(plan: Plan, api: PaypalApi, registration: Registration, secretsmanager: Any) -> Plan:
    if plan.action is Action.CREATE:
        endpoint = Endpoint.from_paypal(api.create_webhook(plan.url, plan.event_types))
    else:
        assert plan.endpoint is not None  # UPDATE and ADOPT name the webhook they change
        endpoint = plan.endpoint
        if plan.added or plan.removed:
            endpoint = Endpoint.from_paypal(api.replace_event_types(endpoint.id, plan.event_types))
    if plan.writes_secret:
        _store(secretsmanager, registration, endpoint.id, endpoint.id)
    return replace(plan, endpoint=endpoint, applied=True)
