"""The reconciler's schedule: EventBridge Scheduler invokes the function at the ReconcileRate, or never
(`off`: the schedule is kept, DISABLED, so that turning it back on is a parameter change only).

The schedule is encrypted with the stack's key and runs as a role allowed to invoke this function alone
(and to decrypt the schedule with that key). Scheduler invokes asynchronously: the function's own
EventInvokeConfig retries it and sends its failures to its dead-letter queue. A run that does not finish
leaves its cursor for the next, so a missed run only delays reconciliation by one rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import awslambda, kms, sts
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from troposphere import AWSHelperFn, GetAtt, If, Ref, Sub
from troposphere.iam import Policy, Role
from troposphere.scheduler import FlexibleTimeWindow, RetryPolicy, Schedule, Target

from templates.common import POLICY_VERSION, exemptions
from templates.contract import RECONCILE_RATE
from templates.functions import INLINE_POLICIES, StackFunction
from templates.naming import StackNames
from templates.parameters import StackParameters

DISABLED_SCHEDULE_EXPRESSION = "rate(1 day)"
"""What a DISABLED schedule still needs as its expression (it never fires)."""
MAXIMUM_EVENT_AGE_SECONDS = 3600
"""Scheduler stops retrying an invoke Lambda refused after an hour: the next run comes sooner anyway."""


@dataclass(frozen=True)
class Scheduling:
    role: Role
    schedule: Schedule

    def resources(self) -> list[Role | Schedule]:
        return [self.role, self.schedule]


def build_scheduling(
    names: StackNames, params: StackParameters, key_arn: AWSHelperFn, reconciler: StackFunction
) -> Scheduling:
    role = Role(
        "SchedulerRole",
        RoleName=names.scheduler_role.sub(),
        AssumeRolePolicyDocument=PolicyDocument(
            Version=POLICY_VERSION,
            Statement=[
                Statement(
                    Effect=Allow,
                    Principal=Principal("Service", "scheduler.amazonaws.com"),
                    Action=[sts.AssumeRole],
                    # Only this account's schedules may assume it (the confused-deputy guard AWS advises).
                    Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
                )
            ],
        ),
        Policies=[
            Policy(
                PolicyName="scheduler-invokes-the-reconciler",
                PolicyDocument=PolicyDocument(
                    Version=POLICY_VERSION,
                    Statement=[
                        Statement(
                            Sid="InvokeTheReconcilerOnly",
                            Effect=Allow,
                            Action=[awslambda.InvokeFunction],
                            Resource=[reconciler.arn],
                        ),
                        Statement(
                            Sid="DecryptTheScheduleWithTheStackKey",
                            Effect=Allow,
                            Action=[kms.Decrypt],
                            Resource=[key_arn],
                        ),
                    ],
                ),
            )
        ],
        Metadata=exemptions(INLINE_POLICIES),
    )
    schedule = Schedule(
        "ReconcileSchedule",
        Name=names.reconcile_schedule.sub(),
        Description="Runs the reconciler: the providers' event logs against the transactions table.",
        ScheduleExpression=If(params.reconciles, Ref(RECONCILE_RATE), DISABLED_SCHEDULE_EXPRESSION),
        State=If(params.reconciles, "ENABLED", "DISABLED"),
        FlexibleTimeWindow=FlexibleTimeWindow(Mode="OFF"),
        KmsKeyArn=key_arn,
        Target=Target(
            Arn=reconciler.arn,
            RoleArn=GetAtt(role, "Arn"),
            RetryPolicy=RetryPolicy(
                MaximumEventAgeInSeconds=MAXIMUM_EVENT_AGE_SECONDS, MaximumRetryAttempts=3
            ),
        ),
    )
    return Scheduling(role, schedule)
