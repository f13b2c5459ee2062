"""The IAM policy a principal needs to deploy, check and destroy TapStack (output/deployer-policy.json).

Deploys go through change sets without a CloudFormation service role, so CloudFormation acts with the
deployer's own permissions: for every resource type of the generated templates (the stack and the
bootstrap stack) the policy grants what CloudFormation's handler for that type calls to create,
update, read and delete it for the properties the templates set (a rollback is made of the same
calls). `LIFECYCLES` lists those actions; each is one the type's registry schema lists among its
handler permissions or in its `tagging` section, all of whose calls it grants (checked by
tests/unit/generate/test_deployer_policy.py). On top come the calls the tapstack commands make
themselves (`COMMAND_ACTIONS`): change sets and events, the artifact upload, preflight's reads, and
destroy's throttle, bucket emptying and Object Lock reads.

Every action is scoped to the stack's names, `<prefix>-*` (the prefix read from the template), where
its service allows resource-level permissions. Exceptions, each in its own statement:
- `STAR_ONLY`: actions the Service Authorization Reference lists with no resource type, which only
  `"Resource": "*"` grants (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html);
- KMS keys have generated ids (`key/*`, keys of the account); their aliases carry the prefix;
- API Gateway names REST APIs, keys and usage plans by generated ids (`/restapis/*`, ...), and
  execution-log groups by the API id (`API-Gateway-Execution-Logs_*`);
- WAF authorizes associating a web ACL on the stage it protects (`/restapis/*/stages/*`), and creating
  one on the AWS managed rule groups it references (`managedruleset/*`);
- preflight reads the account's API Gateway settings (`/account`) and its CloudWatch role, whose name
  the account chose.
Partition `aws`; any account and region (a policy only ever grants in its own account).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from awacs.aws import Action, Allow, Condition, PolicyDocument, Statement, StringEquals

from templates.bootstrap import bootstrap_template_json
from templates.common import POLICY_VERSION
from templates.naming import StackNames, names_of


def _actions(service: str, names: str) -> tuple[str, ...]:
    return tuple(f"{service}:{name}" for name in names.split())


@dataclass(frozen=True)
class Lifecycle:
    """What CloudFormation's handler for one resource type calls, by handler."""

    create: tuple[str, ...]
    update: tuple[str, ...]
    delete: tuple[str, ...]
    read: tuple[str, ...]

    def all(self) -> set[str]:
        return {*self.create, *self.update, *self.delete, *self.read}


def _api(create: str, update: str, delete: str) -> Lifecycle:
    """An API Gateway type: its handlers send HTTP verbs to the REST API's paths."""
    return Lifecycle(
        _actions("apigateway", create),
        _actions("apigateway", update),
        _actions("apigateway", delete),
        _actions("apigateway", "GET"),
    )


# Lambda's caller needs the code object and, for a customer managed key, grants on it.
_LAMBDA_CODE_AND_KEY = (
    "iam:PassRole", "s3:GetObject", "s3:GetObjectVersion",
    "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey",
)  # fmt: skip
# What Lambda asks of whoever gives a function a VpcConfig (VpcSubnetIds), and what preflight reads of
# that VPC (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html).
_VPC_DESCRIBES = ("ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs")

