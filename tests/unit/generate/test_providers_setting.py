"""The `providers` setting decides everything that names a provider: the receiver's accepted routes,
the URL outputs, the secret's placeholders and the signature headers the WAF keeps out of its logs."""

import json

import pytest

from templates.config import ConfigError, config_from_mapping
from templates.contract import webhook_url_output
from tests.support.report import built_template


def test_a_stack_of_two_providers_names_only_those() -> None:
    template = built_template(providers="stripe,square")
    resources = template["Resources"]
    variables = next(
        resource["Properties"]["Environment"]["Variables"]
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::Function"
        and "PROCESSOR_FUNCTION_NAME" in resource["Properties"]["Environment"]["Variables"]
    )
    assert variables["ACCEPTED_PROVIDERS"] == "stripe,square"
    urls = {key for key in template["Outputs"] if key.endswith("WebhookUrl")}
    assert urls == {webhook_url_output("stripe"), webhook_url_output("square")}
    secret = resources["WebhookSecret"]["Properties"]["GenerateSecretString"]["SecretStringTemplate"]
    placeholders = json.loads(secret)
    assert placeholders["square"] == {"signing_keys": [], "notification_url": ""}
    assert not {"github", "gocardless", "adyen"} & set(placeholders)
    redacted = {
        field["SingleHeader"]["Name"] for field in resources["WafLogging"]["Properties"]["RedactedFields"]
    }
    assert "x-square-hmacsha256-signature" in redacted
    assert "x-hub-signature-256" not in redacted


@pytest.mark.parametrize("value", ["", "stripe,stripe", "stripe,worldpay", "stripe, square"])
def test_the_setting_names_known_providers_once_each(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_mapping({"providers": value})
    assert "providers" in str(refused.value)
