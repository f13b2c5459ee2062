"""Calls to a provider's REST API for the reconciler: urllib only (no SDK in the artifact), redirects
refused, and every answer read into what the reconciler acts on (a page, a 429 to wait out, a failure)."""

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from handlers.core.reconciling import ProviderThrottledError, ProviderUnavailableError

MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""100 events of at most Stripe's ~64 KiB each, with room: a larger answer is refused, not read."""
DEFAULT_RETRY_AFTER_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ApiCall:
    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    """Carries the credential: never in a repr, a log line or an error."""
    body: bytes | None = None


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    status: int
    headers: Mapping[str, str]
    """Lower-case names."""
    body: bytes


Fetch = Callable[[ApiCall], ApiAnswer]


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: ARG002 (base signature)
        return None


def urllib_fetch(timeout_seconds: float) -> Fetch:
    """A Fetch over urllib: any status is an answer; no answer at all is ProviderUnavailableError."""
    opener = urllib.request.build_opener(_RefuseRedirects)

    def fetch(call: ApiCall) -> ApiAnswer:
        if urlsplit(call.url).scheme not in ("https", "http"):
            raise ProviderUnavailableError("not an HTTP URL")
        headers = dict(call.headers)
        request = urllib.request.Request(call.url, call.body, headers, method=call.method)  # noqa: S310 (checked)
        try:
            with opener.open(request, timeout=timeout_seconds) as response:
                return _answer(response.status, response.headers, response.read(MAX_ANSWER_BYTES + 1))
        except urllib.error.HTTPError as error:
            return _answer(error.code, error.headers, error.read(MAX_ANSWER_BYTES + 1))
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise ProviderUnavailableError(
                f"{call.method} {urlsplit(call.url).path}: {type(error).__name__}"
            ) from None

    return fetch


def _answer(status: int, headers: Any, body: bytes) -> ApiAnswer:
    if len(body) > MAX_ANSWER_BYTES:
        raise ProviderUnavailableError("the answer is too large")
    return ApiAnswer(status, {name.lower(): value for name, value in headers.items()}, body)


def checked(answer: ApiAnswer, what: str) -> ApiAnswer:
    """The answer if 2xx; a 429 as ProviderThrottledError with its Retry-After; anything else a failure
    naming the status only (a provider's error text may quote the request)."""
    if 200 <= answer.status < 300:
        return answer
    if answer.status == 429:
        raise ProviderThrottledError(retry_after(answer.headers.get("retry-after")))
    raise ProviderUnavailableError(f"{what} answered {answer.status}")


def retry_after(value: str | None) -> float:
    """Seconds to wait: Retry-After in seconds (the providers send seconds), else a short default."""
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER_SECONDS  # not money: seconds
    except ValueError:
        return DEFAULT_RETRY_AFTER_SECONDS
    return seconds if 0 <= seconds < 3600 else DEFAULT_RETRY_AFTER_SECONDS


def same_origin(url: str, base_url: str) -> bool:
    """A link the provider answered may be followed with its token only on the provider's own origin."""
    link, base = urlsplit(url), urlsplit(base_url)
    return (link.scheme, link.netloc) == (base.scheme, base.netloc) and not link.username
