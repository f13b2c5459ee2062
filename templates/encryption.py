"""The stack's customer-managed KMS key: everything that stores or carries data is encrypted with it."""

from __future__ import annotations

from dataclasses import dataclass

from awacs import kms
from awacs.aws import (
    Allow,
    ArnLike,
    BoolIfExists,
    Condition,
    Deny,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import GetAtt, Sub
from troposphere.kms import Alias, Key

from templates.common import POLICY_VERSION, account_root, destroyable
from templates.naming import StackNames

DATA_KEY_ACTIONS = [kms.Encrypt, kms.Decrypt, kms.ReEncryptFrom, kms.ReEncryptTo, kms.GenerateDataKey,
                    kms.GenerateDataKeyWithoutPlaintext, kms.DescribeKey]  # fmt: skip


@dataclass(frozen=True)
class Encryption:
    key: Key
    alias: Alias

    @property
    def key_arn(self) -> GetAtt:
        return GetAtt(self.key, "Arn")


def _log_group_arn(log_group_name: str) -> Sub:
    return Sub(
        f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{log_group_name}"
    )


def build_encryption(names: StackNames, log_group_names: list[str]) -> Encryption:
    """The key, its rotation, and a key policy scoped to this stack's users.

    Function roles get their key permissions from their own IAM policies (the account statement enables
    that); naming the roles here would make the key depend on the roles and the roles on the key.
    `log_group_names` are Fn::Sub patterns; API Gateway's execution log group is named after the RestApi
    (`${Api}`), so the key waits for the API, which needs nothing from the key.
    """
    policy = PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            Statement(
                Sid="AccountAdministersKeyAndEnablesIamPolicies",
                Effect=Allow,
                Principal=Principal("AWS", account_root()),
                Action=[kms.Action("*")],
                Resource=["*"],
            ),
            Statement(
                Sid="CloudWatchLogsEncryptsThisStacksLogGroups",
                Effect=Allow,
                Principal=Principal("Service", Sub("logs.${AWS::Region}.amazonaws.com")),
                Action=DATA_KEY_ACTIONS,
                Resource=["*"],
                Condition=Condition(
                    ArnLike(
                        "kms:EncryptionContext:aws:logs:arn",
                        [_log_group_arn(name) for name in log_group_names],
                    )
                ),
            ),
            Statement(
                # Alarms publish to the encrypted alarm topic; SNS delivers to encrypted queues.
                Sid="AlarmsAndSnsUseKeyForThisAccount",
                Effect=Allow,
                Principal=Principal("Service", ["cloudwatch.amazonaws.com", "sns.amazonaws.com"]),
                Action=[kms.Decrypt, kms.GenerateDataKey],
                Resource=["*"],
                Condition=Condition(StringEquals("aws:SourceAccount", Sub("${AWS::AccountId}"))),
            ),
            Statement(
                # A grant outlives the policy that allowed it: only AWS services create grants here
                # (Lambda for the functions' environment, DynamoDB for the table), for their resources
                # (Control Tower control CT.KMS.PR.3).
                Sid="GrantsOnlyForAwsServicesOnTheirResources",
                Effect=Deny,
                Principal=Principal("*"),
                Action=[kms.CreateGrant],
                Resource=["*"],
                Condition=Condition(
                    BoolIfExists({"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"})
                ),
            ),
        ],
    )
    key = destroyable(
        Key(
            "StackKey",
            Description=Sub(f"TapStack {names.prefix} ${{EnvironmentSuffix}}: data, queues, topics, logs"),
            EnableKeyRotation=True,
            PendingWindowInDays=7,
            KeyPolicy=policy,
        )
    )
    alias = Alias("StackKeyAlias", AliasName=names.key_alias.sub(), TargetKeyId=key.ref())
    return Encryption(key=key, alias=alias)
