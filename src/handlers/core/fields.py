"""Field checks shared by the providers' normalisers: every refusal is a 400 with a fixed detail."""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from handlers.core.errors import Reason, RejectionError

# Ids, event types and statuses end up in a DynamoDB key, an S3 key, SNS attributes and the SNS
# Subject: one conservative token alphabet keeps all four safe (no "/", "#", spaces or control chars).
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def token(document: Mapping[str, object], key: str) -> str:
    """A required token field (event id, type)."""
    value = document.get(key)
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise RejectionError(Reason.INVALID_EVENT, f"{key} is missing or not a valid token")
    return value


def optional_token(document: Mapping[str, object], key: str) -> str | None:
    """An optional token field (status): absent or null means None."""
    return None if document.get(key) is None else token(document, key)


def mapping(document: Mapping[str, object], key: str) -> Mapping[str, object]:
    """A required JSON object field."""
    value = document.get(key)
    if not isinstance(value, dict):
        raise RejectionError(Reason.INVALID_EVENT, f"{key} is missing or not an object")
    return value


def utc_iso(moment: datetime) -> str:
    """The one timestamp format stored and published: ISO 8601, UTC, milliseconds, `Z`.

    isoformat, not strftime: `%Y` is not zero-padded below year 1000 on every platform.
    """
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def unix_seconds(document: Mapping[str, object], key: str) -> str:
    """A required Unix-seconds field (Stripe's `created`) as a stored timestamp."""
    value = document.get(key)
    if not isinstance(value, Decimal) or value != value.to_integral_value() or not 0 <= value < 253402300800:
        raise RejectionError(Reason.INVALID_EVENT, f"{key} is missing or not a Unix timestamp")
    return utc_iso(datetime.fromtimestamp(int(value), UTC))


def iso_timestamp(document: Mapping[str, object], key: str) -> str:
    """A required ISO 8601 timestamp with an offset, as a stored timestamp."""
    value = document.get(key)
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError(key)
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError(key)
        return utc_iso(moment)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted out of range by the offset
        raise RejectionError(
            Reason.INVALID_EVENT, f"{key} is not an ISO 8601 timestamp with an offset"
        ) from None