LIFECYCLES: dict[str, Lifecycle] = {
    "AWS::ApiGateway::ApiKey": _api("POST GET PUT", "GET PATCH PUT DELETE", "DELETE GET"),
    "AWS::ApiGateway::Deployment": _api("POST PATCH PUT GET", "PATCH GET PUT DELETE", "GET DELETE"),
    "AWS::ApiGateway::Method": _api("PUT GET", "GET DELETE PUT", "DELETE"),
    "AWS::ApiGateway::RequestValidator": _api("POST GET", "PATCH GET", "DELETE"),
    "AWS::ApiGateway::Resource": _api("POST", "GET PATCH", "DELETE"),
    "AWS::ApiGateway::RestApi": _api("GET POST PUT PATCH", "GET DELETE PATCH PUT", "DELETE"),
    "AWS::ApiGateway::Stage": _api("POST PATCH GET PUT", "GET PATCH PUT DELETE", "DELETE"),
    "AWS::ApiGateway::UsagePlan": _api("POST GET PUT", "GET DELETE PATCH PUT", "DELETE GET PATCH"),
    "AWS::ApiGateway::UsagePlanKey": _api("POST GET", "", "DELETE GET"),
    "AWS::CloudWatch::Alarm": Lifecycle(
        _actions("cloudwatch", "PutMetricAlarm DescribeAlarms TagResource ListTagsForResource"),
        _actions("cloudwatch", "PutMetricAlarm DescribeAlarms TagResource UntagResource ListTagsForResource"),
        _actions("cloudwatch", "DeleteAlarms DescribeAlarms"),
        _actions("cloudwatch", "DescribeAlarms ListTagsForResource"),
    ),
    "AWS::CloudWatch::Dashboard": Lifecycle(
        _actions("cloudwatch", "PutDashboard GetDashboard TagResource"),
        _actions("cloudwatch", "PutDashboard TagResource UntagResource ListTagsForResource"),
        _actions("cloudwatch", "DeleteDashboards GetDashboard"),
        _actions("cloudwatch", "GetDashboard ListTagsForResource"),
    ),
    "AWS::DynamoDB::Table": Lifecycle(
        _actions(
            "dynamodb",
            "CreateTable DescribeTable UpdateTable DescribeTimeToLive DescribeContinuousBackups "
            "UpdateContinuousBackups DescribeContributorInsights DescribeKinesisStreamingDestination "
            "ListTagsOfResource TagResource GetResourcePolicy",
        )
        + _actions("kms", "CreateGrant Decrypt DescribeKey Encrypt"),  # SSE with the stack's key
        _actions(
            "dynamodb",
            "UpdateTable DescribeTable UpdateContinuousBackups DescribeContinuousBackups TagResource "
            "UntagResource ListTagsOfResource",
        )
        + _actions("kms", "CreateGrant DescribeKey"),
        _actions("dynamodb", "DeleteTable DescribeTable"),
        _actions(
            "dynamodb",
            "DescribeTable DescribeContinuousBackups DescribeContributorInsights "
            "DescribeKinesisStreamingDestination ListTagsOfResource GetResourcePolicy DescribeTimeToLive",
        ),
    ),
    "AWS::IAM::Role": Lifecycle(
        _actions("iam", "CreateRole PutRolePolicy GetRole GetRolePolicy TagRole"),
        _actions(
            "iam",
            "UpdateRole UpdateRoleDescription UpdateAssumeRolePolicy PutRolePolicy DeleteRolePolicy "
            "TagRole UntagRole",
        ),
        _actions(
            "iam",
            "DeleteRole DetachRolePolicy DeleteRolePolicy GetRole ListAttachedRolePolicies "
            "ListRolePolicies TagRole UntagRole",
        ),
        _actions("iam", "GetRole ListAttachedRolePolicies ListRolePolicies GetRolePolicy ListRoleTags"),
    ),
    "AWS::KMS::Alias": Lifecycle(
        _actions("kms", "CreateAlias"),
        _actions("kms", "UpdateAlias"),
        _actions("kms", "DeleteAlias"),
        _actions("kms", "ListAliases"),
    ),
    "AWS::KMS::Key": Lifecycle(
        _actions("kms", "CreateKey EnableKeyRotation PutKeyPolicy TagResource"),
        _actions(
            "kms",
            "DescribeKey PutKeyPolicy UpdateKeyDescription EnableKeyRotation DisableKeyRotation "
            "TagResource UntagResource ListResourceTags",
        ),
        _actions("kms", "DescribeKey ScheduleKeyDeletion"),
        _actions("kms", "DescribeKey GetKeyPolicy GetKeyRotationStatus ListResourceTags"),
    ),
    "AWS::Scheduler::Schedule": Lifecycle(
        (*_actions("scheduler", "CreateSchedule GetSchedule"), "iam:PassRole"),
        (*_actions("scheduler", "UpdateSchedule GetSchedule"), "iam:PassRole"),
        _actions("scheduler", "DeleteSchedule GetSchedule"),
        _actions("scheduler", "GetSchedule"),
    ),
    "AWS::Lambda::EventInvokeConfig": Lifecycle(
        _actions("lambda", "PutFunctionEventInvokeConfig"),
        _actions("lambda", "UpdateFunctionEventInvokeConfig"),
        _actions("lambda", "DeleteFunctionEventInvokeConfig"),
        _actions("lambda", "GetFunctionEventInvokeConfig"),
    ),
    "AWS::Lambda::Function": Lifecycle(
        _actions(
            "lambda",
            "CreateFunction GetFunction PutFunctionConcurrency TagResource GetRuntimeManagementConfig "
            "GetFunctionCodeSigningConfig GetFunctionRecursionConfig",
        )
        + _LAMBDA_CODE_AND_KEY
        + _VPC_DESCRIBES,
        _actions(
            "lambda",
            "UpdateFunctionCode UpdateFunctionConfiguration PutFunctionConcurrency "
            "DeleteFunctionConcurrency GetFunction TagResource UntagResource",
        )
        + _LAMBDA_CODE_AND_KEY
        + _VPC_DESCRIBES,
        (*_actions("lambda", "DeleteFunction GetFunction"), "ec2:DescribeNetworkInterfaces"),
        (
            *_actions(
                "lambda",
                "GetFunction GetFunctionCodeSigningConfig GetFunctionRecursionConfig "
                "GetRuntimeManagementConfig GetFunctionScalingConfig ListTags",
            ),
            "kms:Decrypt",
        ),
    ),
    "AWS::Lambda::Permission": Lifecycle(
        _actions("lambda", "AddPermission"),
        (),
        _actions("lambda", "RemovePermission"),
        _actions("lambda", "GetPolicy"),
    ),
    # The resource-policy calls set the WAF log group's own policy (its ResourcePolicyDocument).
    "AWS::Logs::LogGroup": Lifecycle(
        _actions(
            "logs",
            "DescribeLogGroups CreateLogGroup PutRetentionPolicy TagResource PutResourcePolicy "
            "DescribeResourcePolicies",
        ),
        _actions(
            "logs",
            "DescribeLogGroups AssociateKmsKey DisassociateKmsKey PutRetentionPolicy DeleteRetentionPolicy "
            "TagResource UntagResource ListTagsForResource PutResourcePolicy DescribeResourcePolicies "
            "DeleteResourcePolicy",
        ),
        _actions("logs", "DescribeLogGroups DeleteLogGroup DeleteDataProtectionPolicy"),
        _actions(
            "logs",
            "DescribeLogGroups ListTagsForResource GetDataProtectionPolicy DescribeIndexPolicies "
            "DescribeResourcePolicies",
        ),
    ),
    "AWS::Logs::MetricFilter": Lifecycle(
        _actions("logs", "PutMetricFilter DescribeMetricFilters"),
        _actions("logs", "PutMetricFilter DescribeMetricFilters"),
        _actions("logs", "DeleteMetricFilter"),
        _actions("logs", "DescribeMetricFilters"),
    ),
    "AWS::S3::Bucket": Lifecycle(
        _actions(
            "s3",
            # a bucket created with tags is tagged through s3:TagResource as well as PutBucketTagging
            "CreateBucket ListBucket GetBucketAcl PutBucketTagging TagResource PutEncryptionConfiguration "
            "PutLifecycleConfiguration PutBucketPublicAccessBlock PutBucketOwnershipControls "
            "PutBucketLogging PutBucketVersioning PutBucketObjectLockConfiguration PutBucketNotification",
        ),
        _actions(
            "s3",
            # the Put actions also authorize removing an encryption or lifecycle configuration
            "ListBucket PutBucketTagging TagResource UntagResource DeleteBucketTagging "
            "PutEncryptionConfiguration PutLifecycleConfiguration PutBucketPublicAccessBlock "
            "PutBucketOwnershipControls PutBucketLogging PutBucketVersioning "
            "PutBucketObjectLockConfiguration PutBucketNotification",
        ),
        _actions("s3", "DeleteBucket ListBucket"),
        _actions(  # the read handler reads every configuration of the bucket, set or not
            "s3",
            "GetAccelerateConfiguration GetLifecycleConfiguration GetBucketPublicAccessBlock "
            "GetAnalyticsConfiguration GetBucketCORS GetEncryptionConfiguration GetInventoryConfiguration "
            "GetBucketLogging GetMetricsConfiguration GetBucketNotification GetBucketVersioning "
            "GetReplicationConfiguration GetBucketWebsite GetBucketObjectLockConfiguration GetBucketTagging "
            "ListTagsForResource GetBucketAbac GetBucketOwnershipControls GetIntelligentTieringConfiguration "
            "GetBucketMetadataTableConfiguration ListBucket",
        ),
    ),
    "AWS::S3::BucketPolicy": Lifecycle(
        _actions("s3", "GetBucketPolicy PutBucketPolicy"),
        _actions("s3", "GetBucketPolicy PutBucketPolicy"),
        _actions("s3", "GetBucketPolicy DeleteBucketPolicy"),
        _actions("s3", "GetBucketPolicy"),
    ),
    "AWS::SNS::Subscription": Lifecycle(
        _actions("sns", "Subscribe"),
        _actions("sns", "SetSubscriptionAttributes"),
        _actions("sns", "Unsubscribe GetSubscriptionAttributes"),
        _actions("sns", "GetSubscriptionAttributes"),
    ),
    "AWS::SNS::Topic": Lifecycle(
        _actions("sns", "CreateTopic TagResource GetTopicAttributes"),
        _actions(
            "sns",
            "SetTopicAttributes TagResource UntagResource GetTopicAttributes ListTagsForResource "
            "ListSubscriptionsByTopic GetDataProtectionPolicy",
        ),
        _actions("sns", "GetTopicAttributes DeleteTopic"),
        _actions(
            "sns", "GetTopicAttributes ListTagsForResource ListSubscriptionsByTopic GetDataProtectionPolicy"
        ),
    ),
    "AWS::SNS::TopicPolicy": Lifecycle(
        _actions("sns", "SetTopicAttributes"),
        _actions("sns", "SetTopicAttributes"),
        _actions("sns", "SetTopicAttributes"),
        (),
    ),
    "AWS::SQS::Queue": Lifecycle(
        _actions("sqs", "CreateQueue GetQueueUrl GetQueueAttributes ListQueueTags TagQueue"),
        _actions("sqs", "SetQueueAttributes GetQueueAttributes ListQueueTags TagQueue UntagQueue"),
        _actions("sqs", "DeleteQueue GetQueueAttributes"),
        _actions("sqs", "GetQueueAttributes ListQueueTags"),
    ),
    "AWS::SQS::QueuePolicy": Lifecycle(
        _actions("sqs", "SetQueueAttributes"),
        _actions("sqs", "SetQueueAttributes"),
        _actions("sqs", "SetQueueAttributes"),
        (),
    ),
    "AWS::WAFv2::IPSet": Lifecycle(
        _actions("wafv2", "CreateIPSet GetIPSet ListTagsForResource TagResource"),
        _actions("wafv2", "UpdateIPSet GetIPSet ListTagsForResource TagResource UntagResource"),
        _actions("wafv2", "DeleteIPSet GetIPSet"),
        _actions("wafv2", "GetIPSet ListTagsForResource"),
    ),
    # Logging to CloudWatch Logs: log delivery checks that the log group's resource policies grant
    # delivery.logs.amazonaws.com and writes a grant where none does (the group's own policy does here;
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-CWL.html).
    # The schema's Firehose, S3 and service-linked-role calls serve the other destinations.
    "AWS::WAFv2::LoggingConfiguration": Lifecycle(
        _actions("wafv2", "PutLoggingConfiguration GetLoggingConfiguration")
        + _actions("logs", "CreateLogDelivery DescribeLogGroups DescribeResourcePolicies PutResourcePolicy"),
        _actions("wafv2", "PutLoggingConfiguration GetLoggingConfiguration")
        + _actions("logs", "CreateLogDelivery DescribeLogGroups DescribeResourcePolicies PutResourcePolicy"),
        (*_actions("wafv2", "DeleteLoggingConfiguration GetLoggingConfiguration"), "logs:DeleteLogDelivery"),
        _actions("wafv2", "GetLoggingConfiguration"),
    ),
    "AWS::WAFv2::WebACL": Lifecycle(
        _actions("wafv2", "CreateWebACL GetWebACL ListTagsForResource TagResource"),
        _actions("wafv2", "UpdateWebACL GetWebACL ListTagsForResource TagResource UntagResource"),
        _actions("wafv2", "DeleteWebACL GetWebACL"),
        _actions("wafv2", "GetWebACL ListTagsForResource"),
    ),
    "AWS::WAFv2::WebACLAssociation": Lifecycle(
        (*_actions("wafv2", "AssociateWebACL GetWebACLForResource GetWebACL"), "apigateway:SetWebACL"),
        (
            *_actions("wafv2", "AssociateWebACL DisassociateWebACL GetWebACLForResource GetWebACL"),
            "apigateway:SetWebACL",
        ),
        (
            *_actions("wafv2", "AssociateWebACL DisassociateWebACL GetWebACLForResource GetWebACL"),
            "apigateway:SetWebACL",
        ),
        _actions("wafv2", "GetWebACLForResource GetWebACL"),
    ),
    "AWS::SecretsManager::Secret": Lifecycle(
        _actions("secretsmanager", "DescribeSecret GetRandomPassword CreateSecret TagResource"),
        _actions("secretsmanager", "UpdateSecret TagResource UntagResource GetRandomPassword GetSecretValue"),
        _actions("secretsmanager", "DeleteSecret DescribeSecret RemoveRegionsFromReplication"),
        _actions("secretsmanager", "DescribeSecret GetSecretValue"),
    ),
}

