"""Strict JSON for webhook bodies: exact numbers, no NaN/Infinity, bounded nesting, objects only."""

import json
import re
from decimal import Decimal
from typing import Any

from handlers.core.errors import Reason, RejectionError

MAX_DEPTH = 32
"""Real provider events nest less than 10 deep; the bound keeps json's C recursion far from its limit."""

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_object(body: bytes) -> dict[str, Any]:
    """Parse `body` with every number as an exact Decimal; raise a 400 RejectionError on anything else."""
    # Counting brackets outside strings with two C-speed regexes costs microseconds, where walking
    # the parsed tree in Python would cost more than the rest of the request.
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub(b"", body)):
        depth += 1 if bracket[0] in b"[{" else -1
        if depth > MAX_DEPTH:
            raise RejectionError(Reason.BODY_TOO_DEEP)
    try:
        document = json.loads(
            body.decode("utf-8"),
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise RejectionError(Reason.BODY_MALFORMED) from None
    if not isinstance(document, dict):
        raise RejectionError(Reason.BODY_NOT_OBJECT)
    return document
