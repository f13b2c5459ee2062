"""The deploy tooling against the emulator: outputs, exports, a no-op redeploy, diff, destroy."""

import json
from pathlib import Path

from tapstack.cfn.model import read_template
from tapstack.generate.local_page import LOCAL_PAGE
from tapstack.local.gaps import EMULATOR_GAPS, SKIPPED_TYPES
from tapstack.local.target import EMULATOR_TIMING, as_moto_reads_it
from tapstack.operate.actions import deploy_environment, destroy_environment
from tapstack.operate.artifacts import upload_template
from tapstack.operate.cloud import TEMPLATE_PATH, Clients
from tapstack.operate.stacks import StackRequest, deployed_resources, diff_stack
from tapstack.parameter_files import load_parameter_file
from templates.contract import (
    ACCESS_LOG_BUCKET_NAME,
    API_KEY_ID,
    AUDIT_BUCKET_NAME,
    SUFFIX_PARAMETER,
    WEBHOOK_SECRET_ARN,
)
from tests.integration.conftest import LOCAL_PARAMETERS, NAMES, DeployedStack, deploy

TEMPLATE = read_template(TEMPLATE_PATH)
DEFAULT_OUTPUTS = {key for key, output in TEMPLATE["Outputs"].items() if "Condition" not in output}
"""The outputs of a stack deployed with the parameters' defaults: an opt-in resource's has a Condition."""


def test_every_output_is_written_to_the_flat_file_and_exported(deployment: DeployedStack) -> None:
    flat = json.loads(deployment.flat_outputs_path.read_text(encoding="utf-8"))

    assert set(flat) == DEFAULT_OUTPUTS
    assert flat == deployment.outputs
    exports = {e["Name"] for e in deployment.clients("cloudformation").list_exports()["Exports"]}
    missing_exports = {
        key for key in DEFAULT_OUTPUTS if NAMES.export(key).for_suffix(deployment.environment) not in exports
    }
    # moto's CloudFormation does not create the secret or the API key, so it cannot export them.
    assert missing_exports <= {WEBHOOK_SECRET_ARN, API_KEY_ID}


def test_deploying_the_same_stack_again_changes_nothing(deployment: DeployedStack, tmp_path: Path) -> None:
    log: list[str] = []

    outputs = deploy_environment(
        deployment.deployment,
        LOCAL_PARAMETERS,
        deployment.artifact,
        log.append,
        tmp_path / "flat.json",
    )

    assert f"stack {NAMES.stack.for_suffix(deployment.environment)}: no changes to deploy" in log
    assert any("already there" in line for line in log)  # the content-addressed artifact
    assert outputs == deployment.outputs


def test_diff_lists_the_changes_a_deploy_would_make(deployment: DeployedStack) -> None:
    clients = deployment.clients
    deployed = as_moto_reads_it(TEMPLATE, {})  # as the local deploy gave it to moto
    template = json.loads(json.dumps(deployed))
    template["Resources"]["DiffProbeQueue"] = {"Type": "AWS::SQS::Queue"}
    bucket = deployment.outputs[AUDIT_BUCKET_NAME]  # any bucket: the template only has to be readable
    url = upload_template(deployment.deployment.target, bucket, "diff-probe", json.dumps(template))
    name = NAMES.stack.for_suffix(deployment.environment)

    changed = diff_stack(
        clients("cloudformation"), StackRequest(name, template, {"TemplateURL": url}, {}), EMULATOR_TIMING
    )
    unchanged_url = upload_template(deployment.deployment.target, bucket, "diff-probe", json.dumps(deployed))
    unchanged = diff_stack(
        clients("cloudformation"),
        StackRequest(name, deployed, {"TemplateURL": unchanged_url}, {}),
        EMULATOR_TIMING,
    )

    assert changed[0] == f"stack {name}: 1 changes"
    assert "Add" in changed[2]
    assert "DiffProbeQueue" in changed[2]
    # CloudFormation fails a change set without changes; moto completes it with none listed.
    assert unchanged[0] in (f"stack {name}: no changes", f"stack {name}: 0 changes")
    assert unchanged[2:] == []
    remaining = clients("cloudformation").list_change_sets(StackName=name)["Summaries"]
    assert [summary for summary in remaining if summary["Status"] == "CREATE_COMPLETE"] == []


