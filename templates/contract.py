"""The generated template's contract with everything that reads it: output keys, metadata keys, the
functions' roles and the suffix parameter. Free of troposphere, so the commands and the tests read a
deployed stack with the same names the generator writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SUFFIX_PARAMETER = "EnvironmentSuffix"
AUDIT_OBJECT_LOCK_MODE = "AuditObjectLockMode"
PAYPAL_SIMULATOR_PARAMETER = "AcceptPayPalSimulator"
"""`true` on a developer stack accepts PayPal's webhook simulator (signed under the literal webhook id
`WEBHOOK_ID`), storing its events marked `simulated`; only a development parameter file may set it."""
COMPLIANCE_RETENTION_TAG = {"Key": "tapstack:compliance-retention", "Value": "configured"}
"""The stack tag deploy adds once AuditObjectLockMode is COMPLIANCE and keeps afterwards: versions stored
under COMPLIANCE stay locked when the mode changes, so destroy scans retention where the tag is."""

# The template's Metadata sections: the settings it was generated with, and the Control Tower gaps.
SETTINGS_METADATA = "TapStack::Settings"
CONTROL_TOWER_METADATA = "TapStack::ControlTower"
NAME_PREFIX_SETTING = "name_prefix"

# The functions, by role: the receiver answers API Gateway; the processor, the notifier and the
# reconciler (run by a schedule) run asynchronously, each with a dead-letter queue.
RECEIVER = "receiver"
PROCESSOR = "processor"
NOTIFIER = "notifier"
RECONCILER = "reconciler"
ROLES = (RECEIVER, PROCESSOR, NOTIFIER, RECONCILER)
ASYNCHRONOUS_ROLES = (PROCESSOR, NOTIFIER, RECONCILER)
RECONCILED_PROVIDERS = ("stripe", "paypal")
"""The providers whose event log the reconciler lists (handlers.reconciler.PROVIDERS)."""
PROVIDER_EVENT_RETENTION_DAYS = {"stripe": 30, "paypal": 30}
"""How far back each provider's event log reaches (Stripe documents 30 days; PayPal documents none, its
dashboard shows 30): the reconciler's horizon (handlers.providers.*_events.RETENTION_SECONDS)."""
RECONCILER_METRICS = {
    "Missing": "events the provider's log held that no delivery brought (recovered, when applied)",
    "Failures": "runs the provider's event log failed (5xx, refused credentials, throttled past the budget)",
    "Listed": "events listed",
    "Ingested": "events handed to the processor",
    "CursorLagSeconds": "how far behind now the cursor is",
    "BeyondRetentionSeconds": "how much of the span to reconcile was past the provider's retention",
}
"""The reconciler's metrics per provider (dimensions provider and service), in the stack's namespace."""
RECONCILE_RATE = "ReconcileRate"
RECONCILE_OFF = "off"
"""The ReconcileRate value that disables the reconciler's schedule."""

# The transactions table's index by receipt time (templates/storage.py), read by `tapstack republish`;
# the processor writes its keys (src/handlers/core/windows.py, the same names: the handlers cannot
# import this package, and a test holds the two equal).
RECEIVED_INDEX = "ByReceivedTime"
RECEIVED_DAY_ATTRIBUTE = "received_day"
RECEIVED_ORDER_ATTRIBUTE = "received_order"
RECEIVED_INDEX_PROJECTED = ("kind",)
"""Beside the keys (the index's and the table's): what the command filters on before reading items."""

# Output keys.
API_BASE_URL = "ApiBaseUrl"
TRANSACTIONS_URL = "TransactionsUrl"
API_ID = "ApiId"
API_KEY_ID = "ApiKeyId"
TRANSACTIONS_TABLE_NAME = "TransactionsTableName"
TRANSACTIONS_TABLE_ARN = "TransactionsTableArn"
OBJECTS_TABLE_NAME = "ObjectsTableName"
OBJECTS_TABLE_ARN = "ObjectsTableArn"
RECONCILIATION_TABLE_NAME = "ReconciliationTableName"
PAYMENT_EVENTS_TOPIC_ARN = "PaymentEventsTopicArn"
PAYMENT_EVENTS_FIFO_TOPIC_ARN = "PaymentEventsFifoTopicArn"
"""Only when the OrderedDeliveryTopic parameter is true."""
ALARM_TOPIC_ARN = "AlarmTopicArn"
AUDIT_BUCKET_NAME = "AuditBucketName"
ACCESS_LOG_BUCKET_NAME = "AccessLogBucketName"
KMS_KEY_ARN = "KmsKeyArn"
WEBHOOK_SECRET_ARN = "WebhookSecretArn"  # noqa: S105 (an output key, not a secret)
ARTIFACT_BUCKET_NAME = "ArtifactBucketName"
"""The bootstrap stack's one output."""


def webhook_url_output(provider: str) -> str:
    """`StripeWebhookUrl`, `CheckoutComWebhookUrl`: the URL to register with the provider."""
    return "".join(part.capitalize() for part in provider.split("-")) + "WebhookUrl"


def function_name_output(role: str) -> str:
    """`ProcessorFunctionName`."""
    return f"{role.capitalize()}FunctionName"


def dead_letter_queue_url_output(role: str) -> str:
    """`ProcessorDeadLetterQueueUrl`."""
    return f"{role.capitalize()}DeadLetterQueueUrl"


def dead_letter_queue_arn_output(role: str) -> str:
    """`ProcessorDeadLetterQueueArn`."""
    return f"{role.capitalize()}DeadLetterQueueArn"


def name_prefix_of(template: Mapping[str, Any]) -> str:
    """The name prefix a generated template (as JSON) was built with, as its settings record it.

    LookupError for a template without them (not one `tapstack generate` wrote).
    """
    metadata = template.get("Metadata")
    settings = metadata.get(SETTINGS_METADATA) if isinstance(metadata, Mapping) else None
    prefix = settings.get(NAME_PREFIX_SETTING) if isinstance(settings, Mapping) else None
    if not isinstance(prefix, str) or not prefix:
        raise LookupError(
            f"not a generated TapStack template: its Metadata has no {SETTINGS_METADATA} "
            f"{NAME_PREFIX_SETTING}; generate it with `tapstack generate`"
        )
    return prefix
