"""Every stack operation, on AWS or on the local emulator: what `tapstack` operate and local commands run.

The `Deployment` passed in (tapstack/operate/deployment.py) says which template, environment and deploy
target: the moto server on loopback with fake credentials, or AWS with the usual credential chain.
Functions report progress through a `report` callable and raise DeployError for a failure the user can
act on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tapstack.artifact import build_artifact
from tapstack.operate.adoption import adopt, deployed_template, import_template, unowned_execution_log_group
from tapstack.operate.artifacts import (
    artifact_bucket,
    artifact_key,
    upload_if_absent,
    upload_template,
)
from tapstack.operate.cloud import (
    FLAT_OUTPUTS_PATH,
    DeployError,
    Report,
    describe_stack,
    outputs_of,
    read_flat_outputs,
    stack_outputs,
    write_flat_outputs,
)
from tapstack.operate.deployment import Deployment
from tapstack.operate.destroy import destroy_stack
from tapstack.operate.preflight import CheckResult, DeployPlan, failed, run_preflight
from tapstack.operate.replay import TARGETS, replay_queue
from tapstack.operate.stacks import StackRequest, cli_equivalent, deploy_stack, diff_stack
from tapstack.parameter_files import is_development_file, load_parameter_file
from templates.contract import SUFFIX_PARAMETER


def artifact_or_build(artifact: Path | None) -> Path:
    """The given Lambda zip, or the deterministic build of this checkout (build/lambda-<hash>.zip)."""
    return artifact if artifact is not None else build_artifact()


def _overrides(
    environment: str, parameter_file: Path, template: dict[str, Any], bucket: str, key: str
) -> dict[str, str]:
    overrides = load_parameter_file(parameter_file, template)
    if overrides.get(SUFFIX_PARAMETER, environment) != environment:
        raise DeployError(
            f"{parameter_file} sets {SUFFIX_PARAMETER}={overrides[SUFFIX_PARAMETER]}, not {environment}"
        )
    return overrides | {SUFFIX_PARAMETER: environment, "CodeS3Bucket": bucket, "CodeS3Key": key}


def plan_deploy(deployment: Deployment, parameter_file: Path, artifact: Path) -> DeployPlan:
    """The deploy of the deployment's template, under the names it was built with."""
    load_parameter_file(parameter_file, deployment.template)  # refused before any AWS call
    bootstrap_stack = deployment.names.bootstrap_stack
    try:
        bucket: str | None = artifact_bucket(deployment.clients("cloudformation"), bootstrap_stack)
    except DeployError:
        bucket = None
    key = artifact_key(artifact)
    return DeployPlan(
        environment=deployment.environment,
        stack=deployment.stack,
        bootstrap_stack=bootstrap_stack,
        overrides=_overrides(deployment.environment, parameter_file, deployment.template, bucket or "", key),
        artifact_bucket=bucket,
        artifact_key=key,
        artifact_will_upload=artifact.is_file(),
        development=is_development_file(parameter_file),
    )


def deploy_environment(
    deployment: Deployment,
    parameter_file: Path,
    artifact: Path | None,
    report: Report,
    flat_outputs_path: Path = FLAT_OUTPUTS_PATH,
) -> dict[str, str]:
    """Preflight, upload, deploy, and write cfn-outputs/flat-outputs.json; return the outputs.

    Without an artifact, this checkout's is built, after the parameter file is checked.
    """
    target = deployment.target
    load_parameter_file(parameter_file, deployment.template)  # refused before any AWS call
    artifact = artifact_or_build(artifact)
    target.prepare_account(deployment.names, report)
    plan = plan_deploy(deployment, parameter_file, artifact)
    results = run_preflight(target, deployment.template, plan)
    for result in results:
        for line in result.lines():
            report(line)
    if failed(results):
        raise DeployError("preflight failed: nothing was deployed")
    bucket = plan.overrides["CodeS3Bucket"]  # the artifact check passed, so the bucket exists
    uploaded = upload_if_absent(deployment.clients("s3"), bucket, plan.artifact_key, artifact.read_bytes())
    report(f"artifact s3://{bucket}/{plan.artifact_key} {'uploaded' if uploaded else 'already there'}")
    request = _stack_request(deployment, plan, bucket)
    _adopt_unowned_log_groups(deployment, request, bucket, report)
    outcome = deploy_stack(target, request, report)
    outputs = target.stack_outputs(plan.stack, deployment.environment, request.template)
    path = write_flat_outputs(outputs, flat_outputs_path)
    report(f"stack {plan.stack} {outcome}; {len(outputs)} outputs written to {path}")
    report("the same deploy with the AWS CLI:")
    report(
        "  "
        + cli_equivalent(
            plan.stack, bucket, plan.overrides, deployment.clients.region, deployment.template_path
        )
    )
    return outputs


