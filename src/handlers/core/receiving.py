"""The receiver's decision, pure: route, check, verify, parse and normalise one request.

Order matters: cheap checks that need no secret come first, the signature is verified on the raw
bytes before the body is parsed, and nothing unverified is ever parsed.

Verified means stored: on a provider route (`/webhooks/*`) a delivery whose signature verifies but
whose content cannot be parsed or normalised (a refusal, or any exception a normaliser raises) is
accepted as a quarantined transaction, because a
4xx would make the provider retry it for days and then disable the endpoint. Internal clients
(`/transactions`) can fix and resend, so they keep the specific 400.

Size limit: 128 KiB of raw body. The hand-off payload carries it base64-encoded (4/3) beside
at most a few KiB of normalised fields, about 180 KB in all: under the asynchronous invoke limit
of 256 KB that applied until late 2025 (1 MB since), so it holds in every region and account.
Provider events are a few KiB.
"""

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from handlers.core import fields
from handlers.core.errors import Reason, RejectionError
from handlers.core.http import Headers, HttpRequest
from handlers.core.jsonbody import parse_object
from handlers.core.model import Transaction
from handlers.core.secrets import VerificationMaterial
from handlers.providers import Normaliser, VerifiedEvent, Verifier, hmac_signed, paypal, stripe
from handlers.providers.catalogue import CATALOGUE, JSON, Reply

MAX_BODY_BYTES = 128 * 1024
WEBHOOK_RESOURCE = "/webhooks/{provider}"
TRANSACTIONS_RESOURCE = "/transactions"
INTERNAL_PROVIDER = "internal"


@dataclass(frozen=True, slots=True)
class Accepted:
    transaction: Transaction
    body: bytes


@dataclass(frozen=True, slots=True)
class Received:
    """A verified delivery: each of its events (a batch has several) and the answer its provider expects.

    Every event is handed off on its own, with its own idempotency key, and the delivery is answered
    2xx only once all of them are: a partial hand-off is a 503, and the provider's redelivery of the
    whole batch stores the rest while the processor's conditional write absorbs the duplicates.
    """

    accepted: tuple[Accepted, ...]
    reply: Reply | None = None


def quarantined(
    provider: str,
    document: Mapping[str, object],
    body_sha256: str,
    refusal: RejectionError,
    event_id: str | None = None,
) -> Transaction:
    """The transaction stored for a verified delivery that `refusal` says cannot be normalised.

    `document` is the parsed body (a catalogue provider's event), empty when it could not be parsed.
    Keyed by the event's own id (`event_id`, else the body's `id`) when it is a valid token, so that
    a redelivery is a duplicate; otherwise by the body's hash, which a redelivery of the same bytes
    repeats.
    """
    found = (
        _readable_token({"id": event_id}, "id") if event_id is not None else _readable_token(document, "id")
    )
    return Transaction(
        provider=provider,
        provider_event_id=found or f"sha256:{body_sha256}",
        event_type=_readable_token(document, _event_type_field(provider)),
        occurred_at=None,
        amount=None,
        currency=None,
        status=None,
        body_sha256=body_sha256,
        quarantine_reason=refusal.reason.code,
        quarantine_detail=refusal.detail,
    )


EVENT_TYPE_FIELDS = {"stripe": "type", "paypal": "event_type", "generic": "type"}
"""Where each provider's body names the event type (the event id is `id` for all of them)."""


def _event_type_field(provider: str) -> str:
    entry = CATALOGUE.get(provider)
    return EVENT_TYPE_FIELDS.get(provider, "type") if entry is None else entry.event_type_field


def _readable_token(document: Mapping[str, object], key: str) -> str | None:
    try:
        return fields.token(document, key)
    except RejectionError:
        return None


NORMALISERS: dict[str, Normaliser] = {
    "stripe": stripe.normalise,
    "paypal": paypal.normalise,
    "generic": hmac_signed.normalise,
    INTERNAL_PROVIDER: hmac_signed.normalise,
}


