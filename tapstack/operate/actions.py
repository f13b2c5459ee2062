"""Every stack operation, on AWS or on the local emulator: what `tapstack` operate and local commands run.

The `Clients` passed in decide where: the moto server on loopback with fake credentials, or AWS with the
usual credential chain. Functions report progress through a `report` callable and raise DeployError for
a failure the user can act on.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tapstack.artifact import build_artifact
from tapstack.cfn.model import read_template
from tapstack.local import emulator
from tapstack.operate.cloud import (
    FLAT_OUTPUTS_PATH,
    TEMPLATE_PATH,
    Clients,
    deployed_template,
    describe_stack,
    outputs_of,
    read_flat_outputs,
    stack_outputs,
    template_names,
    write_flat_outputs,
)
from tapstack.operate.deploy import (
    EMULATOR_TIMING,
    DeployError,
    Report,
    StackRequest,
    Timing,
    artifact_bucket,
    artifact_key,
    cli_equivalent,
    deploy_stack,
    destroy_stack,
    diff_stack,
    upload_if_absent,
    upload_template,
)
from tapstack.operate.preflight import CheckResult, DeployPlan, failed, run_preflight
from tapstack.operate.replay import TARGETS, replay_queue
from tapstack.parameter_files import load_parameter_file
from templates.bootstrap import bootstrap_template_json
from templates.naming import names_of

if TYPE_CHECKING:  # both import the handlers: only the commands that run them load them
    from tapstack.local.load import LoadResult
    from tapstack.local.send import LocalRuntime

LOAD_ENVIRONMENT = "load"


def timing_for(clients: Clients) -> Timing:
    return EMULATOR_TIMING if clients.is_emulator else Timing()


def artifact_or_build(artifact: Path | None) -> Path:
    """The given Lambda zip, or the deterministic build of this checkout (build/lambda-<hash>.zip)."""
    return artifact if artifact is not None else build_artifact()


def bootstrap(clients: Clients, report: Report, template_path: Path = TEMPLATE_PATH) -> str:
    """Create or update the artifact-bucket stack of the template's names; return the bucket's name."""
    names = template_names(template_path)
    text = bootstrap_template_json(names)
    request = StackRequest(names.bootstrap_stack, json.loads(text), {"TemplateBody": text}, {})
    deploy_stack(clients("cloudformation"), request, report, timing_for(clients), clients.is_emulator)
    return artifact_bucket(clients("cloudformation"), names.bootstrap_stack)


def _overrides(
    environment: str, parameter_file: Path, template: dict[str, Any], bucket: str, key: str
) -> dict[str, str]:
    overrides = load_parameter_file(parameter_file, template)
    if overrides.get("EnvironmentSuffix", environment) != environment:
        raise DeployError(
            f"{parameter_file} sets EnvironmentSuffix={overrides['EnvironmentSuffix']}, not {environment}"
        )
    return overrides | {"EnvironmentSuffix": environment, "CodeS3Bucket": bucket, "CodeS3Key": key}


def plan_deploy(
    clients: Clients,
    environment: str,
    parameter_file: Path,
    artifact: Path,
    template_path: Path = TEMPLATE_PATH,
) -> tuple[DeployPlan, dict[str, Any]]:
    """The deploy of the template at `template_path` as `environment`, under the names it was built with."""
    template = read_template(template_path)
    load_parameter_file(parameter_file, template)  # refused before any AWS call
    names = names_of(template)
    try:
        bucket: str | None = artifact_bucket(clients("cloudformation"), names.bootstrap_stack)
    except DeployError:
        bucket = None
    key = artifact_key(artifact)
    plan = DeployPlan(
        environment=environment,
        stack=names.stack.for_suffix(environment),
        bootstrap_stack=names.bootstrap_stack,
        overrides=_overrides(environment, parameter_file, template, bucket or "", key),
        artifact_bucket=bucket,
        artifact_key=key,
        artifact_will_upload=artifact.is_file(),
    )
    return plan, template


def deploy_environment(
    clients: Clients,
    environment: str,
    parameter_file: Path,
    artifact: Path | None,
    report: Report,
    flat_outputs_path: Path = FLAT_OUTPUTS_PATH,
    template_path: Path = TEMPLATE_PATH,
) -> dict[str, str]:
    """Preflight, upload, deploy, and write cfn-outputs/flat-outputs.json; return the outputs.

    Without an artifact, this checkout's is built, after the parameter file is checked.
    """
    load_parameter_file(parameter_file, read_template(template_path))  # refused before any AWS call
    artifact = artifact_or_build(artifact)
    if clients.is_emulator:  # what a real account has before its first deploy
        emulator.prepare_account(clients)
        bootstrap(clients, report, template_path)
    plan, template = plan_deploy(clients, environment, parameter_file, artifact, template_path)
    results = run_preflight(clients, template, plan)
    for result in results:
        for line in result.lines():
            report(line)
    if failed(results):
        raise DeployError("preflight failed: nothing was deployed")
    bucket = plan.overrides["CodeS3Bucket"]  # the artifact check passed, so the bucket exists
    uploaded = upload_if_absent(clients("s3"), bucket, plan.artifact_key, artifact.read_bytes())
    report(f"artifact s3://{bucket}/{plan.artifact_key} {'uploaded' if uploaded else 'already there'}")
    template, text = _as_deployed(clients, template, plan.overrides, template_path)
    url = upload_template(clients, bucket, plan.stack, text)
    request = StackRequest(plan.stack, template, {"TemplateURL": url}, plan.overrides)
    outcome = deploy_stack(
        clients("cloudformation"), request, report, timing_for(clients), clients.is_emulator
    )
    outputs = stack_outputs(clients("cloudformation"), plan.stack)
    if clients.is_emulator:
        outputs = emulator.ensure_fill_ins(clients, environment, template)
    path = write_flat_outputs(outputs, flat_outputs_path)
    report(f"stack {plan.stack} {outcome}; {len(outputs)} outputs written to {path}")
    report("the same deploy with the AWS CLI:")
    report("  " + cli_equivalent(plan.stack, bucket, plan.overrides, clients.region, template_path))
    return outputs


def _as_deployed(
    clients: Clients, template: dict[str, Any], overrides: dict[str, str], template_path: Path
) -> tuple[dict[str, Any], str]:
    """The template to deploy and its text: the file itself, or on the emulator what moto can create."""
    if not clients.is_emulator:
        return template, template_path.read_text(encoding="utf-8")
    template = emulator.as_moto_reads_it(template, overrides)
    return template, json.dumps(template, indent=2, sort_keys=True)


def destroy_environment(
    clients: Clients,
    environment: str,
    with_bootstrap: bool,
    report: Report,
    template_path: Path = TEMPLATE_PATH,
    flat_outputs_path: Path = FLAT_OUTPUTS_PATH,
) -> list[str]:
    """Delete the stack (and, asked to, the bootstrap stack) of the template's names; return what is
    left behind. A refusal (a compliance-locked bucket) comes before anything is stopped or deleted.
    The flat outputs file goes too when it holds this stack's outputs: they name what no longer exists."""
    names = template_names(template_path)
    stack = names.stack.for_suffix(environment)
    cloudformation = clients("cloudformation")
    existing = describe_stack(cloudformation, stack)
    # the emulator's stand-ins are made from the deployed template, which is gone with the stack
    template = deployed_template(cloudformation, stack) if clients.is_emulator and existing else None
    left = destroy_stack(clients, stack, report, timing_for(clients))
    if template is not None:
        emulator.remove_fill_ins(clients, environment, template)
    if existing is not None and not left and _holds(flat_outputs_path, outputs_of(existing)):
        flat_outputs_path.unlink()
        report(f"removed {flat_outputs_path} (the outputs of {stack})")
    if with_bootstrap:
        left += destroy_stack(clients, names.bootstrap_stack, report, timing_for(clients))
    return left


