"""The provider API credentials of the webhook secret: parsed current first, never shown."""

import json
import logging
from typing import Any

import pytest

from handlers.core.secrets import ApiCredentials, PaypalApiCredential, VerificationMaterial

STRIPE_KEYS = ["rk_live_current0000000000", "rk_live_previous000000000"]
PAYPAL = [
    {"client_id": "AppCurrent", "client_secret": "EL-current-secret-0000"},
    {"client_id": "AppPrevious", "client_secret": "EL-previous-secret-000"},
]


def secret_text(**overrides: Any) -> str:
    document = {
        "stripe_signing_secrets": ["whsec_a"],
        "paypal_webhook_id": "WH-1",
        "internal_hmac_key": "current",
        "stripe_api_keys": STRIPE_KEYS,
        "paypal_api_credentials": PAYPAL,
    }
    return json.dumps(document | overrides)


def test_credentials_are_read_current_first() -> None:
    credentials = ApiCredentials.from_secret_string(secret_text())
    assert credentials.stripe_api_keys == tuple(STRIPE_KEYS)
    assert credentials.paypal_api_credentials == (
        PaypalApiCredential("AppCurrent", "EL-current-secret-0000"),
        PaypalApiCredential("AppPrevious", "EL-previous-secret-000"),
    )


def test_the_placeholders_mean_no_credentials() -> None:
    credentials = ApiCredentials.from_secret_string(
        secret_text(stripe_api_keys=[""], paypal_api_credentials=[{"client_id": "", "client_secret": ""}])
    )
    assert credentials == ApiCredentials((), ())
    assert ApiCredentials.from_secret_string("{}") == ApiCredentials((), ())


@pytest.mark.parametrize(
    "overrides",
    [
        {"stripe_api_keys": "rk_live_current0000000000"},
        {"stripe_api_keys": [1]},
        {"paypal_api_credentials": {"client_id": "AppCurrent"}},
        {"paypal_api_credentials": [{"client_id": "AppCurrent"}]},
        {"paypal_api_credentials": [{"client_id": "AppCurrent", "client_secret": 5}]},
        {"paypal_api_credentials": [PAYPAL[0] | {"scope": "x"}]},
    ],
)
def test_malformed_credentials_are_refused_without_their_values(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be a list") as caught:
        ApiCredentials.from_secret_string(secret_text(**overrides))
    assert "rk_live" not in str(caught.value)
    assert "EL-" not in str(caught.value)
    assert "AppCurrent" not in str(caught.value)


def test_no_credential_reaches_a_rendered_log_line_or_exception(caplog: pytest.LogCaptureFixture) -> None:
    text = secret_text()
    credentials = ApiCredentials.from_secret_string(text)
    material = VerificationMaterial.from_secret_string(text)
    logger = logging.getLogger("tapstack.test")
    with caplog.at_level(logging.INFO):
        logger.info("loaded %r and %s and %r", credentials, credentials, material)
        logger.info("paypal %r", credentials.paypal_api_credentials)
        try:
            raise RuntimeError(f"while using {credentials!r}")
        except RuntimeError:
            logger.exception("failed")
    rendered = caplog.text
    for value in [*STRIPE_KEYS, *(entry["client_secret"] for entry in PAYPAL), "whsec_a"]:
        assert value not in rendered
    assert "ApiCredentials(" in rendered  # the log line was rendered, only without values