# The handlers a registry schema lists for every kind of resource its type can work on, narrowed to the calls
# for the kind TapStack uses. A web ACL association's schema lists those for each kind of resource a web ACL
# can protect (Amplify, App Runner, AppSync, Cognito, load balancers, Verified Access, ...) and for sharing
# rule groups (wafv2:GetPermissionPolicy, wafv2:PutPermissionPolicy, whose resource is a rule group); a REST
# API stage's association makes only these.
CALLS_FOR_THIS_STACK: dict[str, frozenset[str]] = {
    "AWS::WAFv2::WebACLAssociation": frozenset(
        {
            "wafv2:AssociateWebACL",
            "wafv2:DisassociateWebACL",
            "wafv2:GetWebACL",
            "wafv2:GetWebACLForResource",
            "apigateway:SetWebACL",
        }
    ),
}

# What the tapstack commands call themselves, beyond CloudFormation's handlers.
COMMAND_ACTIONS: dict[str, tuple[str, ...]] = {
    "deploy and diff": _actions(
        "cloudformation",
        "CreateChangeSet DescribeChangeSet ExecuteChangeSet DeleteChangeSet DescribeStacks "
        "DescribeStackEvents GetTemplate ContinueUpdateRollback ListStackResources TagResource",
    )  # ListStackResources: adopting an execution-log group; TagResource: the compliance-retention tag
    + _actions("s3", "PutObject GetObject"),  # the artifact and template upload (HeadObject first)
    "preflight": _actions("sts", "GetCallerIdentity")
    + _actions("lambda", "GetAccountSettings GetFunctionConcurrency")
    + _actions("apigateway", "GET")
    + _actions("iam", "GetRole")
    + _actions("secretsmanager", "GetSecretValue")
    + _actions("kms", "Decrypt")  # the webhook secret is encrypted with the stack's key
    + _actions("ec2", "DescribeSubnets DescribeSecurityGroups DescribeRouteTables DescribeVpcEndpoints"),
    "destroy": _actions(
        "cloudformation", "DescribeStacks DescribeStackEvents ListStackResources ListExports DeleteStack"
    )
    # stop intake, and resume it as it was when COMPLIANCE retention refuses the delete
    + _actions(
        "lambda",
        "PutFunctionConcurrency GetFunctionConcurrency DeleteFunctionConcurrency GetFunctionConfiguration "
        "GetFunction",
    )
    + _actions(
        "s3",
        "GetBucketObjectLockConfiguration ListBucketVersions ListBucket GetObjectVersion GetObjectRetention "
        "DeleteObjectVersion DeleteObject BypassGovernanceRetention",
    )
    + _actions("logs", "DescribeLogGroups")
    + _actions("dynamodb", "DescribeTable")
    + _actions("sqs", "GetQueueUrl")
    + _actions("sns", "GetTopicAttributes"),
}

