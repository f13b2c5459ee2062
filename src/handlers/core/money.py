"""Exact money: ISO 4217 exponents, the one precision rule of every route, and storable numbers.

Amounts are `Decimal` built from the JSON text and never pass through `float`. Arithmetic goes
through `Decimal.as_tuple()` or a context that traps rounding, because the default context
(28 digits) would round wider amounts.

The precision rule, the same on every route: an amount may have no non-zero digit beyond its
currency's ISO 4217 decimal places (`ISO_4217_EXPONENTS`): "1500.0" JPY and "12.3" EUR are
amounts, "1.5" JPY and "10.999" USD are refused.
"""

import re
from collections.abc import Iterable
from decimal import Clamped, Context, Decimal, DecimalException, Inexact, Overflow, Rounded, Underflow

from handlers.core.errors import Reason, RejectionError
from handlers.core.model import Direction, Money

# Minor-unit exponents of ISO 4217 (active codes and fund codes; metals and test codes have none).
_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS "
    "GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL "
    "MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK "
    "PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
    "TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)
ISO_4217_EXPONENTS: dict[str, int] = {
    code: exponent
    for exponent, codes in ((0, _EXPONENT_0), (2, _EXPONENT_2), (3, _EXPONENT_3), (4, _EXPONENT_4))
    for code in codes.split()
}

DYNAMODB_CONTEXT = Context(
    prec=38, Emin=-128, Emax=126, traps=[Clamped, Inexact, Overflow, Rounded, Underflow]
)
"""boto3's own number context (`boto3.dynamodb.types.DYNAMODB_CONTEXT`; a test keeps the two equal).

boto3 serialises every number through it and raises on any trap, so an amount is storable exactly
when this context takes it unchanged. The core cannot import boto3, hence the copy.
"""
# The service's own range is narrower than the context's: DynamoDB documents positive numbers from
# 1E-130 to 9.9999999999999999999999999999999999999E+125 (and the same negatives); boto3 would
# send 1E+126 or 1E-131 and the service would refuse them.
DYNAMODB_MIN_ADJUSTED_EXPONENT = -130
DYNAMODB_MAX_ADJUSTED_EXPONENT = 125

# Decimal strings as PayPal and the generic schema send them: no exponent, no sign tricks, no spaces.
_DECIMAL_TEXT = re.compile(r"-?[0-9]{1,64}(?:\.[0-9]{1,64})?")


# Three ASCII letters, checked before case folding: str.upper() maps the long s (U+017F) to "S"
# and the dotless i (U+0131) to "I", so "usd" look-alikes would become real codes.
_CURRENCY_TEXT = re.compile(r"[A-Za-z]{3}")


def currency_exponent(code: object) -> tuple[str, int]:
    """The upper-case ISO 4217 code and its exponent; unknown codes are a 400."""
    if (
        not isinstance(code, str)
        or not _CURRENCY_TEXT.fullmatch(code)
        or (exponent := ISO_4217_EXPONENTS.get(code.upper())) is None
    ):
        raise RejectionError(Reason.INVALID_EVENT, "currency is not an ISO 4217 code")
    return code.upper(), exponent


def storable(amount: Decimal) -> Decimal:
    """Return `amount` unchanged when DynamoDB can hold it exactly, else raise a 400."""
    if not amount.is_finite():
        raise RejectionError(Reason.AMOUNT_INVALID, "amount is not finite")
    try:
        DYNAMODB_CONTEXT.create_decimal(amount)
    except DecimalException:  # more than 38 digits, too small, or an exponent boto3 would clamp
        raise RejectionError(Reason.AMOUNT_INVALID, "amount cannot be stored exactly by DynamoDB") from None
    if amount and not DYNAMODB_MIN_ADJUSTED_EXPONENT <= amount.adjusted() <= DYNAMODB_MAX_ADJUSTED_EXPONENT:
        raise RejectionError(Reason.AMOUNT_INVALID, "amount is outside DynamoDB's number range")
    return amount


def from_minor_units(minor: object, exponent: int) -> Decimal:
    """Major units from an integer count of minor units (Stripe's `amount`), exactly."""
    if not isinstance(minor, Decimal) or not minor.is_finite() or minor != minor.to_integral_value():
        raise RejectionError(Reason.INVALID_EVENT, "amount must be an integer number of minor units")
    sign, digits, shift = minor.as_tuple()
    assert isinstance(shift, int)  # finite, checked above
    return storable(Decimal((sign, digits, shift - exponent)))


def from_decimal_text(text: object) -> Decimal:
    """A Decimal from a plain decimal string (PayPal's and the generic schema's `"12.34"`)."""
    if not isinstance(text, str) or not _DECIMAL_TEXT.fullmatch(text):
        raise RejectionError(Reason.INVALID_EVENT, "amount must be a decimal string")
    return storable(Decimal(text))


def within_currency_places(amount: Decimal, exponent: int) -> Decimal:
    """`amount` unchanged when no non-zero digit lies beyond `exponent` decimal places, else a 400.

    Trailing zeros are no precision: "1500.0" JPY is 1500. The amount is kept as written, not
    padded or trimmed: DynamoDB keeps a number's value and trims its trailing zeros anyway.
    """
    _, digits, shift = storable(amount).as_tuple()
    assert isinstance(shift, int)  # finite: storable refuses NaN and infinities
    beyond = -exponent - shift
    if beyond > 0 and any(digits[-beyond:]):
        raise RejectionError(Reason.INVALID_EVENT, "amount has more decimal places than the currency allows")
    return amount


def magnitude(amount: Decimal, direction: Direction | None) -> Decimal:
    """The amount without sign: a negative one is money out (PayPal v1 refunds and reversals), so it
    is accepted only where the direction is out; anywhere else it contradicts the mapping."""
    if amount < 0 and direction is not Direction.OUT:
        raise RejectionError(Reason.INVALID_EVENT, "amount is negative where no money goes out")
    return amount.copy_abs()


def provider_money(amount: Decimal, currency: str, exponent: int, direction: Direction | None) -> Money:
    """A provider's amount as stored: a magnitude (see `magnitude`) within the currency's places."""
    return Money(within_currency_places(magnitude(amount, direction), exponent), currency, direction)


def exact_sum(amounts: Iterable[Decimal]) -> Decimal:
    """The sum, refused rather than rounded when DynamoDB could not hold it exactly."""
    total = Decimal(0)
    try:
        for amount in amounts:
            total = DYNAMODB_CONTEXT.add(total, amount)
    except DecimalException:
        raise RejectionError(Reason.AMOUNT_INVALID, "amount cannot be stored exactly by DynamoDB") from None
    return storable(total)
