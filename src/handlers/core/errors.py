"""Why a request is refused, as stable codes: clients and dashboards key on them, so never rename one."""

from enum import Enum


class Reason(Enum):
    """One refusal: HTTP status, stable error code and a fixed message that never echoes the input."""

    NOT_FOUND = (404, "not_found", "No such route.")
    METHOD_NOT_ALLOWED = (405, "method_not_allowed", "Only POST is accepted.")
    PAYLOAD_TOO_LARGE = (413, "payload_too_large", "The body exceeds the size limit.")
    UNSUPPORTED_MEDIA_TYPE = (415, "unsupported_media_type", "The body must be application/json.")
    SIGNATURE_MISSING = (401, "signature_missing", "The signature headers are missing or malformed.")
    SIGNATURE_INVALID = (401, "signature_invalid", "The signature does not match.")
    SIGNATURE_EXPIRED = (401, "signature_expired", "The signature timestamp is outside the tolerance.")
    PROVIDER_NOT_CONFIGURED = (401, "provider_not_configured", "This provider is not configured.")
    REQUEST_MALFORMED = (400, "request_malformed", "The request envelope is malformed.")
    BODY_MALFORMED = (400, "body_malformed", "The body is not valid UTF-8 JSON.")
    BODY_TOO_DEEP = (400, "body_too_deep", "The body nests too deeply.")
    BODY_NOT_OBJECT = (400, "body_not_object", "The body must be a JSON object.")
    INVALID_EVENT = (400, "invalid_event", "The event does not match the expected schema.")
    AMOUNT_INVALID = (400, "amount_invalid", "The amount cannot be stored exactly.")
    UNAVAILABLE = (503, "temporarily_unavailable", "The event could not be accepted now; retry later.")
    INTERNAL = (500, "internal_error", "Internal error.")

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message


class RejectionError(Exception):
    """The request is refused for `reason`; `detail` is a fixed text chosen by the code, never input."""

    def __init__(self, reason: Reason, detail: str | None = None) -> None:
        super().__init__(reason.code if detail is None else f"{reason.code}: {detail}")
        self.reason = reason
        self.detail = detail


class UnavailableError(Exception):
    """A dependency needed to accept the event failed; the sender should retry (HTTP 503)."""