# Actions the Service Authorization Reference lists with no resource type: only "Resource": "*" grants them.
STAR_ONLY = frozenset(
    {
        "cloudformation:ListExports",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeVpcs",
        "kms:CreateKey",
        "kms:ListAliases",
        "lambda:GetAccountSettings",
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:DeleteResourcePolicy",
        "logs:DescribeIndexPolicies",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
        "logs:PutResourcePolicy",
        "secretsmanager:GetRandomPassword",
        "sns:GetSubscriptionAttributes",
        "sns:SetSubscriptionAttributes",
        "sns:Unsubscribe",
        "sts:GetCallerIdentity",
    }
)
# Granted on the artifact bucket's objects only: no other object of the stack is read or written whole.
ARTIFACT_OBJECT_ACTIONS = frozenset({"s3:GetObject", "s3:PutObject"})
KMS_ALIAS_ACTIONS = frozenset({"kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"})


@dataclass(frozen=True)
class Scope:
    """Where a group of actions applies, and the statement id that says so."""

    sid: str
    resources: tuple[str, ...]
    condition: Mapping[str, str | list[str]] | None = None


def _wildcard(pattern: str) -> str:
    """A Fn::Sub name with every ${...} as `*`: the IAM pattern of all its values."""
    return re.sub(r"\$\{[^}]*\}", "*", pattern)


