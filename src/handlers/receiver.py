"""Lambda entry point of the receiver: API Gateway REST proxy request -> verified event -> processor.

Never answers 2xx before Lambda has accepted the asynchronous invocation (StatusCode 202) of every
event of the delivery (a batch is handed off one event at a time); a failed hand-off, even after
others succeeded, is a 503 so that the provider retries the whole delivery (the processor's
conditional write absorbs the events already stored). Environment: PROCESSOR_FUNCTION_NAME,
WEBHOOK_SECRET_ARN, SECRET_CACHE_TTL_SECONDS (default 300), ACCEPTED_PROVIDERS (comma-separated
`/webhooks/{provider}` names the stack accepts; absent: every known provider),
FUNCTION_TIMEOUT_SECONDS (the time budget of every call, handlers.aws.CallBudget),
ACCEPT_PAYPAL_SIMULATOR (`true` on developer stacks that accept PayPal's webhook simulator; anything
else refuses it), POWERTOOLS_* (logging, metrics).
"""

import os
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit, single_metric

from handlers.aws import SEQUENTIAL_CALLS, AwsClients, CallBudget, LambdaDispatcher, Once, secret_string
from handlers.core.errors import Reason, RejectionError, UnavailableError
from handlers.core.fields import utc_iso
from handlers.core.http import HttpRequest, ProxyResponse, error_response, json_response
from handlers.core.model import HandOff, Transaction
from handlers.core.receiving import WEBHOOK_RESOURCE, Accepted, Receiver
from handlers.core.secrets import TtlCache, VerificationMaterial
from handlers.providers import paypal
from handlers.providers.paypal import CertificateCache, TrustAnchors

if TYPE_CHECKING:  # for the annotations only: the cold start does not import it
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
metrics = EphemeralMetrics()

CERTIFICATE_TIMEOUT_SECONDS = 3.0
"""Outside Lambda (`tapstack verify`, tests); in the function, the fetch's share of its CallBudget."""
MAX_CERTIFICATE_BYTES = 64 * 1024


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead off paypal.com, past the URL check: treat it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: ARG002 (base signature)
        return None


def fetch_certificate(url: str) -> bytes:
    """GET a PayPal certificate over verified HTTPS (the URL was checked by the caller)."""
    budget = CallBudget.from_environment(SEQUENTIAL_CALLS["receiver"])
    timeout = CERTIFICATE_TIMEOUT_SECONDS if budget is None else budget.fetch_timeout_seconds
    opener = urllib.request.build_opener(_RefuseRedirects)
    with opener.open(url, timeout=timeout) as response:
        pem = bytes(response.read(MAX_CERTIFICATE_BYTES + 1))
    if len(pem) > MAX_CERTIFICATE_BYTES:
        raise ValueError("the certificate response is too large")
    return pem


@dataclass
class Dependencies:
    clients: AwsClients
    processor_function_name: str
    secret_arn: str
    secret_ttl_seconds: float = 300.0
    fetch_certificate: Callable[[str], bytes] = fetch_certificate
    paypal_trust: TrustAnchors | None = None
    """None: the pinned DigiCert anchors shipped in the artifact (tests and the local stack inject theirs)."""
    clock: Callable[[], float] = time.time
    accepted_providers: tuple[str, ...] | None = None
    """None: every known provider (handlers.core.receiving.Receiver)."""
    accept_paypal_simulator: bool = False
    """The stack's AcceptPayPalSimulator (developer stacks): PayPal's simulator is accepted, marked."""
    receiver: Receiver = field(init=False)
    material: TtlCache[VerificationMaterial] = field(init=False)
    certificates: CertificateCache = field(init=False)

    def __post_init__(self) -> None:
        self.material = TtlCache(self._load_material, self.secret_ttl_seconds)
        self.certificates = CertificateCache(self.fetch_certificate, self.paypal_trust)
        self.receiver = Receiver(self.material.get, self.certificates, self.accepted_providers)

    def _load_material(self) -> VerificationMaterial:
        try:
            material = VerificationMaterial.from_secret_string(
                secret_string(self.clients("secretsmanager"), self.secret_arn)
            )
        except Exception as error:  # unreachable or malformed secret: refuse with 503, never accept
            raise UnavailableError("loading the webhook secret failed") from error
        return replace(material, paypal_accept_simulator=self.accept_paypal_simulator)

    def marked_if_simulated(self, request: HttpRequest, accepted: Accepted, now: float) -> Accepted:
        """A PayPal delivery signed under the simulator's `WEBHOOK_ID` rather than the configured id,
        marked `simulated` (only where the stack accepts the simulator: nothing else verifies so)."""
        is_paypal = (
            request.resource == WEBHOOK_RESOURCE and request.path_parameters.get("provider") == "paypal"
        )
        if not (self.accept_paypal_simulator and is_paypal):
            return accepted
        webhook_id = paypal.verified_webhook_id(
            request.headers, accepted.body, self.material.get(), now, self.certificates
        )
        if webhook_id != paypal.SIMULATOR_WEBHOOK_ID:
            return accepted
        return replace(accepted, transaction=replace(accepted.transaction, simulated=True))

    @classmethod
    def from_environment(cls) -> "Dependencies":
        return cls(
            clients=AwsClients(sequential_calls=SEQUENTIAL_CALLS["receiver"]),
            processor_function_name=os.environ["PROCESSOR_FUNCTION_NAME"],
            secret_arn=os.environ["WEBHOOK_SECRET_ARN"],
            secret_ttl_seconds=float(os.environ.get("SECRET_CACHE_TTL_SECONDS", "300")),  # not money: seconds
            accepted_providers=(
                None
                if (names := os.environ.get("ACCEPTED_PROVIDERS")) is None
                else tuple(name for name in names.split(",") if name)
            ),
            accept_paypal_simulator=os.environ.get("ACCEPT_PAYPAL_SIMULATOR") == "true",
        )


