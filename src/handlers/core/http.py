"""API Gateway REST proxy events in, proxy responses out (payload format 1.0)."""

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from handlers.core.errors import Reason, RejectionError


@dataclass(frozen=True, slots=True)
class Headers:
    """Request headers by lower-case name; a header sent with several different values is ambiguous."""

    values: Mapping[str, tuple[str, ...]]

    def get(self, name: str) -> str | None:
        """The header's single value, or None when it is absent or ambiguous."""
        found = self.values.get(name.lower(), ())
        return found[0] if len(set(found)) == 1 else None

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> "Headers":
        merged: dict[str, list[str]] = {}
        multi = _object_or_empty(event, "multiValueHeaders")
        single = {name: [value] for name, value in _object_or_empty(event, "headers").items()}
        for name, values in (multi or single).items():
            if isinstance(name, str) and isinstance(values, list):
                merged.setdefault(name.lower(), []).extend(v for v in values if isinstance(v, str))
        return cls({name: tuple(values) for name, values in merged.items()})


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """What the receiver needs from the proxy event; `body` is None when it cannot be decoded."""

    method: str
    resource: str
    path_parameters: Mapping[str, str]
    headers: Headers
    body: bytes | None
    request_id: str

    @classmethod
    def from_api_gateway(cls, event: object) -> "HttpRequest":
        """Read a proxy event; an envelope API Gateway would never send is a 400 `request_malformed`."""
        if not isinstance(event, Mapping):
            raise RejectionError(Reason.REQUEST_MALFORMED, "the event is not an object")
        context = _object_or_empty(event, "requestContext")
        path_parameters = _object_or_empty(event, "pathParameters")
        if not all(isinstance(value, str) for value in path_parameters.values()):
            raise RejectionError(Reason.REQUEST_MALFORMED, "pathParameters values must be strings")
        return cls(
            method=str(event.get("httpMethod") or ""),
            resource=str(event.get("resource") or ""),
            path_parameters=path_parameters,
            headers=Headers.from_event(event),
            body=_raw_body(event.get("body"), event.get("isBase64Encoded") is True),
            request_id=request_id if isinstance(request_id := context.get("requestId"), str) else "",
        )


def _object_or_empty(event: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An optional object field of the event: null or absent is empty, any other type is a 400."""
    value = event.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RejectionError(Reason.REQUEST_MALFORMED, f"{key} must be an object")
    return value


def _raw_body(body: object, is_base64: bool) -> bytes | None:
    """The body exactly as the sender signed it."""
    if body is None:
        return b""
    if not isinstance(body, str):
        return None
    try:
        return base64.b64decode(body, validate=True) if is_base64 else body.encode("utf-8")
    except ValueError:  # bad base64 (binascii.Error), or lone surrogates in a text body
        return None


class ProxyResponse(TypedDict):
    """What a proxy integration answers API Gateway with (payload format 1.0)."""

    statusCode: int
    headers: dict[str, str]
    body: str
    isBase64Encoded: bool


def json_response(
    status: int, body: Mapping[str, object], headers: Mapping[str, str] | None = None
) -> ProxyResponse:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def error_response(reason: Reason, reference: str, detail: str | None = None) -> ProxyResponse:
    """`{"error": {"code", "message", "reference"}}`; the message is fixed text, never input."""
    message = reason.message if detail is None else f"{reason.message} {detail[0].upper()}{detail[1:]}."
    headers = {"Allow": "POST"} if reason is Reason.METHOD_NOT_ALLOWED else None
    return json_response(
        reason.status, {"error": {"code": reason.code, "message": message, "reference": reference}}, headers
    )
