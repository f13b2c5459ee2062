"""The pure parts of the stack tooling: parameter files, CloudFormation parameters, dead letters,
the bootstrap template, and what the emulator is given."""

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint

from tapstack import paths
from tapstack.cfn.model import read_template
from tapstack.cli import main
from tapstack.cli.operate import check_environment_suffix
from tapstack.exits import ExitCode
from tapstack.local.target import as_moto_reads_it, with_previous_values
from tapstack.operate.cloud import TEMPLATE_PATH, DeployError
from tapstack.operate.replay import parse_dead_letter
from tapstack.operate.stacks import cli_equivalent, deployed_resources, template_parameters
from tapstack.parameter_files import ParameterFileError, load_parameter_file
from templates.bootstrap import bootstrap_template_json
from templates.contract import ARTIFACT_BUCKET_NAME, SUFFIX_PARAMETER
from templates.naming import StackNames

REPOSITORY = paths.REPOSITORY
TEMPLATE = read_template(TEMPLATE_PATH)
PARAMETER_FILES = sorted((REPOSITORY / "params").glob("*.json"))


@pytest.mark.parametrize("path", PARAMETER_FILES, ids=lambda path: path.name)
def test_parameter_files_name_only_template_parameters_and_leave_the_rest_to_the_tool(path: Path) -> None:
    overrides = load_parameter_file(path)

    assert set(overrides) <= set(TEMPLATE["Parameters"])
    assert not {SUFFIX_PARAMETER, "CodeS3Bucket", "CodeS3Key"} & set(overrides)  # set per deploy
    for key, value in overrides.items():
        allowed = TEMPLATE["Parameters"][key].get("AllowedValues")
        assert allowed is None or value in map(str, allowed), f"{path.name}: {key}={value}"


def test_a_parameter_file_must_be_the_cli_format(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"LogRetentionDays": "7"}')

    with pytest.raises(ParameterFileError, match="Key=Value"):
        load_parameter_file(path)


def test_a_create_passes_only_the_overrides_and_an_update_keeps_the_rest() -> None:
    existing = {"Parameters": [{"ParameterKey": "LogRetentionDays", "ParameterValue": "90"}]}

    created = template_parameters(TEMPLATE, {SUFFIX_PARAMETER: "dev"}, None)
    updated = template_parameters(TEMPLATE, {SUFFIX_PARAMETER: "dev"}, existing)
    emulated = with_previous_values(updated, existing)

    assert created == [{"ParameterKey": SUFFIX_PARAMETER, "ParameterValue": "dev"}]
    assert {"ParameterKey": "LogRetentionDays", "UsePreviousValue": True} in updated
    assert {"ParameterKey": "LogRetentionDays", "ParameterValue": "90"} in emulated


def test_an_unknown_parameter_is_refused_by_name() -> None:
    with pytest.raises(DeployError, match="LogRetention"):
        template_parameters(TEMPLATE, {"LogRetention": "7"}, None)


def test_the_cli_equivalent_uploads_the_template_and_names_the_capability() -> None:
    command = cli_equivalent("tapstack-dev", "artifacts", {SUFFIX_PARAMETER: "dev"}, "eu-west-1")

    assert command.startswith("aws cloudformation deploy --stack-name tapstack-dev")
    for part in ("--s3-bucket artifacts", "--capabilities CAPABILITY_NAMED_IAM", "--region eu-west-1"):
        assert part in command
    assert command.endswith("--parameter-overrides EnvironmentSuffix=dev")
    assert "--template-file output/TapStack.json" in command


def test_the_cli_equivalent_names_a_template_outside_the_checkout_by_its_full_path(tmp_path: Path) -> None:
    template = tmp_path / "TapStack.json"

    command = cli_equivalent("acme-dev", "artifacts", {}, None, template)

    assert f"--stack-name acme-dev --template-file {template} " in command


def test_a_destination_record_replays_its_request_payload() -> None:
    payload = {"version": 1, "transaction": {"transaction_id": "stripe#evt_1"}}
    record = {
        "version": "1.0",
        "timestamp": "2026-11-23T10:00:00.000Z",
        "requestContext": {
            "requestId": "r-1",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:tapstack-processor-dev:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "boom"},
    }

    letter = parse_dead_letter({"MessageId": "m", "ReceiptHandle": "h", "Body": json.dumps(record)})

    assert letter.record is not None
    assert json.loads(letter.record.request_payload) == payload
    assert letter.record.failed_function == "tapstack-processor-dev"
    assert letter.record.condition == "RetriesExhausted"


