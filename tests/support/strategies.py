"""Hypothesis strategies for the input classes fuzzing found breaking the receiver, and their neighbours.

Each class is generated rather than listed, so that inputs next to a known reproducer are tried too:
numbers at and past every exponent limit (Decimal's, boto3's and DynamoDB's), zero with any exponent,
unterminated or backslash-ended JSON strings, currency codes with non-ASCII look-alikes, and API
Gateway envelopes whose fields have the wrong JSON type.
"""

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from hypothesis import strategies as st

# Exponents around every edge that matters: DynamoDB (-130/+125), boto3's context (Emin -128,
# Emax 126, Etiny -165), and the largest a Decimal can hold (libmpdec: 10**18 - 1).
_EDGE_EXPONENTS = st.one_of(
    st.integers(-200, 200),
    st.sampled_from([-(10**18), -(10**18) + 1, 10**18 - 1]),
    st.integers(-(10**18), 10**18 - 1),
)
_BEYOND_DECIMAL_EXPONENTS = st.one_of(st.integers(10**18, 10**25), st.integers(-(10**25), -(2 * 10**18)))
_MANTISSAS = st.one_of(
    st.just(0),
    st.integers(-(10**40), 10**40),
    st.integers(10**37, 10**38 - 1),  # exactly 38 digits: the widest DynamoDB holds
    st.integers(10**38, 10**39 - 1),  # 39 digits: one too many
)


def _decimal_or_none(mantissa: int, exponent: int) -> Decimal | None:
    try:
        return Decimal(f"{mantissa}E{exponent}")
    except InvalidOperation:  # digits pushed the adjusted exponent past what a Decimal holds
        return None


edge_decimals = st.builds(_decimal_or_none, _MANTISSAS, _EDGE_EXPONENTS).filter(
    lambda value: value is not None
)
"""Finite Decimals whose digits and exponents sit on and around every limit."""

edge_number_texts = st.one_of(
    edge_decimals.map(str),
    st.builds(
        lambda digits, exponent, zero: f"{'0' if zero else digits}{'e' if zero else 'E'}{exponent:+d}",
        st.integers(0, 10**6),
        st.one_of(_EDGE_EXPONENTS, _BEYOND_DECIMAL_EXPONENTS),
        st.booleans(),
    ),
    st.sampled_from(["1e9999999999999999999", "-1E-9999999999999999999", "0e500", "0E-200", "0E+200"]),
)
"""JSON number texts, including exponents too large for Decimal to represent at all."""

unterminated_strings = st.builds(
    lambda unit, count, tail: b'"' + unit * count + tail,
    st.sampled_from([b'\\"', b"\\", b'"\\', b"a", b"\\\\", b'\\u00"']),
    st.integers(0, 4096),
    st.sampled_from([b"", b"\\", b'"', b"{", b"]"]),
)
"""Bodies that open a string and never close it properly (the shape of the quadratic parse)."""

# Long s, dotless i, Kelvin sign, Cyrillic a/e/dze, Greek upsilon: written as escapes to be seen.
_LOOKALIKES = {"s": "\u017f", "i": "\u0131", "k": "\u212a", "a": "\u0430", "e": "\u0435", "u": "\u03c5"}
currency_texts = st.one_of(
    st.sampled_from(
        ["usd", "USD", "jpy", "kwd", "u\u017fd", "\u0131nr", "u\u0455d", "eur\u200b", "US", "USDT", ""]
    ),
    st.sampled_from(["usd", "inr", "sek", "kwd", "aed", "eur", "uzs"]).map(
        lambda code: "".join(_LOOKALIKES.get(letter, letter) for letter in code)
    ),
    st.text(min_size=3, max_size=3),
)
"""ISO codes, their non-ASCII look-alikes (which str.upper() folds onto real codes), and noise."""

_ODD_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.integers(),
    st.text(max_size=8),
    st.lists(st.text(max_size=8), max_size=2),
    st.booleans(),
    st.dictionaries(st.text(max_size=5), st.lists(st.integers(), max_size=2), max_size=2),
)


def odd_envelopes(event: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """`event` (an API Gateway proxy event) with some envelope fields given the wrong JSON type."""
    keys = st.sampled_from(
        [
            "pathParameters",
            "headers",
            "multiValueHeaders",
            "requestContext",
            "httpMethod",
            "resource",
            "body",
            "isBase64Encoded",
        ]
    )

    def replace(changes: dict[str, Any]) -> dict[str, Any]:
        # Through JSON and back, as Lambda delivers events: no Python-only types survive.
        document: dict[str, Any] = json.loads(json.dumps(event | changes))
        return document

    provider_as_odd = st.fixed_dictionaries(
        {"pathParameters": st.fixed_dictionaries({"provider": _ODD_VALUES})}
    )
    return st.one_of(st.dictionaries(keys, _ODD_VALUES, min_size=1, max_size=3), provider_as_odd).map(replace)