DEPENDENCIES = Once(Dependencies.from_environment)


def _count(name: str, reason: str | None = None) -> None:
    if reason is None:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="reason", value=reason)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics(capture_cold_start_metric=True)  # type: ignore[untyped-decorator]
def handler(event: object, context: "LambdaContext") -> ProxyResponse:
    """`event` is whatever the invoker sent: HttpRequest.from_api_gateway refuses all but a proxy event."""
    reference = context.aws_request_id
    _count("Received")
    try:
        deps = DEPENDENCIES.get()  # inside the try: a misconfiguration is an opaque 500 too
        request = HttpRequest.from_api_gateway(event)
        reference = request.request_id or reference
        now = deps.clock()
        received = deps.receiver.receive(request, now)
        dispatcher = LambdaDispatcher(deps.clients("lambda"), deps.processor_function_name)
        handed_off: list[Accepted] = []
        for each in received.accepted:
            accepted = deps.marked_if_simulated(request, each, now)
            handoff = HandOff(
                accepted.transaction, accepted.body, utc_iso(datetime.fromtimestamp(now, UTC)), reference
            )
            try:
                dispatcher.dispatch(handoff.to_json())
            except Exception as error:  # whatever failed, Lambda has not queued this event
                raise UnavailableError("handing the event to the processor failed") from error
            handed_off.append(accepted)
    except RejectionError as rejection:
        _count("Rejected", rejection.reason.code)
        logger.info("rejected", extra={"reason": rejection.reason.code, "detail": rejection.detail})
        return error_response(rejection.reason, reference, rejection.detail)
    except UnavailableError:
        _count("Rejected", Reason.UNAVAILABLE.code)
        logger.warning("unavailable", exc_info=True)
        return error_response(Reason.UNAVAILABLE, reference)
    except Exception:
        _count("Rejected", Reason.INTERNAL.code)
        logger.exception("unexpected error")
        return error_response(Reason.INTERNAL, reference)
    _count("Accepted")
    answers = [_answer(accepted.transaction) for accepted in handed_off]
    if received.reply is not None:  # the answer this provider expects (Adyen's `[accepted]`)
        reply = received.reply
        return {
            "statusCode": reply.status,
            "headers": {"Content-Type": reply.content_type},
            "body": reply.body,
            "isBase64Encoded": False,
        }
    if len(answers) == 1:
        return json_response(202, answers[0] | {"reference": reference})
    return json_response(202, {"status": "accepted", "reference": reference, "events": answers})


def _answer(transaction: Transaction) -> dict[str, str]:
    """One event's part of the answer, logged and counted."""
    answer = {
        "status": "accepted",
        "transaction_id": transaction.transaction_id,
        "event_id": transaction.provider_event_id,
    }
    if transaction.quarantine_reason is not None:
        # A 2xx all the same: the delivery is genuine and kept; a 4xx would only make it retry for days.
        _count("QuarantinedOnReceipt", transaction.quarantine_reason)
        logger.warning(
            "accepted into quarantine",
            extra={"transaction_id": transaction.transaction_id, "reason": transaction.quarantine_reason},
        )
        return answer | {"status": "quarantined", "reason": transaction.quarantine_reason}
    logger.info("accepted", extra={"transaction_id": transaction.transaction_id})
    return answer
