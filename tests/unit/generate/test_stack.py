"""Whole-template properties of the generated TapStack template."""

from __future__ import annotations

import collections
import importlib
import re
from typing import Any

import pytest

from handlers.core import windows
from tapstack.cfn import model
from tapstack.cfn.model import references, walk
from tapstack.generate import load_settings
from templates.api import execution_log_group_name
from templates.config import LOG_RETENTION_DAYS, PYTHON_RUNTIME_DEPRECATION, StackConfig
from templates.contract import (
    ACCESS_LOG_BUCKET_NAME,
    ALARM_TOPIC_ARN,
    API_BASE_URL,
    API_KEY_ID,
    ASYNCHRONOUS_ROLES,
    AUDIT_BUCKET_NAME,
    KMS_KEY_ARN,
    NOTIFIER,
    PAYMENT_EVENTS_TOPIC_ARN,
    PROCESSOR,
    RECEIVED_DAY_ATTRIBUTE,
    RECEIVED_INDEX,
    RECEIVED_ORDER_ATTRIBUTE,
    RECEIVER,
    ROLES,
    SUFFIX_PARAMETER,
    TRANSACTIONS_TABLE_ARN,
    TRANSACTIONS_TABLE_NAME,
    TRANSACTIONS_URL,
    WEBHOOK_SECRET_ARN,
    dead_letter_queue_url_output,
    function_name_output,
    webhook_url_output,
)
from templates.functions import (
    NETWORK_INTERFACE_CREATE,
    NETWORK_INTERFACE_READS,
    NETWORK_INTERFACE_RELEASES,
    XRAY_WRITE_ACTIONS,
)
from templates.naming import PSEUDO_PARAMETER_LENGTHS, SUFFIX_PLACEHOLDER
from templates.stack import build_template, render
from tests.support.cfn import policy_statements, sub_text
from tests.support.settings import CONFIG_IN_FORCE

Template = dict[str, Any]
FUNCTION_ROLES = tuple(role.capitalize() for role in ROLES)
ASYNC_ROLES = tuple(role.capitalize() for role in ASYNCHRONOUS_ROLES)
STATEFUL_TYPES = {
    "AWS::KMS::Key",
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::Logs::LogGroup",
    "AWS::SecretsManager::Secret",
}
# Properties through which AWS lets a template choose a resource's name.
NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::ApiGateway::RestApi": "Name",
    "AWS::ApiGateway::ApiKey": "Name",
    "AWS::ApiGateway::UsagePlan": "UsagePlanName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::WAFv2::WebACL": "Name",
    "AWS::WAFv2::IPSet": "Name",
}
# API Gateway fixes the name of its execution log group; the API's generated id makes it unique per stack.
EXECUTION_LOG_GROUP_NAME = execution_log_group_name(CONFIG_IN_FORCE.api_stage_name)


def test_inventory(template: Template) -> None:
    counts = collections.Counter(resource["Type"] for resource in template["Resources"].values())
    assert counts == {
        "AWS::KMS::Key": 1,
        "AWS::KMS::Alias": 1,
        "AWS::DynamoDB::Table": 3,
        "AWS::S3::Bucket": 2,
        "AWS::S3::BucketPolicy": 2,
        "AWS::SecretsManager::Secret": 1,
        "AWS::SQS::Queue": 3,
        "AWS::SQS::QueuePolicy": 3,
        "AWS::SNS::Topic": 3,  # the FIFO topic under its condition
        "AWS::SNS::Subscription": 1,
        "AWS::SNS::TopicPolicy": 2,  # under SubscriberAccountIds' conditions
        "AWS::Logs::LogGroup": 7,
        "AWS::IAM::Role": 5,  # one per function, and the scheduler's
        "AWS::Lambda::Function": 4,
        "AWS::Lambda::EventInvokeConfig": 3,
        "AWS::Scheduler::Schedule": 1,
        "AWS::Lambda::Permission": 1,
        "AWS::ApiGateway::RestApi": 1,
        "AWS::ApiGateway::Resource": 3,
        "AWS::ApiGateway::RequestValidator": 1,
        "AWS::ApiGateway::Method": 2,
        "AWS::ApiGateway::Deployment": 1,
        "AWS::ApiGateway::Stage": 1,
        "AWS::ApiGateway::ApiKey": 1,
        "AWS::ApiGateway::UsagePlan": 1,
        "AWS::ApiGateway::UsagePlanKey": 1,
        "AWS::CloudWatch::Alarm": 22,
        "AWS::CloudWatch::Dashboard": 1,
        "AWS::Logs::MetricFilter": 1,
        "AWS::WAFv2::WebACL": 1,
        "AWS::WAFv2::WebACLAssociation": 1,
        "AWS::WAFv2::IPSet": 2,
        "AWS::WAFv2::LoggingConfiguration": 1,
    }
    functions = model.Template(template).properties_of_type("AWS::Lambda::Function")
    assert sorted(functions) == sorted(f"{role}Function" for role in FUNCTION_ROLES)