@pytest.mark.parametrize(
    "body",
    [
        '{"version":1,"transaction":{"transaction_id":"stripe#evt_1"}}',  # a bare event (DeadLetterConfig)
        '{"requestContext":{"functionArn":"arn:aws:lambda:us-east-1:123456789012:function:f"}}',
        "not json",
    ],
)
def test_anything_but_an_invocation_record_is_not_replayed(body: str) -> None:
    letter = parse_dead_letter({"MessageId": "m", "ReceiptHandle": "h", "Body": body})

    assert (letter.message_id, letter.receipt_handle, letter.record) == ("m", "h", None)


def test_the_bootstrap_template_is_lint_clean_and_hardened() -> None:
    text = bootstrap_template_json(StackNames("tapstack"))
    template = json.loads(text)
    bucket = template["Resources"]["ArtifactBucket"]
    properties = bucket["Properties"]

    assert lint(text, config={"include_checks": ["I"]}) == []
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Delete", "Delete")
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert {rule["Id"] for rule in properties["LifecycleConfiguration"]["Rules"]} == {
        "ExpireOldArtifacts",
        "ExpireOldTemplates",
    }
    statement = template["Resources"]["ArtifactBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert (
        template["Outputs"][ARTIFACT_BUCKET_NAME]["Export"]["Name"] == "tapstack-bootstrap-ArtifactBucketName"
    )


@pytest.mark.parametrize("suffix", ["Dev", "dev_1", "dev-", "a" * 20])
def test_an_invalid_environment_suffix_is_refused_before_any_aws_call(
    suffix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["preflight", "--region", "eu-west-1", "--env", suffix, "--params", "params/dev.json"])
    assert status == ExitCode.USAGE
    error = capsys.readouterr().err
    assert f"{suffix!r} is not a valid EnvironmentSuffix" in error
    assert "at most 19 characters" in error


def test_the_longest_valid_suffix_is_accepted() -> None:
    assert check_environment_suffix("a" * 19, TEMPLATE) == "a" * 19


def test_the_bootstrap_stack_carries_the_name_prefix() -> None:
    template = json.loads(bootstrap_template_json(StackNames("acme")))

    assert template["Outputs"][ARTIFACT_BUCKET_NAME]["Export"]["Name"] == "acme-bootstrap-ArtifactBucketName"
    bucket_name = template["Resources"]["ArtifactBucket"]["Properties"]["BucketName"]
    assert bucket_name == {"Fn::Sub": "acme-artifacts-${AWS::AccountId}-${AWS::Region}"}


def test_moto_gets_list_items_behind_fn_if_decided_and_nothing_else_changed() -> None:
    no_value = {"Ref": "AWS::NoValue"}
    document: dict[str, Any] = {
        "Parameters": {"Subnets": {"Type": "CommaDelimitedList", "Default": ""}},
        "Conditions": {"InVpc": {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "Subnets"}]}, ""]}]}},
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {"PolicyName": "always"},
                        {"Fn::If": ["InVpc", {"PolicyName": "vpc"}, no_value]},
                    ],
                    "Description": {"Fn::If": ["InVpc", "in a VPC", no_value]},
                },
            }
        },
    }
    outside = as_moto_reads_it(document, {})
    inside = as_moto_reads_it(document, {"Subnets": "subnet-0a1b2c3d"})
    assert outside["Resources"]["Role"]["Properties"]["Policies"] == [{"PolicyName": "always"}]
    assert inside["Resources"]["Role"]["Properties"]["Policies"] == [
        {"PolicyName": "always"},
        {"PolicyName": "vpc"},
    ]
    # Not in a list: CloudFormation and moto agree on it, so it stays as written.
    assert (
        outside["Resources"]["Role"]["Properties"]["Description"]
        == document["Resources"]["Role"]["Properties"]["Description"]
    )


def test_the_deploy_counts_only_the_resources_whose_condition_holds() -> None:
    """The progress total of a deploy (the change set's on AWS, the emulator's) and diff's count of a new
    stack: an opt-in resource is counted once its parameter turns it on, never before."""
    defaults = deployed_resources(TEMPLATE, {})
    opted_in = deployed_resources(TEMPLATE, {"OrderedDeliveryTopic": "true", "AlarmEmail": "ops@example.com"})
    without_waf = deployed_resources(TEMPLATE, {"WafEnabled": "false"})

    assert {"PaymentEventsFifoTopic", "AlarmEmailSubscription"}.isdisjoint(defaults)
    assert set(opted_in) - set(defaults) == {"PaymentEventsFifoTopic", "AlarmEmailSubscription"}
    assert "WebAcl" not in without_waf
    assert len(defaults) < len(TEMPLATE["Resources"])
