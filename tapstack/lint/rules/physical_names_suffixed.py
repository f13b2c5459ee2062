"""E9051: every physical name the template sets carries the environment suffix.

Seed failure prevented: seed 004 lists "All named resources include `${EnvironmentSuffix}`" as what
made the working template deployable next to other environments, and seed 000 and 003 name every
resource `...-{environment_suffix}`. A fixed name (`FunctionName: webhook-receiver`) lets only one stack
per account and Region exist: the second environment, or a CI run while dev is up, fails with
"... already exists".

A name is fine when every string it can render to (`Fn::Sub`, `Fn::Join`, `Fn::If` sides) contains
`${EnvironmentSuffix}` or is built from another resource of the stack (`/aws/lambda/${ReceiverFunction}`),
whose own name is suffixed or generated unique. Leaving the name out is fine: CloudFormation then
generates a unique one. Names scoped inside a parent (an API's stage, a role's inline policy) are not
checked.
"""

from typing import ClassVar

from tapstack.lint.rules.helpers import (
    ENVIRONMENT_SUFFIX,
    NO_VALUE,
    CloudFormationLintRule,
    RuleMatch,
    Template,
    describe,
    includes_environment_suffix,
    resources,
    rule_match,
    string_forms,
)

# Resource type -> the property that sets a name unique per account and Region (or globally for S3).
NAME_PROPERTIES = {
    "AWS::ApiGateway::ApiKey": "Name",
    "AWS::ApiGateway::RestApi": "Name",
    "AWS::ApiGateway::UsagePlan": "UsagePlanName",
    "AWS::ApiGatewayV2::Api": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::CompositeAlarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SSM::Parameter": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::WAFv2::IPSet": "Name",
    "AWS::WAFv2::WebACL": "Name",
}


class PhysicalNamesSuffixed(CloudFormationLintRule):
    id = "E9051"
    shortdesc = "Physical resource names include the environment suffix"
    description = (
        "FunctionName, TableName, BucketName, QueueName, TopicName, RoleName, LogGroupName, AliasName, "
        "AlarmName, API/key/usage plan/secret/web ACL names... contain ${EnvironmentSuffix} when they are set"
    )
    source_url = "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html"
    tags: ClassVar[list[str]] = ["resources", "naming", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for resource in resources(cfn, *NAME_PROPERTIES):
            name_property = NAME_PROPERTIES[resource.type]
            for branch in resource.lookup(name_property):
                if branch.value is NO_VALUE:
                    continue  # CloudFormation generates a unique name
                if includes_environment_suffix(branch.value, cfn, via_resources=True):
                    continue
                name = " or ".join(string_forms(branch.value)) or describe(branch.value)
                matches.append(
                    rule_match(
                        branch.path,
                        f"{resource.type} {resource.name}: {name_property} {name} does not contain "
                        f"${{{ENVIRONMENT_SUFFIX}}}, so a second environment in the same account fails with "
                        f"'already exists'; use !Sub '<name>-${{{ENVIRONMENT_SUFFIX}}}' (or leave the name "
                        "out and let CloudFormation generate one)",
                    )
                )
        return matches
