"""Outputs: everything a user, a test or another stack needs, each exported under a suffixed name."""

from __future__ import annotations

from troposphere import AWSHelperFn, Export, GetAtt, Output
from troposphere.secretsmanager import Secret

from templates.api import Api
from templates.config import KNOWN_PROVIDERS
from templates.contract import (
    ACCESS_LOG_BUCKET_NAME,
    ALARM_TOPIC_ARN,
    API_BASE_URL,
    API_ID,
    API_KEY_ID,
    AUDIT_BUCKET_NAME,
    KMS_KEY_ARN,
    OBJECTS_TABLE_ARN,
    OBJECTS_TABLE_NAME,
    PAYMENT_EVENTS_FIFO_TOPIC_ARN,
    PAYMENT_EVENTS_TOPIC_ARN,
    RECONCILIATION_TABLE_NAME,
    TRANSACTIONS_TABLE_ARN,
    TRANSACTIONS_TABLE_NAME,
    TRANSACTIONS_URL,
    WEBHOOK_SECRET_ARN,
    dead_letter_queue_arn_output,
    dead_letter_queue_url_output,
    function_name_output,
    webhook_url_output,
)
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
    providers: tuple[str, ...] = KNOWN_PROVIDERS,
) -> list[Output]:
    """`providers`: the accepted ones (the `providers` setting), each with its webhook URL output."""
    values: dict[str, tuple[AWSHelperFn, str]] = {
        API_BASE_URL: (api.base_url(), "Base URL of the API stage"),
        **{
            webhook_url_output(provider): (
                api.route_url(f"/webhooks/{provider}"),
                f"URL to register as the {provider} webhook endpoint",
            )
            for provider in providers
        },
        TRANSACTIONS_URL: (
            api.route_url("/transactions"),
            "URL internal clients POST signed transactions to",
        ),
        API_ID: (api.rest_api.ref(), "REST API id"),
        API_KEY_ID: (api.api_key.ref(), "Id of the internal clients' API key (aws apigateway get-api-key)"),
        TRANSACTIONS_TABLE_NAME: (storage.table.ref(), "DynamoDB table of transactions"),
        TRANSACTIONS_TABLE_ARN: (GetAtt(storage.table, "Arn"), "ARN of the transactions table"),
        OBJECTS_TABLE_NAME: (storage.objects_table.ref(), "DynamoDB table of each provider object's state"),
        OBJECTS_TABLE_ARN: (GetAtt(storage.objects_table, "Arn"), "ARN of the objects table"),
        RECONCILIATION_TABLE_NAME: (
            storage.reconciliation_table.ref(),
            "DynamoDB table of the reconciler's cursor per provider",
        ),
        PAYMENT_EVENTS_TOPIC_ARN: (messaging.events_topic.ref(), "SNS topic downstream systems subscribe to"),
        ALARM_TOPIC_ARN: (messaging.alarm_topic.ref(), "SNS topic the alarms publish to"),
        AUDIT_BUCKET_NAME: (storage.audit_bucket.ref(), "Bucket archiving raw payloads"),
        ACCESS_LOG_BUCKET_NAME: (
            storage.access_log_bucket.ref(),
            "Bucket receiving the audit bucket's access logs",
        ),
        KMS_KEY_ARN: (encryption.key_arn, "Customer-managed key encrypting the stack's data"),
        WEBHOOK_SECRET_ARN: (webhook_secret.ref(), "Secret holding the webhook verification material"),
    }
    for role, queue in messaging.dead_letter_queues.items():
        values[dead_letter_queue_url_output(role)] = (queue.ref(), f"Dead-letter queue of the {role}")
        values[dead_letter_queue_arn_output(role)] = (GetAtt(queue, "Arn"), f"ARN of the {role} DLQ")
    for stack_function in functions.all():
        role = stack_function.role_name
        values[function_name_output(role)] = (stack_function.function.ref(), f"The {role} function")
    outputs = [
        Output(key, Description=description, Value=value, Export=Export(names.export(key).sub()))
        for key, (value, description) in values.items()
    ]
    fifo = PAYMENT_EVENTS_FIFO_TOPIC_ARN
    outputs.append(
        Output(
            fifo,
            Condition=messaging.events_fifo_topic.Condition,
            Description="SNS FIFO topic: each object's events in order (OrderedDeliveryTopic)",
            Value=messaging.events_fifo_topic.ref(),
            Export=Export(names.export(fifo).sub()),
        )
    )
    return outputs
