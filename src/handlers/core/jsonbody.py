"""Strict JSON for webhook bodies: exact numbers, no NaN/Infinity, bounded nesting, objects only."""

import json
import re
from decimal import Decimal
from typing import Any

from handlers.core.errors import Reason, RejectionError

MAX_DEPTH = 32
"""Real provider events nest less than 10 deep; the bound keeps json's C recursion far from its limit."""

# A string literal, or an unterminated one up to the end of the body. Possessive quantifiers and an
# end that always matches (a closing quote, or the end after an optional lone backslash) mean no
# match ever backtracks, so stripping strings is linear in the body whatever its shape.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_OPENING = frozenset(b"[{")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_object(body: bytes) -> dict[str, Any]:
    """Parse `body` with every number as an exact Decimal; raise a 400 RejectionError on anything else."""
    # Counting brackets outside strings (strings stripped by a regex, the rest deleted by translate,
    # both in C) costs microseconds for real events and stays linear for any body.
    depth = 0
    for bracket in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth += 1 if bracket in _OPENING else -1
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
    except ArithmeticError:  # decimal.InvalidOperation: an exponent beyond what a Decimal can hold
        raise RejectionError(Reason.BODY_MALFORMED, "a number is out of range") from None
    if not isinstance(document, dict):
        raise RejectionError(Reason.BODY_NOT_OBJECT)
    return document
