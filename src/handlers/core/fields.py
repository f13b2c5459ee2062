"""Field checks shared by the providers' normalisers: every refusal is a 400 with a fixed detail."""

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from handlers.core.errors import Reason, RejectionError

# Ids, event types and statuses end up in a DynamoDB key, an S3 key, SNS attributes and the SNS
# Subject: one conservative token alphabet keeps all four safe (no "/", "#", spaces or control chars).
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Provider object ids are stored and published, never used in a key: the same alphabet, up to the 255
# characters Stripe documents as the longest object id it may issue.
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,254}")

Choice = TypeVar("Choice", bound=StrEnum)


def is_token(value: object) -> bool:
    """Whether `value` is a token: safe in a key, an S3 key, SNS attributes and Subject."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def token(document: Mapping[str, object], key: str) -> str:
    """A required token field (event id, type)."""
    value = document.get(key)
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise RejectionError(Reason.INVALID_EVENT, f"{key} is missing or not a valid token")
    return value


def optional_token(document: Mapping[str, object], key: str) -> str | None:
    """An optional token field (status): absent or null means None."""
    return None if document.get(key) is None else token(document, key)


def choice(document: Mapping[str, object], key: str, choices: type[Choice]) -> Choice | None:
    """An optional field holding one of `choices`' values: absent or null means None."""
    value = document.get(key)
    if value is None:
        return None
    for option in choices:
        if value == option.value:
            return option
    raise RejectionError(Reason.INVALID_EVENT, f"{key} is not one of the documented values")


def at_path(document: Mapping[str, object], path: str) -> object:
    """The value at a dotted path (a number steps into a list), or None where any step is missing."""
    value: object = document
    for step in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def reference_text(value: object, where: str) -> str:
    """A provider object id read from `where`, or a 400."""
    if not isinstance(value, str) or not _REFERENCE.fullmatch(value):
        raise RejectionError(Reason.INVALID_EVENT, f"{where} is not an object id")
    return value


def reference(document: Mapping[str, object], path: str) -> str | None:
    """An optional object id at `path`: absent or null means None."""
    value = at_path(document, path)
    return None if value is None else reference_text(value, path)


def first_present(values: Iterable[str | None]) -> str | None:
    """The first value that is not None; the rest are not read (an odd later one refuses nothing)."""
    return next((value for value in values if value is not None), None)


def readable_reference(document: Mapping[str, object], path: str) -> str | None:
    """The object id at `path` when there is a valid one: for events TapStack does not map, whose
    objects it knows nothing about, an odd id is left out rather than refused."""
    try:
        return reference(document, path)
    except RejectionError:
        return None


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