def test_functions_are_arm64_traced_encrypted_and_on_a_supported_runtime(template: Template) -> None:
    settings = {
        f"{role.capitalize()}Function": it for role, it in CONFIG_IN_FORCE.function_settings().items()
    }
    for logical_id, function in model.Template(template).properties_of_type("AWS::Lambda::Function").items():
        assert function["Architectures"] == [CONFIG_IN_FORCE.architecture], logical_id
        assert function["TracingConfig"] == {"Mode": "Active"}, logical_id
        assert function["KmsKeyArn"] == {"Fn::GetAtt": ["StackKey", "Arn"]}, logical_id
        assert function["Runtime"] in PYTHON_RUNTIME_DEPRECATION, logical_id
        assert function["MemorySize"] == settings[logical_id].memory_mb, logical_id
        assert function["Timeout"] == settings[logical_id].timeout_seconds, logical_id
        assert function["LoggingConfig"]["LogFormat"] == "JSON", logical_id
        assert function["Code"] == {"S3Bucket": {"Ref": "CodeS3Bucket"}, "S3Key": {"Ref": "CodeS3Key"}}
    receiver = model.Template(template).properties_of_type("AWS::Lambda::Function")["ReceiverFunction"]
    assert receiver["Timeout"] < 29, "the receiver must answer within API Gateway's 29 s"


def test_each_function_depends_on_its_own_log_group(template: Template) -> None:
    log_groups = model.Template(template).properties_of_type("AWS::Logs::LogGroup")
    for function in model.Template(template).resources_of_type("AWS::Lambda::Function"):
        logical_id, properties = function.logical_id, function.properties
        log_group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
        assert log_group_id in references(properties) | function.depends_on()
        expected_name = "/aws/lambda/" + sub_text(properties["FunctionName"])
        assert sub_text(log_groups[log_group_id]["LogGroupName"]) == expected_name, logical_id


def test_everything_that_holds_data_is_encrypted_with_the_stack_key(template: Template) -> None:
    key_arn = {"Fn::GetAtt": ["StackKey", "Arn"]}
    key = model.Template(template).properties_of_type("AWS::KMS::Key")["StackKey"]
    assert key["EnableKeyRotation"] is True
    for table in model.Template(template).properties_of_type("AWS::DynamoDB::Table").values():
        assert table["SSESpecification"] == {"KMSMasterKeyId": key_arn, "SSEEnabled": True, "SSEType": "KMS"}
    for queue in model.Template(template).properties_of_type("AWS::SQS::Queue").values():
        assert queue["KmsMasterKeyId"] == key_arn
    for topic in model.Template(template).properties_of_type("AWS::SNS::Topic").values():
        assert topic["KmsMasterKeyId"] == key_arn
    for log_group in model.Template(template).properties_of_type("AWS::Logs::LogGroup").values():
        assert log_group["KmsKeyId"] == key_arn
    secret = model.Template(template).properties_of_type("AWS::SecretsManager::Secret")["WebhookSecret"]
    assert secret["KmsKeyId"] == key_arn
    audit = model.Template(template).properties_of_type("AWS::S3::Bucket")["AuditBucket"]
    rule = audit["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule == {
        "BucketKeyEnabled": True,
        "ServerSideEncryptionByDefault": {"KMSMasterKeyID": key_arn, "SSEAlgorithm": "aws:kms"},
    }


