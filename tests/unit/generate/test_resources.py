"""Unit tests of the resource modules: each builder on its own, with the resources it depends on."""

from __future__ import annotations

import json
from typing import Any

from troposphere import GetAtt, Template
from troposphere.cloudwatch import Alarm
from troposphere.logs import MetricFilter

from handlers import processor, reconciler
from templates.api import ACCESS_LOG_FORMAT, build_api
from templates.config import StackConfig
from templates.contract import API_KEY_ID, RECONCILED_PROVIDERS, RECONCILER_METRICS
from templates.encryption import build_encryption
from templates.functions import build_functions
from templates.messaging import build_messaging
from templates.monitoring import build_alarms, build_sections
from templates.naming import StackNames
from templates.outputs import build_outputs
from templates.parameters import build_parameters
from templates.storage import build_storage
from templates.webhook_secret import GENERATED_KEY, PLACEHOLDER_MATERIAL, build_webhook_secret

CONFIG = StackConfig()
NAMES = StackNames(prefix="tapstack")
PARAMS = build_parameters(CONFIG, NAMES)
KEY_ARN = GetAtt("StackKey", "Arn")


def as_dict(resource: Any) -> dict[str, Any]:
    rendered: dict[str, Any] = json.loads(json.dumps(resource.to_dict()))
    return rendered