def test_the_progress_counts_what_the_emulator_created_and_names_what_it_skipped(
    deployment: DeployedStack,
) -> None:
    overrides = load_parameter_file(LOCAL_PARAMETERS) | {SUFFIX_PARAMETER: deployment.environment}
    expected = deployed_resources(TEMPLATE, overrides)  # the resources whose Condition holds
    cloudformation = deployment.clients("cloudformation")
    summaries = cloudformation.list_stack_resources(StackName=deployment.deployment.stack)
    listed = {summary["LogicalResourceId"] for summary in summaries["StackResourceSummaries"]}
    created = listed & set(expected)
    skipped = {expected[logical_id] for logical_id in set(expected) - listed}
    stack = NAMES.stack.for_suffix(deployment.environment)
    (done,) = [line for line in deployment.log if "CREATE_COMPLETE" in line and line.endswith(f" {stack}")]
    first = deployment.log.index(done) + 1
    notes = deployment.log[first : first + 1 + len(EMULATOR_GAPS)]  # every gap is in the local stack

    assert len(expected) < len(TEMPLATE["Resources"])  # the local parameters leave some out
    # What the emulator skipped is exactly what tapstack/local/gaps.py (and so docs/local.md) names.
    assert skipped == {kind for kind in SKIPPED_TYPES if kind in expected.values()}
    assert "AWS::WAFv2::WebACL" in skipped
    assert done.startswith(f"[{len(created):3d}/{len(expected)}] ")
    assert notes[0].strip() == f"the emulator created {len(created)} of these {len(expected)}; it skipped:"
    for gap, note in zip(EMULATOR_GAPS, notes[1:], strict=True):
        assert note.strip().endswith(f": {gap.instead}")
    # docs/local.md quotes the count of a stack deployed with params/local.json
    assert f"`[{len(created):3d}/{len(expected)}]` with `params/local.json`" in LOCAL_PAGE.read_text(
        encoding="utf-8"
    )


def test_destroy_leaves_no_stack_and_no_bucket_behind(
    emulator: Clients, deployment: DeployedStack, tmp_path: Path
) -> None:
    doomed = deploy(emulator, "gone", tmp_path)
    s3 = emulator("s3")
    audit = doomed.outputs[AUDIT_BUCKET_NAME]
    for version in range(3):  # versions and a delete marker, as a real audit bucket has
        s3.put_object(Bucket=audit, Key="raw/x.json", Body=b"%d" % version)
    s3.delete_object(Bucket=audit, Key="raw/x.json")

    assert doomed.flat_outputs_path.is_file()

    left = destroy_environment(
        doomed.deployment,
        with_bootstrap=False,
        report=doomed.log.append,
        flat_outputs_path=doomed.flat_outputs_path,
    )

    assert left == []
    assert not doomed.flat_outputs_path.exists()  # it named what no longer exists
    buckets = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    assert not {doomed.outputs[AUDIT_BUCKET_NAME], doomed.outputs[ACCESS_LOG_BUCKET_NAME]} & buckets
    live = emulator("cloudformation").list_stacks(StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE"])
    assert NAMES.stack.for_suffix("gone") not in {summary["StackName"] for summary in live["StackSummaries"]}


def test_a_changed_parameter_updates_the_stack(deployment: DeployedStack, tmp_path: Path) -> None:
    parameters = tmp_path / "longer-logs.json"
    overrides = load_parameter_file(LOCAL_PARAMETERS) | {"LogRetentionDays": "14"}
    parameters.write_text(json.dumps([f"{key}={value}" for key, value in overrides.items()]))
    log: list[str] = []
    name = NAMES.stack.for_suffix(deployment.environment)

    deploy_environment(
        deployment.deployment,
        parameters,
        deployment.artifact,
        log.append,
        tmp_path / "f.json",
    )

    assert f"stack {name} updated; {len(DEFAULT_OUTPUTS)} outputs written to {tmp_path / 'f.json'}" in log
    stack = deployment.clients("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    assert {"ParameterKey": "LogRetentionDays", "ParameterValue": "14"} in stack["Parameters"]