def scopes(names: StackNames, artifact_bucket: str) -> dict[str, Scope]:
    """The stack's resources by service, as IAM resource patterns; plus the special scopes."""
    prefix = f"{names.prefix}-"
    api_paths = ("restapis", "restapis/*", "apikeys", "apikeys/*", "usageplans", "usageplans/*", "tags/*")
    log_groups = (
        f"/aws/lambda/{prefix}*",
        f"/aws/apigateway/{prefix}*",
        "API-Gateway-Execution-Logs_*",
        f"aws-waf-logs-{prefix}*",
    )
    return {
        "apigateway": Scope(
            "StackApisKeysAndUsagePlansHaveGeneratedIds",
            tuple(f"arn:aws:apigateway:*::/{path}" for path in api_paths),
        ),
        "cloudformation": Scope("StackAndItsChangeSets", (f"arn:aws:cloudformation:*:*:stack/{prefix}*/*",)),
        "cloudwatch": Scope(
            "StackAlarmsAndDashboard",
            # Dashboards are global: their ARNs have no Region.
            (f"arn:aws:cloudwatch:*:*:alarm:{prefix}*", f"arn:aws:cloudwatch::*:dashboard/{prefix}*"),
        ),
        "dynamodb": Scope("StackTable", (f"arn:aws:dynamodb:*:*:table/{prefix}*",)),
        "iam": Scope("StackRoles", (f"arn:aws:iam::*:role/{prefix}*",)),
        "iam:PassRole": Scope(
            "PassStackRolesToLambdaAndTheSchedulerOnly",
            (f"arn:aws:iam::*:role/{prefix}*",),
            {"iam:PassedToService": ["lambda.amazonaws.com", "scheduler.amazonaws.com"]},
        ),
        "kms": Scope("StackKeyHasAGeneratedId", ("arn:aws:kms:*:*:key/*",)),
        "kms:alias": Scope("StackKeyAlias", (f"arn:aws:kms:*:*:alias/{prefix}*", "arn:aws:kms:*:*:key/*")),
        "lambda": Scope("StackFunctions", (f"arn:aws:lambda:*:*:function:{prefix}*",)),
        "logs": Scope(
            "StackLogGroupsAndApiExecutionLogsNamedByApiId",
            tuple(f"arn:aws:logs:*:*:log-group:{name}" for name in log_groups),
        ),
        "s3": Scope(
            "StackBucketsAndTheirObjectVersions", (f"arn:aws:s3:::{prefix}*", f"arn:aws:s3:::{prefix}*/*")
        ),
        "scheduler": Scope("StackSchedules", (f"arn:aws:scheduler:*:*:schedule/default/{prefix}*",)),
        "s3:artifacts": Scope(
            "ArtifactAndTemplateObjects", (f"arn:aws:s3:::{_wildcard(artifact_bucket)}/*",)
        ),
        "secretsmanager": Scope("StackSecret", (f"arn:aws:secretsmanager:*:*:secret:{names.prefix}/*",)),
        "sns": Scope("StackTopics", (f"arn:aws:sns:*:*:{prefix}*",)),
        "sqs": Scope("StackQueues", (f"arn:aws:sqs:*:*:{prefix}*",)),
        "wafv2": Scope(
            "StackWebAclsAndIpSetsTheManagedRulesTheyUseAndTheStagesTheyProtect",
            (
                f"arn:aws:wafv2:*:*:regional/webacl/{prefix}*/*",
                f"arn:aws:wafv2:*:*:regional/ipset/{prefix}*/*",
                "arn:aws:wafv2:*:*:regional/managedruleset/*/*",
                "arn:aws:apigateway:*::/restapis/*/stages/*",
            ),
        ),
        "*": Scope("ActionsWithoutResourceLevelPermissions", ("*",)),
    }