def test_tables_are_recoverable_and_deletable(template: Template) -> None:
    tables = model.Template(template).properties_of_type("AWS::DynamoDB::Table")
    assert set(tables) == {"TransactionsTable", "ObjectsTable", "ReconciliationTable"}
    for table in tables.values():
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["DeletionProtectionEnabled"] is False
        assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_the_transactions_table_is_indexed_by_receipt_time_as_the_processor_keys_it(
    template: Template,
) -> None:
    tables = model.Template(template).properties_of_type("AWS::DynamoDB::Table")
    table = tables["TransactionsTable"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == RECEIVED_INDEX
    keys = {key["KeyType"]: key["AttributeName"] for key in index["KeySchema"]}
    # The names the processor writes (the handlers cannot import the template's contract).
    assert keys == {"HASH": windows.RECEIVED_DAY, "RANGE": windows.RECEIVED_ORDER}
    assert keys == {"HASH": RECEIVED_DAY_ATTRIBUTE, "RANGE": RECEIVED_ORDER_ATTRIBUTE}
    # Every key attribute defined once, as a string; nothing else (CloudFormation refuses unused ones).
    definitions = [(d["AttributeName"], d["AttributeType"]) for d in table["AttributeDefinitions"]]
    assert sorted(definitions) == sorted(
        [("transaction_id", "S"), (windows.RECEIVED_DAY, "S"), (windows.RECEIVED_ORDER, "S")]
    )
    # Keys and `kind` only (what republish filters on); the message is built from the item itself.
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["kind"]}
    assert "ProvisionedThroughput" not in index  # on demand, as the table
    assert "GlobalSecondaryIndexes" not in tables["ObjectsTable"]


def test_log_retention_comes_from_a_parameter_cloudwatch_accepts(template: Template) -> None:
    parameter = template["Parameters"]["LogRetentionDays"]
    assert parameter["AllowedValues"] == list(LOG_RETENTION_DAYS)
    assert parameter["Default"] in LOG_RETENTION_DAYS
    for log_group in model.Template(template).properties_of_type("AWS::Logs::LogGroup").values():
        assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_async_functions_retry_within_limits_and_fail_into_their_queues(template: Template) -> None:
    configs = model.Template(template).properties_of_type("AWS::Lambda::EventInvokeConfig")
    functions = model.Template(template).properties_of_type("AWS::Lambda::Function")
    assert sorted(configs) == sorted(f"{role}InvokeConfig" for role in ASYNC_ROLES)
    for role in ASYNC_ROLES:
        config = configs[f"{role}InvokeConfig"]
        assert 0 <= config["MaximumRetryAttempts"] <= 2
        assert 60 <= config["MaximumEventAgeInSeconds"] <= 21600
        queue_arn = {"Fn::GetAtt": [f"{role}DeadLetterQueue", "Arn"]}
        assert config["DestinationConfig"]["OnFailure"] == {"Destination": queue_arn}
    on_success = configs["ProcessorInvokeConfig"]["DestinationConfig"]["OnSuccess"]
    assert on_success == {"Destination": {"Fn::GetAtt": ["NotifierFunction", "Arn"]}}
    # One failure path: a DeadLetterConfig beside the destination would queue each failure twice.
    for logical_id, function in functions.items():
        assert "DeadLetterConfig" not in function, logical_id
    for queue in model.Template(template).properties_of_type("AWS::SQS::Queue").values():
        assert queue["MessageRetentionPeriod"] == 1_209_600


def test_checkov_dlq_check_is_skipped_for_the_reason_each_function_has(template: Template) -> None:
    def dlq_skip_reason(role: str) -> str:
        skips = template["Resources"][f"{role}Function"]["Metadata"]["checkov"]["skip"]
        (reason,) = [skip["comment"] for skip in skips if skip["id"] == "CKV_AWS_116"]
        return str(reason)

    for role in ASYNC_ROLES:
        assert "OnFailure destination" in dlq_skip_reason(role), role
    assert "synchronously" in dlq_skip_reason("Receiver")


def test_functions_keep_lambdas_start_and_report_lines(template: Template) -> None:
    for logical_id, function in model.Template(template).properties_of_type("AWS::Lambda::Function").items():
        assert function["LoggingConfig"]["SystemLogLevel"] == "INFO", logical_id


