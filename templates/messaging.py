"""Queues and topics: where failed events wait for replay, and where events and alarms are published."""

from __future__ import annotations

from dataclasses import dataclass

from awacs import sns
from awacs.aws import Allow, ArnLike, Condition, PolicyDocument, Principal, Statement, StringEquals
from troposphere import AWSHelperFn, GetAtt, Join, Ref, Split
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy
from troposphere.sqs import Queue, QueuePolicy

from templates.common import (
    AWS_SOLUTIONS,
    POLICY_VERSION,
    SERVERLESS,
    Exemption,
    deny_insecure_transport,
    destroyable,
    exemptions,
)
from templates.config import StackConfig
from templates.contract import ASYNCHRONOUS_ROLES
from templates.naming import StackNames
from templates.parameters import SUBSCRIBER_ACCOUNT_IDS, StackParameters

# KMS data keys are reused for this long, so SQS calls KMS at most once per 5 minutes per key.
QUEUE_DATA_KEY_REUSE_SECONDS = 300
# SQS's default, stated: it marks the queue as a dead-letter queue for Control Tower's CT.SQS.PR.1,
# which otherwise wants the queue to have a dead-letter queue of its own.
DEAD_LETTER_QUEUE_REDRIVE_ALLOW_POLICY = {"redrivePermission": "allowAll"}
SUBSCRIBER_PROTOCOL = "sqs"
"""The one protocol another account may subscribe with (docs/consumers.md)."""


@dataclass(frozen=True)
class Messaging:
    dead_letter_queues: dict[str, Queue]
    queue_policies: list[QueuePolicy]
    events_topic: Topic
    events_fifo_topic: Topic
    """Exists only when the OrderedDeliveryTopic parameter is true (its Condition)."""
    alarm_topic: Topic
    alarm_email_subscription: SubscriptionResource
    subscriber_policies: list[TopicPolicy]
    """Only when SubscriberAccountIds is not empty (each under its Condition)."""

    def dead_letter_queue_arn(self, role: str) -> GetAtt:
        return GetAtt(self.dead_letter_queues[role], "Arn")

    def resources(self) -> list[Queue | QueuePolicy | Topic | SubscriptionResource]:
        return [
            *self.dead_letter_queues.values(),
            *self.queue_policies,
            self.events_topic,
            self.events_fifo_topic,
            self.alarm_topic,
            self.alarm_email_subscription,
            *self.subscriber_policies,
        ]


def _subscriber_queue_arns() -> Split:
    """`arn:*:sqs:*:<account>:*` for each account of SubscriberAccountIds: any queue of theirs, in any
    Region (Fn::Join's delimiter must be literal, hence the wildcard partition)."""
    prefix = "arn:*:sqs:*:"
    return Split(",", Join("", [prefix, Join(f":*,{prefix}", Ref(SUBSCRIBER_ACCOUNT_IDS)), ":*"]))


def _subscriber_policy(title: str, topic: Topic, condition: str) -> TopicPolicy:
    """The allow-listed accounts may subscribe their own SQS queues to `topic`, and do nothing else.

    The policy replaces SNS's default one, which only allows this account: this account's principals
    keep what their IAM policies grant them (the notifier publishes so).
    """
    return TopicPolicy(
        title,
        Condition=condition,
        Topics=[topic.ref()],
        PolicyDocument=PolicyDocument(
            Version=POLICY_VERSION,
            Statement=[
                Statement(
                    Sid="AllowListedAccountsSubscribeTheirQueues",
                    Effect=Allow,
                    Principal=Principal("AWS", Ref(SUBSCRIBER_ACCOUNT_IDS)),
                    Action=[sns.Subscribe],
                    Resource=[topic.ref()],
                    Condition=Condition(
                        [
                            StringEquals("sns:Protocol", SUBSCRIBER_PROTOCOL),
                            ArnLike("sns:Endpoint", _subscriber_queue_arns()),
                        ]
                    ),
                ),
                deny_insecure_transport("sns", [topic.ref()]),
            ],
        ),
    )


def build_messaging(
    config: StackConfig, names: StackNames, params: StackParameters, key_arn: AWSHelperFn
) -> Messaging:
    queues = {
        role: destroyable(
            Queue(
                f"{role.capitalize()}DeadLetterQueue",
                QueueName=names.dead_letter_queue(role).sub(),
                MessageRetentionPeriod=config.dlq_retention_seconds,
                KmsMasterKeyId=key_arn,
                KmsDataKeyReusePeriodSeconds=QUEUE_DATA_KEY_REUSE_SECONDS,
                RedriveAllowPolicy=DEAD_LETTER_QUEUE_REDRIVE_ALLOW_POLICY,
                Metadata=exemptions(
                    Exemption(
                        f"This queue is the dead-letter queue of the {role} function: Lambda's on-failure "
                        "destination sends it the invocation records (cdk-nag recognises only a queue's "
                        "RedrivePolicy); `tapstack replay` re-drives them, and a queue behind it would "
                        "have no reader.",
                        cdk_nag=(f"{AWS_SOLUTIONS}-SQS3", f"{SERVERLESS}-SQSRedrivePolicy"),
                    )
                ),
            )
        )
        for role in ASYNCHRONOUS_ROLES
    }
    policies = [
        QueuePolicy(
            f"{queue.title}Policy",
            Queues=[queue.ref()],
            PolicyDocument=PolicyDocument(
                Version=POLICY_VERSION,
                Statement=[deny_insecure_transport("sqs", [GetAtt(queue, "Arn")])],
            ),
        )
        for queue in queues.values()
    ]
    events_topic = Topic("PaymentEventsTopic", TopicName=names.events_topic.sub(), KmsMasterKeyId=key_arn)
    events_fifo_topic = Topic(
        "PaymentEventsFifoTopic",
        Condition=params.has_ordered_delivery_topic,
        TopicName=names.events_fifo_topic.sub(),
        FifoTopic=True,
        # The notifier sets each message's deduplication id (the transaction id): two events with the
        # same body are still two events.
        ContentBasedDeduplication=False,
        KmsMasterKeyId=key_arn,
    )
    alarm_topic = Topic("AlarmTopic", TopicName=names.alarm_topic.sub(), KmsMasterKeyId=key_arn)
    alarm_email_subscription = SubscriptionResource(
        "AlarmEmailSubscription",
        Condition="HasAlarmEmail",
        TopicArn=alarm_topic.ref(),
        Protocol="email",
        Endpoint=Ref("AlarmEmail"),
        Metadata=exemptions(
            Exemption(
                "An alarm e-mail SNS cannot deliver would wait unread in a queue as well: the alarm's "
                "state and history stay in CloudWatch, whatever happens to the e-mail.",
                cdk_nag=(f"{SERVERLESS}-SNSRedrivePolicy",),
            )
        ),
    )
    subscriber_policies = [
        _subscriber_policy("PaymentEventsTopicPolicy", events_topic, params.has_subscriber_accounts),
        _subscriber_policy(
            "PaymentEventsFifoTopicPolicy", events_fifo_topic, params.has_ordered_subscriber_accounts
        ),
    ]
    return Messaging(
        dead_letter_queues=queues,
        queue_policies=policies,
        events_topic=events_topic,
        events_fifo_topic=events_fifo_topic,
        alarm_topic=alarm_topic,
        alarm_email_subscription=alarm_email_subscription,
        subscriber_policies=subscriber_policies,
    )