def scope_key(action: str) -> str:
    if action in STAR_ONLY:
        return "*"
    if action in ARTIFACT_OBJECT_ACTIONS:
        return "s3:artifacts"
    if action in KMS_ALIAS_ACTIONS:
        return "kms:alias"
    if action == "iam:PassRole":
        return action
    return action.split(":", 1)[0]


# Preflight's reads of account-wide settings, which no stack name scopes.
ACCOUNT_READS: tuple[tuple[Scope, str], ...] = (
    (Scope("ReadAccountApiGatewaySettings", ("arn:aws:apigateway:*::/account",)), "apigateway:GET"),
    (
        Scope("ReadAccountApiGatewayCloudWatchRoleNamedByTheAccount", ("arn:aws:iam::*:role/*",)),
        "iam:GetRole",
    ),
)


def _statement(scope: Scope, actions: Iterable[str]) -> Statement:
    fields: dict[str, Any] = {
        "Sid": scope.sid,
        "Effect": Allow,
        "Action": [Action(*action.split(":", 1)) for action in sorted(actions)],
        "Resource": list(scope.resources),
    }
    if scope.condition is not None:
        fields["Condition"] = Condition(StringEquals(dict(scope.condition)))
    return Statement(**fields)


def resource_types(*templates: Mapping[str, Any]) -> set[str]:
    return {resource["Type"] for template in templates for resource in template["Resources"].values()}


