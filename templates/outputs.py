"""Outputs: everything a user, a test or another stack needs, each exported under a suffixed name."""

from __future__ import annotations

from troposphere import AWSHelperFn, Export, GetAtt, Output
from troposphere.secretsmanager import Secret

from templates.api import WEBHOOK_PROVIDERS, Api
from templates.encryption import Encryption
from templates.functions import Functions
from templates.messaging import Messaging
from templates.naming import StackNames
from templates.storage import Storage


def build_outputs(
    names: StackNames,
    encryption: Encryption,
    storage: Storage,
    messaging: Messaging,
    functions: Functions,
    api: Api,
    webhook_secret: Secret,
) -> list[Output]:
    values: dict[str, tuple[AWSHelperFn, str]] = {
        "ApiBaseUrl": (api.base_url(), "Base URL of the API stage"),
        **{
            f"{provider.capitalize()}WebhookUrl": (
                api.route_url(f"/webhooks/{provider}"),
                f"URL to register as the {provider} webhook endpoint",
            )
            for provider in WEBHOOK_PROVIDERS
        },
        "TransactionsUrl": (
            api.route_url("/transactions"),
            "URL internal clients POST signed transactions to",
        ),
        "ApiId": (api.rest_api.ref(), "REST API id"),
        "ApiKeyId": (api.api_key.ref(), "Id of the internal clients' API key (aws apigateway get-api-key)"),
        "TransactionsTableName": (storage.table.ref(), "DynamoDB table of transactions"),
        "TransactionsTableArn": (GetAtt(storage.table, "Arn"), "ARN of the transactions table"),
        "PaymentEventsTopicArn": (messaging.events_topic.ref(), "SNS topic downstream systems subscribe to"),
        "AlarmTopicArn": (messaging.alarm_topic.ref(), "SNS topic the alarms publish to"),
        "AuditBucketName": (storage.audit_bucket.ref(), "Bucket archiving raw payloads"),
        "AccessLogBucketName": (
            storage.access_log_bucket.ref(),
            "Bucket receiving the audit bucket's access logs",
        ),
        "KmsKeyArn": (encryption.key_arn, "Customer-managed key encrypting the stack's data"),
        "WebhookSecretArn": (webhook_secret.ref(), "Secret holding the webhook verification material"),
    }
    for role, queue in messaging.dead_letter_queues.items():
        values[f"{role.capitalize()}DeadLetterQueueUrl"] = (queue.ref(), f"Dead-letter queue of the {role}")
        values[f"{role.capitalize()}DeadLetterQueueArn"] = (GetAtt(queue, "Arn"), f"ARN of the {role} DLQ")
    for stack_function in functions.all():
        role = stack_function.role_name
        values[f"{role.capitalize()}FunctionName"] = (stack_function.function.ref(), f"The {role} function")
    return [
        Output(key, Description=description, Value=value, Export=Export(names.export(key).sub()))
        for key, (value, description) in values.items()
    ]