def test_key_policy_scopes_logs_to_this_stacks_log_groups() -> None:
    encryption = build_encryption(NAMES, ["/aws/lambda/a-${EnvironmentSuffix}"])
    key = as_dict(encryption.key)
    statements = {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    logs = statements["CloudWatchLogsEncryptsThisStacksLogGroups"]
    condition = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    log_group_arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    assert condition == [{"Fn::Sub": log_group_arn + "/aws/lambda/a-${EnvironmentSuffix}"}]
    services = statements["AlarmsAndSnsUseKeyForThisAccount"]
    assert services["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}}
    assert key["Properties"]["EnableKeyRotation"] is True
    assert as_dict(encryption.alias)["Properties"]["TargetKeyId"] == {"Ref": "StackKey"}


def test_buckets_are_private_versioned_tls_only_and_logged() -> None:
    storage = build_storage(NAMES, PARAMS, KEY_ARN)
    for bucket in (storage.audit_bucket, storage.access_log_bucket):
        properties = as_dict(bucket)["Properties"]
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
        assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        # Both are kept for the audit retention, and nothing moves to another storage class.
        lifecycle = properties["LifecycleConfiguration"]
        assert lifecycle["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
        (rule,) = lifecycle["Rules"]
        assert rule["ExpirationInDays"] == {"Ref": "AuditRetentionDays"}
        assert rule["NoncurrentVersionExpiration"] == {
            "NoncurrentDays": {"Ref": "AuditNoncurrentRetentionDays"}
        }
        assert not {"Transitions", "NoncurrentVersionTransitions"} & rule.keys()
    audit = as_dict(storage.audit_bucket)["Properties"]
    assert audit["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogBucket"}
    # Server access logs can only be delivered to an SSE-S3 bucket.
    log_rule = as_dict(storage.access_log_bucket)["Properties"]["BucketEncryption"]
    assert log_rule["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    for policy in (storage.audit_bucket_policy, storage.access_log_bucket_policy):
        deny = as_dict(policy)["Properties"]["PolicyDocument"]["Statement"][0]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_queues_and_topics() -> None:
    messaging = build_messaging(CONFIG, NAMES, PARAMS, KEY_ARN)
    assert sorted(messaging.dead_letter_queues) == ["notifier", "processor", "reconciler"]
    for policy in messaging.queue_policies:
        statement = as_dict(policy)["Properties"]["PolicyDocument"]["Statement"][0]
        assert statement["Action"] == ["sqs:*"]
        assert statement["Effect"] == "Deny"
    subscription = as_dict(messaging.alarm_email_subscription)
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Protocol"] == "email"
    fifo = as_dict(messaging.events_fifo_topic)
    assert fifo["Condition"] == PARAMS.has_ordered_delivery_topic
    assert (fifo["Properties"]["FifoTopic"], fifo["Properties"]["ContentBasedDeduplication"]) == (True, False)
    assert fifo["Properties"]["TopicName"] == NAMES.events_fifo_topic.sub().to_dict()


def test_secret_is_generated_with_placeholders_for_provider_material() -> None:
    secret = as_dict(build_webhook_secret(NAMES, KEY_ARN))["Properties"]
    generated = secret["GenerateSecretString"]
    assert json.loads(generated["SecretStringTemplate"]) == PLACEHOLDER_MATERIAL
    assert generated["GenerateStringKey"] == GENERATED_KEY
    assert generated["PasswordLength"] >= 32


def _stack() -> dict[str, Any]:
    encryption = build_encryption(NAMES, [])
    storage = build_storage(NAMES, PARAMS, encryption.key_arn)
    messaging = build_messaging(CONFIG, NAMES, PARAMS, encryption.key_arn)
    secret = build_webhook_secret(NAMES, encryption.key_arn)
    functions = build_functions(CONFIG, NAMES, PARAMS, encryption.key_arn, storage, messaging, secret)
    api = build_api(CONFIG, NAMES, PARAMS, encryption.key_arn, functions.receiver.arn)
    sections = build_sections(NAMES, PARAMS, functions, messaging, api, waf_metrics=())
    return {
        "encryption": encryption,
        "storage": storage,
        "messaging": messaging,
        "secret": secret,
        "functions": functions,
        "api": api,
        "alarms": build_alarms(NAMES, sections, functions, messaging),
        "outputs": build_outputs(NAMES, encryption, storage, messaging, functions, api, secret),
    }


def test_functions_environment_matches_what_handlers_read() -> None:
    functions = _stack()["functions"]
    variables = {
        f.role_name: set(as_dict(f.function)["Properties"]["Environment"]["Variables"])
        for f in functions.all()
    }
    common = {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
        "FUNCTION_TIMEOUT_SECONDS",
    }
    assert variables["receiver"] == common | {
        "PROCESSOR_FUNCTION_NAME",
        "WEBHOOK_SECRET_ARN",
        "SECRET_CACHE_TTL_SECONDS",
        "ACCEPTED_PROVIDERS",
        "ACCEPT_PAYPAL_SIMULATOR",
    }
    assert variables["processor"] == common | {
        "TRANSACTIONS_TABLE_NAME",
        "OBJECTS_TABLE_NAME",
        "AUDIT_BUCKET_NAME",
    }
    assert variables["notifier"] == common | {
        "TRANSACTIONS_TABLE_NAME",
        "EVENTS_TOPIC_ARN",
        "EVENTS_FIFO_TOPIC_ARN",
    }
    assert functions.receiver.invoke_config is None


def test_api_routes_auth_and_deployment() -> None:
    api = _stack()["api"]
    methods = {m.title: as_dict(m)["Properties"] for m in api.methods}
    assert methods["ApiWebhookPostMethod"]["ApiKeyRequired"] is False
    assert methods["ApiTransactionsPostMethod"]["ApiKeyRequired"] is True
    assert methods["ApiWebhookPostMethod"]["RequestParameters"] == {"method.request.path.provider": True}
    for properties in methods.values():
        assert properties["Integration"]["Type"] == "AWS_PROXY"
    deployment = as_dict(api.deployment)
    assert sorted(deployment["DependsOn"]) == sorted(methods)
    assert api.deployment.title.startswith("ApiDeployment")
    stage = as_dict(api.stage)["Properties"]
    assert stage["TracingEnabled"] is True
    assert stage["MethodSettings"][0]["DataTraceEnabled"] is False
    assert stage["MethodSettings"][0]["LoggingLevel"] == {"Ref": "ApiExecutionLogging"}
    assert set(json.loads(ACCESS_LOG_FORMAT)) >= {"requestId", "status", "sourceIp"}
    permission = as_dict(api.invoke_permission)["Properties"]
    assert permission["SourceArn"]["Fn::Sub"][1] == {"Api": {"Ref": "Api"}}


def test_deployment_id_changes_when_a_method_changes() -> None:
    config = StackConfig()
    first = build_api(config, NAMES, PARAMS, KEY_ARN, GetAtt("ReceiverFunction", "Arn")).deployment.title
    again = build_api(config, NAMES, PARAMS, KEY_ARN, GetAtt("ReceiverFunction", "Arn")).deployment.title
    other = build_api(config, NAMES, PARAMS, KEY_ARN, GetAtt("OtherFunction", "Arn")).deployment.title
    assert first == again
    assert first != other


def test_alarms_cover_dead_letters_errors_throttles_5xx_and_quarantine() -> None:
    alarms = {a.title: as_dict(a)["Properties"] for a in _stack()["alarms"] if isinstance(a, Alarm)}
    assert set(alarms) == {
        "QuarantinedAlarm",
        "ProcessorDeadLettersAlarm",
        "NotifierDeadLettersAlarm",
        "ReconcilerDeadLettersAlarm",
        *(
            f"{role}{kind}Alarm"
            for role in ("Receiver", "Processor", "Notifier", "Reconciler")
            for kind in ("Errors", "Throttles")
        ),
        "Api5xxAlarm",
        *(
            f"{provider}Reconcile{kind}Alarm"
            for provider in ("Stripe", "Paypal")
            for kind in ("Recovered", "Failures", "Lag", "BeyondRetention")
        ),
    }
    for title, properties in alarms.items():
        assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert properties["Threshold"] == (15 * 86400 if title.endswith("ReconcileLagAlarm") else 0)
        assert properties["ComparisonOperator"] == "GreaterThanThreshold"


def test_reconciler_alarms_watch_its_metrics_per_provider_in_the_stack_namespace() -> None:
    alarms = {a.title: as_dict(a)["Properties"] for a in _stack()["alarms"] if isinstance(a, Alarm)}
    for provider in RECONCILED_PROVIDERS:
        recovered = alarms[f"{provider.capitalize()}ReconcileRecoveredAlarm"]
        assert recovered["Namespace"] == {"Fn::Sub": "TapStack/${AWS::StackName}"}
        assert recovered["MetricName"] == "Missing"
        # As Powertools writes them: the metric's own dimension and the function's service name.
        assert recovered["Dimensions"] == [
            {"Name": "provider", "Value": provider},
            {"Name": "service", "Value": "reconciler"},
        ]
        lag = alarms[f"{provider.capitalize()}ReconcileLagAlarm"]
        assert (lag["MetricName"], lag["Statistic"]) == ("CursorLagSeconds", "Maximum")
    watched = {properties["MetricName"] for title, properties in alarms.items() if "Reconcile" in title}
    watched -= {"Errors", "Throttles", "ApproximateNumberOfMessagesVisible"}  # the function's, as every one's
    assert (
        watched
        <= set(RECONCILER_METRICS)
        == set(reconciler.METRICS)
        | {
            reconciler.LAG_METRIC,
            reconciler.BEYOND_RETENTION_METRIC,
        }
    )


def test_dead_letter_alarms_count_each_waiting_failed_event_once() -> None:
    """One message per failed event (the on-failure record only), read as the queue depth's Maximum in
    each minute: the datapoint is the number of failed events waiting, never a sum of samples."""
    stack = _stack()
    alarms = {a.title: as_dict(a)["Properties"] for a in stack["alarms"] if isinstance(a, Alarm)}
    for role in stack["messaging"].dead_letter_queues:
        alarm = alarms[f"{role.capitalize()}DeadLettersAlarm"]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Maximum", 60, 1)
        queue_name = {"Fn::GetAtt": [f"{role.capitalize()}DeadLetterQueue", "QueueName"]}
        assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": queue_name}]
    for stack_function in stack["functions"].all():
        assert "DeadLetterConfig" not in as_dict(stack_function.function)["Properties"]


def test_the_quarantine_alarm_counts_what_the_processor_logs_for_this_stack_alone() -> None:
    """The metric filter matches the processor's own log line, in the processor's log group only."""
    (metric_filter,) = [as_dict(r)["Properties"] for r in _stack()["alarms"] if isinstance(r, MetricFilter)]
    assert metric_filter["LogGroupName"] == {"Ref": "ProcessorLogGroup"}
    assert metric_filter["FilterPattern"] == f'{{ $.message = "{processor.QUARANTINED.lower()}" }}'
    transformation = metric_filter["MetricTransformations"][0]
    alarm = as_dict(next(a for a in _stack()["alarms"] if a.title == "QuarantinedAlarm"))["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        transformation["MetricNamespace"],
        transformation["MetricName"],
    )
    assert "${AWS::StackName}" in alarm["Namespace"]["Fn::Sub"]


def test_outputs_render_into_a_template() -> None:
    outputs = _stack()["outputs"]
    template = Template()
    template.add_output(outputs)
    rendered = template.to_dict()["Outputs"]
    assert rendered[API_KEY_ID]["Value"] == {"Ref": "ApiKey"}
    assert rendered[API_KEY_ID]["Export"]["Name"] == {"Fn::Sub": "tapstack-${EnvironmentSuffix}-ApiKeyId"}