def deployer_policy(
    names: StackNames, templates: Iterable[Mapping[str, Any]], artifact_bucket: str
) -> PolicyDocument:
    """The policy for the generated templates (the stack's and the bootstrap's); ValueError for a
    resource type whose actions are not listed here yet."""
    types = resource_types(*templates)
    unknown = sorted(types - set(LIFECYCLES))
    if unknown:
        raise ValueError(
            f"no deployer actions for {unknown}: add what CloudFormation's handlers call for them (their "
            "registry schema's handlers.*.permissions) to LIFECYCLES in tapstack/generate/deployer_policy.py"
        )
    actions = {action for kind in types for action in LIFECYCLES[kind].all()}
    actions |= {action for command in COMMAND_ACTIONS.values() for action in command}
    by_scope: dict[str, set[str]] = {}
    for action in actions:
        by_scope.setdefault(scope_key(action), set()).add(action)
    known = scopes(names, artifact_bucket)
    statements = [_statement(known[key], by_scope[key]) for key in sorted(by_scope)]
    statements += [_statement(scope, [action]) for scope, action in ACCOUNT_READS]
    return PolicyDocument(Version=POLICY_VERSION, Statement=statements)


def render_deployer_policy(template: Mapping[str, Any]) -> str:
    """output/deployer-policy.json for the generated template (and the bootstrap template of its names):
    sorted keys, 2-space indent, trailing newline, like the template."""
    names = names_of(template)
    bootstrap = json.loads(bootstrap_template_json(names))
    artifact_bucket = bootstrap["Resources"]["ArtifactBucket"]["Properties"]["BucketName"]["Fn::Sub"]
    return (
        deployer_policy(names, (template, bootstrap), artifact_bucket).to_json(indent=2, sort_keys=True)
        + "\n"
    )