def _adopt_unowned_log_groups(
    deployment: Deployment, request: StackRequest, bucket: str, report: Report
) -> None:
    """Import the execution-log group API Gateway made into the stack before the update declares it
    (tapstack/operate/adoption.py)."""
    cloudformation = deployment.clients("cloudformation")
    existing = describe_stack(cloudformation, request.name)
    adoption = unowned_execution_log_group(
        cloudformation, deployment.clients("logs"), existing, request.template
    )
    if existing is None or adoption is None:
        return
    combined = import_template(deployed_template(cloudformation, request.name), request.template, adoption)
    url = upload_template(
        deployment.target, bucket, request.name, json.dumps(combined, indent=2, sort_keys=True)
    )
    adopt(cloudformation, existing, adoption, url, report, deployment.target.timing)


def _stack_request(deployment: Deployment, plan: DeployPlan, bucket: str) -> StackRequest:
    """The stack to deploy: the template as the target deploys it, uploaded to the artifact bucket."""
    template, text = deployment.target.deployable(
        deployment.template, plan.overrides, deployment.template_path.read_text(encoding="utf-8")
    )
    url = upload_template(deployment.target, bucket, plan.stack, text)
    return StackRequest(plan.stack, template, {"TemplateURL": url}, plan.overrides)


def destroy_environment(
    deployment: Deployment,
    with_bootstrap: bool,
    report: Report,
    flat_outputs_path: Path = FLAT_OUTPUTS_PATH,
) -> list[str]:
    """Delete the stack (and, asked to, the bootstrap stack) of the template's names; return what is
    left behind. A refusal (a compliance-locked bucket) comes before anything is stopped or deleted.
    The flat outputs file goes too when it holds this stack's outputs: they name what no longer exists."""
    target, stack = deployment.target, deployment.stack
    existing = describe_stack(deployment.clients("cloudformation"), stack)
    clean_up = target.leftover_cleanup(stack, deployment.environment) if existing else None
    left = destroy_stack(target, stack, report)
    if clean_up is not None:
        clean_up()
    if existing is not None and not left and _holds(flat_outputs_path, outputs_of(existing)):
        flat_outputs_path.unlink()
        report(f"removed {flat_outputs_path} (the outputs of {stack})")
    if with_bootstrap:
        left += destroy_stack(target, deployment.names.bootstrap_stack, report)
    return left


def destroy_environments(
    deployments: list[Deployment],
    with_bootstrap: bool,
    report: Report,
    flat_outputs_path: Path = FLAT_OUTPUTS_PATH,
) -> list[str]:
    """destroy_environment for each of several stacks, then (asked to) each prefix's bootstrap stack once;
    return what is left behind by all of them."""
    left = [
        item
        for deployment in deployments
        for item in destroy_environment(deployment, False, report, flat_outputs_path)
    ]
    if with_bootstrap:
        bootstraps = {deployment.names.bootstrap_stack: deployment.target for deployment in deployments}
        for stack, target in sorted(bootstraps.items()):
            left += destroy_stack(target, stack, report)
    return left


def _holds(flat_outputs_path: Path, outputs: dict[str, str]) -> bool:
    try:
        # The file may hold more than the stack's outputs (the emulator's stand-ins'), never fewer.
        return bool(outputs) and outputs.items() <= read_flat_outputs(flat_outputs_path).items()
    except (OSError, ValueError):
        return False


def preflight_environment(
    deployment: Deployment, parameter_file: Path, artifact: Path | None
) -> list[CheckResult]:
    """Every preflight check of deploying this template as the deployment's environment."""
    load_parameter_file(parameter_file, deployment.template)  # before the artifact is built
    plan = plan_deploy(deployment, parameter_file, artifact_or_build(artifact))
    return run_preflight(deployment.target, deployment.template, plan)


def diff_environment(deployment: Deployment, parameter_file: Path, artifact: Path | None) -> list[str]:
    """What a deploy would change, one line a resource."""
    load_parameter_file(parameter_file, deployment.template)  # before the artifact is built
    plan = plan_deploy(deployment, parameter_file, artifact_or_build(artifact))
    if plan.artifact_bucket is None:
        raise DeployError("no artifact bucket: run make bootstrap first")
    request = _stack_request(deployment, plan, plan.artifact_bucket)
    return diff_stack(deployment.clients("cloudformation"), request, deployment.target.timing)


def replay_environment(deployment: Deployment, functions: list[str], apply: bool, report: Report) -> int:
    """Re-drive the dead letters of functions (list them unless apply); how many were kept."""
    clients = deployment.clients
    outputs = stack_outputs(clients("cloudformation"), deployment.stack)
    kept = 0
    # Functions run in this process (the emulator's) log to stdout: the caller says where that goes.
    with deployment.target.invoker(deployment.stack, deployment.environment) as invoker:
        for function in functions:
            queue_key, function_key = TARGETS[function]
            summary = replay_queue(
                clients("sqs"), outputs[queue_key], outputs[function_key], invoker, apply, report
            )
            kept += len(summary.failed)
            counts = (len(summary.replayed), len(summary.would_replay), len(summary.failed))
            report(f"{function}: %d replayed, %d to replay, %d kept" % counts)
    return kept