def normalise_body(provider: str, body: bytes) -> Transaction:
    """The transaction of a verified `body` from `provider`: parsed and normalised, or quarantined.

    The receiver's step after verification, and `tapstack quarantine reprocess`'s on an archived body.
    """
    body_sha256 = hashlib.sha256(body).hexdigest()
    document: Mapping[str, object] = {}
    try:
        document = parse_object(body)
        return NORMALISERS[provider](document, provider, body_sha256)
    except Exception as error:  # verified means stored: even a normaliser's bug quarantines, never a 5xx
        refusal = error if isinstance(error, RejectionError) else _unexpected(error)
        if provider == INTERNAL_PROVIDER:
            raise refusal from (None if refusal is error else error)
        return quarantined(provider, document, body_sha256, refusal)


def normalise_events(provider: str, events: list[VerifiedEvent], body_sha256: str) -> list[Transaction]:
    """The transactions of a catalogue provider's verified events, each keyed by its own id.

    An event without a valid id is keyed by the body's hash (with its position in a batch); one that
    cannot be normalised is quarantined on its own, and the others are stored as they are.
    """
    normalise = CATALOGUE[provider].normalise
    transactions: list[Transaction] = []
    for index, event in enumerate(events):
        fallback = f"sha256:{body_sha256}" + (f":{index}" if len(events) > 1 else "")
        event_id = _readable_token({"id": event.event_id}, "id") or fallback
        try:
            transaction = replace(
                normalise(event.document, provider, body_sha256), provider_event_id=event_id
            )
        except Exception as error:  # verified means stored, as in normalise_body
            refusal = error if isinstance(error, RejectionError) else _unexpected(error)
            transaction = quarantined(provider, event.document, body_sha256, refusal, event_id)
        transactions.append(transaction)
    return transactions


def _delivery_transactions(
    provider: str, body_sha256: str, split: Callable[[], list[VerifiedEvent]]
) -> list[Transaction]:
    """The transactions of an authentic delivery that `split` reads into its events (`normalise_events`).

    A delivery that cannot be read is one quarantined transaction keyed by its hash; a 401 from `split`
    is raised as it is.
    """
    try:
        events = split()
    except RejectionError as refusal:
        if refusal.reason.status == Reason.SIGNATURE_INVALID.status:
            raise
        # Authentic but unreadable: verified means stored, the whole delivery quarantined.
        return [quarantined(provider, {}, body_sha256, refusal)]
    if not events:
        empty = RejectionError(Reason.INVALID_EVENT, "the delivery holds no events")
        return [quarantined(provider, {}, body_sha256, empty)]
    return normalise_events(provider, events, body_sha256)


def normalise_archived_event(provider: str, body: bytes, provider_event_id: str) -> Transaction:
    """The transaction of the event keyed `provider_event_id` in a catalogue provider's archived delivery.

    `tapstack quarantine reprocess`'s step. The delivery was verified when it was received, so it is
    not verified again: it is split as its verifier splits it (with no headers, which the archive does
    not keep), normalised as the receiver normalises it, and the event the receiver keyed
    `provider_event_id` picked. A delivery of one event is that event: keyed `provider_event_id` when
    its body names no id (Standard Webhooks' comes from the webhook-id header), else by the id it now
    reads (as `normalise_body` may, after a fix). A LookupError, naming why and the next step, when the
    event cannot be rebuilt from the body: GitHub's and Shopify's type is a header, and so is what
    marks an Adyen platform webhook.
    """
    entry = CATALOGUE[provider]
    if entry.type_header is not None:
        raise LookupError(
            f"{entry.title}'s event type is in the {entry.type_header} header, which the archive does not"
            " keep: the event cannot be rebuilt; read it with `quarantine show` and settle it by hand"
        )
    body_sha256 = hashlib.sha256(body).hexdigest()
    try:
        transactions = _delivery_transactions(provider, body_sha256, lambda: entry.split(Headers({}), body))
    except RejectionError:
        raise LookupError(
            f"the archived {entry.title} delivery cannot be split without the headers it came with (an Adyen"
            " platform webhook's HmacSignature), which the archive does not keep: read it with"
            " `quarantine show` and settle it by hand"
        ) from None
    picked = [t for t in transactions if t.provider_event_id == provider_event_id]
    if picked:
        return picked[0]
    if len(transactions) == 1 and transactions[0].provider_event_id == f"sha256:{body_sha256}":
        # The body names no id: the receiver's came from a header (Standard Webhooks' webhook-id).
        return replace(transactions[0], provider_event_id=provider_event_id)
    if len(transactions) == 1:
        return transactions[0]  # the fix reads the event's id differently: stored under it
    raise LookupError(
        f"the archived delivery holds {len(transactions)} events, none keyed {provider_event_id}:"
        " read it with `quarantine show` and settle it by hand"
    )