def _holds(flat_outputs_path: Path, outputs: dict[str, str]) -> bool:
    try:
        # On the emulator the file also holds the stand-ins' outputs, so it holds at least the stack's.
        return bool(outputs) and outputs.items() <= read_flat_outputs(flat_outputs_path).items()
    except (OSError, ValueError):
        return False


def preflight_environment(
    clients: Clients, environment: str, parameter_file: Path, artifact: Path | None
) -> list[CheckResult]:
    """Every preflight check of deploying this template as environment."""
    load_parameter_file(parameter_file, read_template(TEMPLATE_PATH))  # before the artifact is built
    plan, template = plan_deploy(clients, environment, parameter_file, artifact_or_build(artifact))
    return run_preflight(clients, template, plan)


def diff_environment(
    clients: Clients, environment: str, parameter_file: Path, artifact: Path | None
) -> list[str]:
    """What a deploy would change, one line a resource."""
    load_parameter_file(parameter_file, read_template(TEMPLATE_PATH))  # before the artifact is built
    plan, template = plan_deploy(clients, environment, parameter_file, artifact_or_build(artifact))
    if plan.artifact_bucket is None:
        raise DeployError("no artifact bucket: run make bootstrap first")
    template, text = _as_deployed(clients, template, plan.overrides, TEMPLATE_PATH)
    url = upload_template(clients, plan.artifact_bucket, plan.stack, text)
    request = StackRequest(plan.stack, template, {"TemplateURL": url}, plan.overrides)
    return diff_stack(clients("cloudformation"), request, timing_for(clients))


