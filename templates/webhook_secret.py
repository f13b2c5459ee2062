"""The Secrets Manager secret holding each provider's webhook verification material."""

from __future__ import annotations

import json

from troposphere import AWSHelperFn
from troposphere.secretsmanager import GenerateSecretString, Secret

from handlers.providers.catalogue import CATALOGUE
from templates.common import (
    AWS_SOLUTIONS,
    HIPAA_SECURITY,
    NIST_800_53_R5,
    Exemption,
    destroyable,
    exemptions,
    nag_rules,
)
from templates.naming import StackNames

# The receiver reads the verification keys (src/handlers/core/secrets.py VerificationMaterial);
# registration and reconciliation read the provider API credentials (ApiCredentials). Operators put the
# provider API credentials in after the first deploy, and `tapstack register` writes the Stripe signing
# secret and PayPal webhook id; the internal HMAC key is generated so it is never a known value.
GENERATED_KEY = "internal_hmac_key"
PLACEHOLDER_MATERIAL: dict[str, object] = {
    "stripe_signing_secrets": [],
    "paypal_webhook_id": "",
    "internal_hmac_previous_keys": [],
    "stripe_api_keys": [],
    "paypal_api_credentials": [],
}
GENERATED_KEY_LENGTH = 64


def placeholder_material(providers: tuple[str, ...]) -> dict[str, object]:
    """The secret's first value: the built-in keys, and each accepted catalogue provider's placeholder."""
    return PLACEHOLDER_MATERIAL | {
        name: dict(CATALOGUE[name].placeholder) for name in providers if name in CATALOGUE
    }


def build_webhook_secret(names: StackNames, key_arn: AWSHelperFn, providers: tuple[str, ...] = ()) -> Secret:
    """`providers`: the accepted ones (the `providers` setting); the catalogue's get a placeholder object."""
    return destroyable(
        Secret(
            "WebhookSecret",
            Name=names.webhook_secret.sub(),
            Description="Webhook verification material per provider; replace the placeholders after deploy.",
            KmsKeyId=key_arn,
            GenerateSecretString=GenerateSecretString(
                SecretStringTemplate=json.dumps(placeholder_material(providers), sort_keys=True),
                GenerateStringKey=GENERATED_KEY,
                PasswordLength=GENERATED_KEY_LENGTH,
                ExcludePunctuation=True,
            ),
            Metadata=exemptions(
                Exemption(
                    "The providers issue this material: a Stripe signing secret or a PayPal webhook id "
                    "is replaced with an overlap by `tapstack register --rotate` and the provider API "
                    "keys are rolled in the providers' dashboards, so a rotation function here could "
                    "not change them. The internal HMAC key is rotated by hand with an overlap "
                    "(internal_hmac_previous_keys), since each client must switch to the new key.",
                    cdk_nag=(
                        f"{AWS_SOLUTIONS}-SMG4",
                        *nag_rules("SecretsManagerRotationEnabled", NIST_800_53_R5, HIPAA_SECURITY),
                    ),
                )
            ),
        )
    )
