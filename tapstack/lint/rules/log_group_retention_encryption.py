"""E9022: every CloudWatch Logs log group has a retention period and a customer-managed KMS key.

Seed failures prevented: seed 000 and 003 relied on the log groups Lambda creates on first write, which
never expire and are encrypted with no key of the stack's; seed 004 lists the 30-day retention and KMS
encryption of the explicit log groups as what the working template needed. `KmsKeyId` must be the key's
ARN: `Ref` to an AWS::KMS::Key gives the key id, so the message asks for `Fn::GetAtt Key.Arn`.
(E9021 makes sure each function has such a log group; cfn-lint's E3030/E3031 check the values.)
"""

from typing import ClassVar

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    CloudFormationLintRule,
    RuleMatch,
    Template,
    is_kms_key_id_ref,
    resources,
    rule_match,
    unset,
)

_ADVICE = {
    "RetentionInDays": "set RetentionInDays (for example 30) so webhook logs expire instead of piling up",
    "KmsKeyId": "set KmsKeyId: Fn::GetAtt <Key>.Arn so the logs are encrypted with the stack's key",
}


class LogGroupRetentionEncryption(CloudFormationLintRule):
    id = "E9022"
    shortdesc = "Log groups set RetentionInDays and a KMS key ARN"
    description = "Every AWS::Logs::LogGroup sets RetentionInDays and KmsKeyId (a key ARN, not Ref to a key)"
    source_url = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"
    tags: ClassVar[list[str]] = ["resources", "logs", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for log_group in resources(cfn, "AWS::Logs::LogGroup"):
            for property_name, advice in _ADVICE.items():
                matches.extend(
                    rule_match(
                        branch.path,
                        f"AWS::Logs::LogGroup {log_group.name}: {property_name} is not set; {advice}",
                    )
                    for branch in unset(log_group.lookup(property_name))
                )
            matches.extend(
                rule_match(
                    branch.path,
                    f"AWS::Logs::LogGroup {log_group.name}: KmsKeyId is Ref {branch.value['Ref']}, which is "
                    f"the key id; CloudWatch Logs needs the ARN: use Fn::GetAtt {branch.value['Ref']}.Arn",
                )
                for branch in log_group.lookup("KmsKeyId")
                if branch.value is not NO_VALUE and is_kms_key_id_ref(branch.value, cfn)
            )
        return matches