def _unexpected(error: Exception) -> RejectionError:
    # Only the exception's class: its message may quote the body.
    return RejectionError(Reason.INVALID_EVENT, f"normalising raised {type(error).__name__}")


class Receiver:
    """Decides on requests; `material` returns the current verification material (cached by the caller)."""

    def __init__(
        self,
        material: Callable[[], VerificationMaterial],
        certificates: paypal.CertificateCache,
        providers: Iterable[str] | None = None,
    ) -> None:
        """`providers`: the routes this stack accepts (its `providers` setting); None: every known one."""
        self._material = material
        webhooks: dict[str, Verifier | None] = {
            "stripe": stripe.verify,
            "paypal": functools.partial(paypal.verify, certificates=certificates),
            "generic": hmac_signed.verify,
            **dict.fromkeys(CATALOGUE),
        }
        accepted = set(webhooks) if providers is None else set(providers)
        self._webhooks = {name: verify for name, verify in webhooks.items() if name in accepted}

    def _route(self, request: HttpRequest) -> tuple[str, Verifier | None]:
        if request.resource == TRANSACTIONS_RESOURCE:
            return INTERNAL_PROVIDER, hmac_signed.verify
        name = request.path_parameters.get("provider")
        if request.resource == WEBHOOK_RESOURCE and name in self._webhooks:
            return name, self._webhooks[name]
        # The provider names are the code's own (never the request's), so listing them leaks nothing.
        routes = [f"/webhooks/{provider}" for provider in sorted(self._webhooks)]
        raise RejectionError(Reason.NOT_FOUND, f"the routes are POST {', '.join(routes)} and /transactions")

    def receive(self, request: HttpRequest, now: float) -> Received:
        """The accepted events, or a RejectionError (4xx) / UnavailableError (503).

        `verify` None is a catalogue provider (handlers.providers.catalogue).
        """
        provider, verify = self._route(request)
        if request.method != "POST":
            raise RejectionError(Reason.METHOD_NOT_ALLOWED)
        body = request.body
        if body is not None and len(body) > MAX_BODY_BYTES:
            raise RejectionError(Reason.PAYLOAD_TOO_LARGE)
        entry = CATALOGUE.get(provider) if verify is None else None
        media_type = (request.headers.get("content-type") or "").partition(";")[0].strip().lower()
        if media_type not in ((JSON,) if entry is None else entry.media_types):
            raise RejectionError(Reason.UNSUPPORTED_MEDIA_TYPE)
        if body is None:
            raise RejectionError(Reason.BODY_MALFORMED)
        if verify is not None:
            verify(request.headers, body, self._material(), now)
            return Received((Accepted(normalise_body(provider, body), body),))
        assert entry is not None  # every name without a verifier is the catalogue's
        material = self._material().catalogue.get(provider)
        if material is None:
            raise RejectionError(Reason.PROVIDER_NOT_CONFIGURED)
        body_sha256 = hashlib.sha256(body).hexdigest()
        transactions = _delivery_transactions(
            provider, body_sha256, lambda: entry.verify(request.headers, body, material, now)
        )
        return Received(tuple(Accepted(transaction, body) for transaction in transactions), entry.reply)
