"""Exact money: ISO 4217 exponents and the range of numbers DynamoDB can store.

Amounts are `Decimal` built from the JSON text and never pass through `float`. Arithmetic goes
through `Decimal.as_tuple()` because the default context (28 digits) would round wider amounts.
"""

import re
from decimal import Decimal

from handlers.core.errors import Reason, RejectionError

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

# DynamoDB numbers: at most 38 significant digits, magnitude between 1E-130 and 9.99...E+125.
DYNAMODB_MAX_DIGITS = 38
DYNAMODB_MIN_ADJUSTED_EXPONENT = -130
DYNAMODB_MAX_ADJUSTED_EXPONENT = 125

# Decimal strings as PayPal and the generic schema send them: no exponent, no sign tricks, no spaces.
_DECIMAL_TEXT = re.compile(r"-?[0-9]{1,64}(?:\.[0-9]{1,64})?")


def currency_exponent(code: object) -> tuple[str, int]:
    """The upper-case ISO 4217 code and its exponent; unknown codes are a 400."""
    if not isinstance(code, str) or (exponent := ISO_4217_EXPONENTS.get(code.upper())) is None:
        raise RejectionError(Reason.INVALID_EVENT, "currency is not an ISO 4217 code")
    return code.upper(), exponent


def storable(amount: Decimal) -> Decimal:
    """Return `amount` unchanged when DynamoDB can hold it exactly, else raise a 400."""
    if not amount.is_finite():
        raise RejectionError(Reason.AMOUNT_INVALID, "amount is not finite")
    digits = amount.as_tuple().digits
    if len(digits) > DYNAMODB_MAX_DIGITS:
        raise RejectionError(Reason.AMOUNT_INVALID, "amount has more than 38 significant digits")
    if amount and not (DYNAMODB_MIN_ADJUSTED_EXPONENT <= amount.adjusted() <= DYNAMODB_MAX_ADJUSTED_EXPONENT):
        raise RejectionError(Reason.AMOUNT_INVALID, "amount is outside DynamoDB's number range")
    return amount


def from_minor_units(minor: object, exponent: int) -> Decimal:
    """Major units from an integer count of minor units (Stripe's `amount`), exactly."""
    if not isinstance(minor, Decimal) or not minor.is_finite() or minor != minor.to_integral_value():
        raise RejectionError(Reason.INVALID_EVENT, "amount must be an integer number of minor units")
    sign, digits, shift = minor.as_tuple()
    assert isinstance(shift, int)  # finite, checked above
    return storable(Decimal((sign, digits, shift - exponent)))


def from_decimal_text(text: object, max_places: int | None = None) -> Decimal:
    """A Decimal from a plain decimal string, optionally limited to the currency's decimal places."""
    if not isinstance(text, str) or not _DECIMAL_TEXT.fullmatch(text):
        raise RejectionError(Reason.INVALID_EVENT, "amount must be a decimal string")
    amount = Decimal(text)
    if max_places is not None and -int(amount.as_tuple().exponent) > max_places:
        raise RejectionError(Reason.INVALID_EVENT, "amount has more decimal places than the currency allows")
    return storable(amount)