def test_api_execution_logs_go_to_a_declared_encrypted_expiring_log_group(
    template: Template, config_in_force: StackConfig
) -> None:
    resources = template["Resources"]
    group = resources["ApiExecutionLogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert "Condition" not in group  # exists whether or not ApiExecutionLogging is on
    assert group["Properties"] == {
        "LogGroupName": {"Fn::Sub": f"API-Gateway-Execution-Logs_${{Api}}/{config_in_force.api_stage_name}"},
        "KmsKeyId": {"Fn::GetAtt": ["StackKey", "Arn"]},
        "RetentionInDays": {"Ref": "LogRetentionDays"},
    }
    assert (group["DeletionPolicy"], group["UpdateReplacePolicy"]) == ("Delete", "Delete")
    stage = resources["ApiStage"]
    assert stage["Properties"]["RestApiId"] == {"Ref": "Api"}
    assert stage["Properties"]["StageName"] == config_in_force.api_stage_name
    assert "ApiExecutionLogGroup" in stage["DependsOn"]


def test_the_key_lets_cloudwatch_logs_use_it_for_every_log_group_and_no_other(template: Template) -> None:
    key = model.Template(template).properties_of_type("AWS::KMS::Key")["StackKey"]
    (logs,) = [
        statement
        for statement in key["KeyPolicy"]["Statement"]
        if statement["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}
    ]
    allowed = {sub_text(arn) for arn in logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]}
    log_group_arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    log_groups = model.Template(template).properties_of_type("AWS::Logs::LogGroup").values()
    assert allowed == {log_group_arn + sub_text(group["LogGroupName"]) for group in log_groups}


def test_no_retain_or_snapshot_anywhere_and_stateful_resources_say_delete(template: Template) -> None:
    for logical_id, resource in template["Resources"].items():
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            assert resource.get(policy, "Delete") == "Delete", (logical_id, policy)
        if resource["Type"] in STATEFUL_TYPES:
            assert resource.get("DeletionPolicy") == "Delete", logical_id
            assert resource.get("UpdateReplacePolicy") == "Delete", logical_id
    for item in walk(template):
        assert item not in ("Retain", "RetainExceptOnCreate", "Snapshot")
    for item in walk(template["Resources"]):
        if isinstance(item, dict) and "DeletionProtectionEnabled" in item:
            assert item["DeletionProtectionEnabled"] is False


def test_reserved_concurrency_is_opt_in(template: Template) -> None:
    for role in FUNCTION_ROLES:
        parameter = template["Parameters"][f"{role}ReservedConcurrency"]
        assert parameter["Default"] == 0
        assert parameter["MinValue"] == 0
        function = model.Template(template).properties_of_type("AWS::Lambda::Function")[f"{role}Function"]
        assert function["ReservedConcurrentExecutions"] == {
            "Fn::If": [
                f"{role}HasReservedConcurrency",
                {"Ref": f"{role}ReservedConcurrency"},
                {"Ref": "AWS::NoValue"},
            ]
        }
        assert template["Conditions"][f"{role}HasReservedConcurrency"] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": f"{role}ReservedConcurrency"}, 0]}]
        }


def test_every_output_is_exported_under_a_suffixed_name(template: Template) -> None:
    outputs = template["Outputs"]
    for key in (
        API_BASE_URL,
        webhook_url_output("stripe"),
        webhook_url_output("paypal"),
        webhook_url_output("generic"),
        TRANSACTIONS_URL,
        API_KEY_ID,
        TRANSACTIONS_TABLE_NAME,
        TRANSACTIONS_TABLE_ARN,
        PAYMENT_EVENTS_TOPIC_ARN,
        ALARM_TOPIC_ARN,
        AUDIT_BUCKET_NAME,
        ACCESS_LOG_BUCKET_NAME,
        dead_letter_queue_url_output(PROCESSOR),
        dead_letter_queue_url_output(NOTIFIER),
        function_name_output(RECEIVER),
        function_name_output(PROCESSOR),
        function_name_output(NOTIFIER),
        KMS_KEY_ARN,
        WEBHOOK_SECRET_ARN,
    ):
        assert key in outputs, key
    for key, output in outputs.items():
        export_name = sub_text(output["Export"]["Name"])
        assert SUFFIX_PLACEHOLDER in export_name, key
        assert export_name.endswith(key), key