def local_runtime(clients: Clients, environment: str) -> LocalRuntime:
    """The deployed emulator stack's functions, run in this process."""
    from tapstack.local.send import LocalRuntime  # noqa: PLC0415 (imports the handlers: only commands that run them)

    if not clients.is_emulator:
        raise DeployError("only a stack on the emulator runs its functions in this process")
    return LocalRuntime.for_deployed_stack(clients, environment)


def send_local(
    clients: Clients, environment: str, event: Path, provider: str | None, fault: str | None = None
) -> dict[str, Any]:
    """Deliver a signed sample event to the local stack, with an injected fault if asked; what happened,
    as a JSON-ready document."""
    from tapstack.local.send import send_event  # noqa: PLC0415 (imports the handlers)

    runtime = local_runtime(clients, environment)
    with runtime.activated():
        return send_event(runtime, event, provider, fault)


def replay_environment(
    clients: Clients, environment: str, functions: list[str], apply: bool, report: Report
) -> int:
    """Re-drive the dead letters of functions (list them unless apply); how many were kept."""
    outputs = stack_outputs(clients("cloudformation"), template_names().stack.for_suffix(environment))
    kept = 0
    # Handler logs (when the functions run in this process) go to stderr.
    with contextlib.redirect_stdout(sys.stderr), contextlib.ExitStack() as stack:
        if clients.is_emulator:  # Lambda cannot run code in the emulator: the runtime here does
            runtime = local_runtime(clients, environment)
            stack.enter_context(runtime.activated())
            invoker = runtime.async_lambda()
        else:
            invoker = clients("lambda")
        for function in functions:
            queue_key, function_key = TARGETS[function]
            summary = replay_queue(
                clients("sqs"), outputs[queue_key], outputs[function_key], invoker, apply, report
            )
            kept += len(summary.failed)
            counts = (len(summary.replayed), len(summary.would_replay), len(summary.failed))
            report(f"{function}: %d replayed, %d to replay, %d kept" % counts)
    return kept


def load_run(
    clients: Clients,
    parameter_file: Path,
    artifact: Path | None,
    deliveries: int,
    duplicates: float,
    senders: int,
    budget: float,
) -> tuple[Path, LoadResult]:
    """Deploy a throwaway stack, run the bounded load on it, destroy it; the report's path and result."""
    from tapstack.local.load import run_load, write_load_report  # noqa: PLC0415 (imports the handlers)

    deploy_environment(clients, LOAD_ENVIRONMENT, parameter_file, artifact, print)
    try:
        runtime = local_runtime(clients, LOAD_ENVIRONMENT)
        with runtime.activated():
            result = run_load(runtime, deliveries, duplicates, senders, budget)
        return write_load_report(result, "make load"), result
    finally:
        destroy_environment(clients, LOAD_ENVIRONMENT, with_bootstrap=False, report=print)