def test_every_settable_name_carries_the_suffix(template: Template) -> None:
    for resource_type, name_property in NAME_PROPERTIES.items():
        resources = model.Template(template).properties_of_type(resource_type)
        assert resources, resource_type
        for logical_id, properties in resources.items():
            name = sub_text(properties[name_property])
            assert SUFFIX_PLACEHOLDER in name or name == EXECUTION_LOG_GROUP_NAME, logical_id


def test_every_name_fits_its_aws_limit_at_the_longest_suffix(template: Template) -> None:
    names = CONFIG_IN_FORCE.names()
    longest = template["Parameters"][SUFFIX_PARAMETER]["MaxLength"]
    assert template["Parameters"][SUFFIX_PARAMETER]["MinLength"] == 1

    def expanded(pattern: str, suffix_length: int) -> str:
        text = pattern.replace(SUFFIX_PLACEHOLDER, "s" * suffix_length)
        for placeholder, length in PSEUDO_PARAMETER_LENGTHS.items():
            text = text.replace(placeholder, "x" * length)
        return text

    for name in names.all_names():
        assert len(expanded(name.pattern, longest)) <= name.max_length, name
    assert any(len(expanded(name.pattern, longest + 1)) > name.max_length for name in names.all_names())
    # And the names the template actually uses are among those budgeted for.
    budgeted = {name.pattern for name in names.all_names()}
    for resource_type, name_property in NAME_PROPERTIES.items():
        for properties in model.Template(template).properties_of_type(resource_type).values():
            pattern = sub_text(properties[name_property])
            if resource_type == "AWS::CloudWatch::Alarm":
                assert len(pattern) <= len(names.alarm("reconciler-dead-letters").pattern), pattern
            elif pattern != EXECUTION_LOG_GROUP_NAME:
                assert pattern in budgeted, pattern


def test_iam_has_no_wildcards_beyond_xray_and_no_managed_policies(template: Template) -> None:
    # The actions IAM grants only on "*": X-Ray's, and the describes Lambda makes for a VPC function.
    xray_actions = {action.JSONrepr() for action in [*XRAY_WRITE_ACTIONS, *NETWORK_INTERFACE_READS]}
    statements = list(policy_statements(template))
    assert statements
    for role_id, statement in statements:
        actions = statement["Action"]
        assert "NotAction" not in statement
        assert "NotResource" not in statement
        for action in actions:
            assert "*" not in action, (role_id, action)
        if "*" in statement["Resource"]:
            assert statement["Resource"] == ["*"]
            assert set(actions) <= xray_actions, (role_id, actions)
    for role in model.Template(template).properties_of_type("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role


def test_each_role_is_scoped_to_this_stacks_resources(template: Template) -> None:
    grants = collections.defaultdict(set)
    network_interface_writes = {
        action.JSONrepr() for action in [*NETWORK_INTERFACE_RELEASES, NETWORK_INTERFACE_CREATE]
    }
    for role_id, statement in policy_statements(template):
        for action in statement["Action"]:
            for resource in statement["Resource"]:
                if resource != "*" and action not in network_interface_writes:
                    grants[role_id].add((action, frozenset(references(resource))))
    assert grants["ReceiverRole"] == {
        ("logs:CreateLogStream", frozenset({"ReceiverLogGroup"})),
        ("logs:PutLogEvents", frozenset({"ReceiverLogGroup"})),
        ("lambda:InvokeFunction", frozenset({"ProcessorFunction"})),
        ("secretsmanager:GetSecretValue", frozenset({"WebhookSecret"})),
        ("kms:Decrypt", frozenset({"StackKey"})),
    }
    assert ("s3:PutObject", frozenset({"AuditBucket"})) in grants["ProcessorRole"]
    assert ("dynamodb:PutItem", frozenset({"TransactionsTable"})) in grants["ProcessorRole"]
    assert ("dynamodb:PutItem", frozenset({"ObjectsTable"})) in grants["ProcessorRole"]
    assert not any(
        "ObjectsTable" in resources for _, resources in grants["NotifierRole"] | grants["ReceiverRole"]
    )
    assert ("lambda:InvokeFunction", frozenset({"NotifierFunction"})) in grants["ProcessorRole"]
    assert ("sqs:SendMessage", frozenset({"ProcessorDeadLetterQueue"})) in grants["ProcessorRole"]
    assert ("sns:Publish", frozenset({"PaymentEventsTopic"})) in grants["NotifierRole"]
    assert ("sqs:SendMessage", frozenset({"NotifierDeadLetterQueue"})) in grants["NotifierRole"]
    assert not any(action.startswith("sns:") for action, _ in grants["ProcessorRole"])


@pytest.mark.parametrize("role", FUNCTION_ROLES)
def test_handler_values_resolve_to_callables(template: Template, role: str) -> None:
    handler_path = model.Template(template).properties_of_type("AWS::Lambda::Function")[f"{role}Function"][
        "Handler"
    ]
    module_name, _, attribute = handler_path.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    assert callable(handler)


def test_output_is_deterministic_and_formatted(config_in_force: StackConfig) -> None:
    first = render(build_template(config_in_force))
    second = render(build_template(load_settings(None, {}, today=config_in_force.today)))
    assert first == second
    assert first.endswith("}\n")
    assert not first.endswith("\n\n")
    assert first.splitlines()[1].startswith('  "')
    assert not first.splitlines()[1].startswith("   ")
    assert not re.search(r"20\d\d-\d\d-\d\dT\d\d:\d\d", first), "no timestamps in the template"


def test_every_ref_and_getatt_points_at_something_that_exists(template: Template) -> None:
    known = set(template["Resources"]) | set(template["Parameters"])
    for logical_id in references(template["Resources"]) | references(template["Outputs"]):
        assert logical_id in known or logical_id.startswith("AWS::"), logical_id


def test_functions_attach_to_the_vpc_only_with_its_subnets_and_with_the_interface_permissions(
    template: Template,
) -> None:
    stack = model.Template(template)
    condition = {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "VpcSubnetIds"}]}, ""]}]}
    assert stack.conditions["AttachToVpc"] == condition
    no_value = {"Ref": "AWS::NoValue"}
    for role in FUNCTION_ROLES:
        function = stack.properties_of_type("AWS::Lambda::Function")[f"{role.capitalize()}Function"]
        vpc = {"SubnetIds": {"Ref": "VpcSubnetIds"}, "SecurityGroupIds": {"Ref": "VpcSecurityGroupIds"}}
        assert function["VpcConfig"] == {"Fn::If": ["AttachToVpc", vpc, no_value]}
        policies = stack.properties_of_type("AWS::IAM::Role")[f"{role.capitalize()}Role"]["Policies"]
        # Creating interfaces only while attached, in the given subnets and security groups of whichever
        # account owns them (RAM-shared subnets belong to the network account).
        condition_name, create_policy, otherwise = policies[-1]["Fn::If"]
        assert (condition_name, otherwise) == ("AttachToVpc", no_value)
        (create,) = create_policy["PolicyDocument"]["Statement"]
        assert create["Action"] == ["ec2:CreateNetworkInterface"]
        deployed = stack.resolver(
            {
                "AWS::Partition": "aws",
                "AWS::Region": "eu-west-1",
                "AWS::AccountId": "111122223333",
                "VpcSubnetIds": "subnet-0a1b2c3d,subnet-0e1f2a3b",
                "VpcSecurityGroupIds": "sg-0c1d2e3f",
            }
        )
        assert deployed.resolve(create["Resource"]) == [
            "arn:aws:ec2:eu-west-1:111122223333:network-interface/*",
            "arn:*:ec2:*:*:subnet/subnet-0a1b2c3d",
            "arn:*:ec2:*:*:subnet/subnet-0e1f2a3b",
            "arn:*:ec2:*:*:security-group/sg-0c1d2e3f",
        ]
        # Releasing them always: a detach removes the create policy in the same update, while Lambda
        # still has to delete the interfaces it made (with this role) after the function left the VPC.
        (release_policy,) = [
            policy
            for policy in policies
            if policy.get("PolicyName", "").endswith("-vpc-network-interface-cleanup")
        ]
        reads, release = release_policy["PolicyDocument"]["Statement"]
        assert reads["Resource"] == ["*"]
        assert set(reads["Action"]) == {action.JSONrepr() for action in NETWORK_INTERFACE_READS}
        assert release["Resource"] == [
            {"Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:network-interface/*"}
        ]
        assert set(release["Action"]) == {action.JSONrepr() for action in NETWORK_INTERFACE_RELEASES}
