"""One entry point for every stack operation, on AWS or on the local emulator (`--local-port`).

    tapstack-ops local-up|local-down --local-port 5000
    tapstack-ops bootstrap [--region R | --local-port P]
    tapstack-ops preflight|deploy|diff --env dev --params params/dev.json [--artifact ZIP]
    tapstack-ops destroy --env dev [--with-bootstrap]
    tapstack-ops send --env local --event events/stripe/refund.created.json --local-port P
    tapstack-ops replay --env dev [--function processor|notifier] [--apply]
    tapstack-ops load --deliveries 2000 --local-port P

With `--local-port`, every client goes to the moto server on that port with fake credentials;
without it, to AWS with the usual credential chain. Exit status: 0 success, 1 a check or step
failed, 2 bad usage. The Makefile targets wrap these commands.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from tapstack.local import emulator
from tapstack.operate.cloud import (
    BOOTSTRAP_STACK_NAME,
    FLAT_OUTPUTS_PATH,
    TEMPLATE_PATH,
    Clients,
    deployed_template,
    describe_stack,
    stack_name,
    stack_outputs,
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
    load_parameter_file,
    upload_if_absent,
    upload_template,
)
from tapstack.operate.preflight import DeployPlan, failed, run_preflight
from tapstack.operate.replay import TARGETS, replay_queue
from templates.bootstrap import bootstrap_template_json

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
LOAD_ENVIRONMENT = "load"


def timing_for(clients: Clients) -> Timing:
    return EMULATOR_TIMING if clients.is_emulator else Timing()


def build_artifact() -> Path:
    """tools/package.py's deterministic build (build/lambda-<hash>.zip)."""
    try:
        package = importlib.import_module("tapstack.build.package")
    except ModuleNotFoundError as error:
        raise DeployError(
            "tools/package.py is not there yet: pass --artifact PATH to a Lambda zip"
        ) from error
    return Path(package.build_artifact())


def bootstrap(clients: Clients, report: Report) -> str:
    """Create or update the artifact-bucket stack; return the bucket's name."""
    text = bootstrap_template_json()
    request = StackRequest(BOOTSTRAP_STACK_NAME, json.loads(text), {"TemplateBody": text}, {})
    deploy_stack(clients("cloudformation"), request, report, timing_for(clients), clients.is_emulator)
    return artifact_bucket(clients("cloudformation"))


def _overrides(environment: str, parameter_file: Path, bucket: str, key: str) -> dict[str, str]:
    overrides = load_parameter_file(parameter_file)
    if overrides.get("EnvironmentSuffix", environment) != environment:
        raise DeployError(
            f"{parameter_file} sets EnvironmentSuffix={overrides['EnvironmentSuffix']}, not {environment}"
        )
    return overrides | {"EnvironmentSuffix": environment, "CodeS3Bucket": bucket, "CodeS3Key": key}


def plan_deploy(
    clients: Clients, environment: str, parameter_file: Path, artifact: Path
) -> tuple[DeployPlan, dict[str, Any]]:
    template = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
    try:
        bucket: str | None = artifact_bucket(clients("cloudformation"))
    except DeployError:
        bucket = None
    key = artifact_key(artifact)
    plan = DeployPlan(
        environment=environment,
        stack=stack_name(environment),
        overrides=_overrides(environment, parameter_file, bucket or "", key),
        artifact_bucket=bucket,
        artifact_key=key,
        artifact_will_upload=artifact.is_file(),
    )
    return plan, template


def deploy_environment(
    clients: Clients,
    environment: str,
    parameter_file: Path,
    artifact: Path,
    report: Report,
    flat_outputs_path: Path = FLAT_OUTPUTS_PATH,
) -> dict[str, str]:
    """Preflight, upload, deploy, and write cfn-outputs/flat-outputs.json; return the outputs."""
    if clients.is_emulator:  # what a real account has before its first deploy
        emulator.prepare_account(clients)
        bootstrap(clients, report)
    plan, template = plan_deploy(clients, environment, parameter_file, artifact)
    results = run_preflight(clients, template, plan)
    for result in results:
        for line in result.lines():
            report(line)
    if failed(results):
        raise DeployError("preflight failed: nothing was deployed")
    bucket = plan.overrides["CodeS3Bucket"]  # the artifact check passed, so the bucket exists
    uploaded = upload_if_absent(clients("s3"), bucket, plan.artifact_key, artifact.read_bytes())
    report(f"artifact s3://{bucket}/{plan.artifact_key} {'uploaded' if uploaded else 'already there'}")
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
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
    report("  " + cli_equivalent(plan.stack, bucket, plan.overrides, clients.region))
    return outputs


def destroy_environment(
    clients: Clients, environment: str, with_bootstrap: bool, report: Report
) -> list[str]:
    """Delete the stack (and, asked to, the bootstrap stack); return what is left behind."""
    stack = stack_name(environment)
    if clients.is_emulator and describe_stack(clients("cloudformation"), stack) is not None:
        emulator.remove_fill_ins(clients, environment, deployed_template(clients("cloudformation"), stack))
    left = destroy_stack(clients, stack, report, timing_for(clients))
    if with_bootstrap:
        left += destroy_stack(clients, BOOTSTRAP_STACK_NAME, report, timing_for(clients))
    return left


# ---------------------------------------------------------------------------------------------- CLI


def _clients(args: argparse.Namespace) -> Clients:
    if args.local_port is not None:
        return Clients.for_emulator(emulator.endpoint(args.local_port))
    return Clients.for_aws(args.region)


def _local_runtime(args: argparse.Namespace) -> Any:
    from tapstack.local.send import LocalRuntime  # noqa: PLC0415 (imports the handlers: only commands that run them)

    if args.local_port is None:
        raise DeployError("this command runs the functions in this process: it needs --local-port")
    return LocalRuntime.for_deployed_stack(_clients(args), args.env)


def command_local_up(args: argparse.Namespace) -> int:
    print(emulator.start(emulator.EmulatorFiles(args.local_port)))
    return EXIT_OK


def command_local_down(args: argparse.Namespace) -> int:
    print(emulator.stop(emulator.EmulatorFiles(args.local_port)))
    return EXIT_OK


def command_bootstrap(args: argparse.Namespace) -> int:
    print(f"artifact bucket: {bootstrap(_clients(args), print)}")
    return EXIT_OK


def command_preflight(args: argparse.Namespace) -> int:
    clients = _clients(args)
    plan, template = plan_deploy(clients, args.env, args.params, args.artifact or build_artifact())
    results = run_preflight(clients, template, plan)
    for result in results:
        print("\n".join(result.lines()))
    return EXIT_FAILED if failed(results) else EXIT_OK


def command_deploy(args: argparse.Namespace) -> int:
    deploy_environment(_clients(args), args.env, args.params, args.artifact or build_artifact(), print)
    return EXIT_OK


def command_diff(args: argparse.Namespace) -> int:
    clients = _clients(args)
    plan, template = plan_deploy(clients, args.env, args.params, args.artifact or build_artifact())
    if plan.artifact_bucket is None:
        raise DeployError("no artifact bucket: run make bootstrap first")
    url = upload_template(
        clients, plan.artifact_bucket, plan.stack, TEMPLATE_PATH.read_text(encoding="utf-8")
    )
    request = StackRequest(plan.stack, template, {"TemplateURL": url}, plan.overrides)
    print("\n".join(diff_stack(clients("cloudformation"), request, timing_for(clients))))
    return EXIT_OK


def command_destroy(args: argparse.Namespace) -> int:
    left = destroy_environment(_clients(args), args.env, args.with_bootstrap, print)
    return EXIT_FAILED if left else EXIT_OK


def command_send(args: argparse.Namespace) -> int:
    from tapstack.local.send import send_event  # noqa: PLC0415 (imports the handlers)

    # Handler logs and metrics go to stderr so that stdout is exactly one JSON document.
    with contextlib.redirect_stdout(sys.stderr):
        runtime = _local_runtime(args)
        with runtime.activated():
            document = send_event(runtime, args.event, args.provider)
    print(json.dumps(document, indent=2))
    return EXIT_OK if document["ok"] else EXIT_FAILED


def command_replay(args: argparse.Namespace) -> int:
    clients = _clients(args)
    outputs = stack_outputs(clients("cloudformation"), stack_name(args.env))
    stdout = sys.stdout

    def report(line: str) -> None:
        print(line, file=stdout)

    failures = 0
    # Handler logs (when the functions run in this process) go to stderr.
    with contextlib.redirect_stdout(sys.stderr), contextlib.ExitStack() as stack:
        if clients.is_emulator:  # Lambda cannot run code in the emulator: the runtime here does
            runtime = _local_runtime(args)
            stack.enter_context(runtime.activated())
            invoker = runtime.async_lambda()
        else:
            invoker = clients("lambda")
        for function in args.function or list(TARGETS):
            queue_key, function_key = TARGETS[function]
            summary = replay_queue(
                clients("sqs"), outputs[queue_key], outputs[function_key], invoker, args.apply, report
            )
            failures += len(summary.failed)
            counts = (len(summary.replayed), len(summary.would_replay), len(summary.failed))
            report(f"{function}: %d replayed, %d to replay, %d kept" % counts)
    return EXIT_FAILED if failures else EXIT_OK


def command_load(args: argparse.Namespace) -> int:
    from tapstack.local.load import run_load, write_load_report  # noqa: PLC0415 (imports the handlers)

    clients = _clients(args)
    args.env = LOAD_ENVIRONMENT
    with contextlib.redirect_stdout(sys.stderr):
        deploy_environment(clients, args.env, args.params, args.artifact or build_artifact(), print)
        try:
            runtime = _local_runtime(args)
            with runtime.activated():
                result = run_load(runtime, args.deliveries, args.duplicates, args.senders, args.budget)
            path = write_load_report(result, "make load")
        finally:
            destroy_environment(clients, args.env, with_bootstrap=False, report=print)
    print(json.dumps({"report": str(path), **asdict(result)}, indent=2))
    complete = result.stored == result.published == result.unique_events and result.dead_letters == 0
    return EXIT_OK if complete else EXIT_FAILED


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tapstack-ops", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], text: str, *, env: bool = True
    ) -> Any:
        sub = commands.add_parser(name, help=text, description=text)
        sub.set_defaults(handler=handler)
        target = sub.add_mutually_exclusive_group()
        target.add_argument("--local-port", type=int, help="use the moto emulator on this loopback port")
        target.add_argument("--region", help="AWS region (default: the credential chain's)")
        if env:
            sub.add_argument(
                "--env",
                required=True,
                type=environment_suffix,
                help="environment suffix: the stack is tapstack-<env>",
            )
        return sub

    def with_parameters(sub: Any) -> None:
        sub.add_argument(
            "--params", type=Path, required=True, help="parameter file (aws cloudformation deploy format)"
        )
        sub.add_argument(
            "--artifact", type=Path, help="Lambda zip to deploy (default: tools/package.py builds it)"
        )

    command("local-up", command_local_up, "start the emulator (pid and log under .local/)", env=False)
    command("local-down", command_local_down, "stop the emulator this repository started", env=False)
    command("bootstrap", command_bootstrap, "create or update the artifact-bucket stack", env=False)
    for name, handler, text in (
        ("preflight", command_preflight, "check the account before deploying"),
        ("deploy", command_deploy, "preflight, upload, deploy, write cfn-outputs/flat-outputs.json"),
        ("diff", command_diff, "show what a deploy would change"),
    ):
        with_parameters(command(name, handler, text))
    destroy = command("destroy", command_destroy, "empty the buckets, delete the stack, report leftovers")
    destroy.add_argument(
        "--with-bootstrap", action="store_true", help="also delete the artifact-bucket stack"
    )
    send = command("send", command_send, "deliver a signed sample event to the local stack")
    send.add_argument("--event", type=Path, required=True, help="events/<provider>/<name>.json")
    send.add_argument("--provider", help="default: the event file's directory name")
    replay = command("replay", command_replay, "re-drive dead-letter queues (dry run unless --apply)")
    replay.add_argument("--function", action="append", choices=sorted(TARGETS), help="default: both")
    replay.add_argument("--apply", action="store_true", help="re-invoke and delete; without it, only list")
    load = command(
        "load", command_load, "bounded load run on the emulator; writes build/load.json", env=False
    )
    with_parameters(load)
    load.add_argument("--deliveries", type=int, default=2000)
    load.add_argument(
        "--duplicates", type=float, default=0.2, help="share of deliveries that repeat an event"
    )
    load.add_argument("--senders", type=int, default=8)
    load.add_argument("--budget", type=float, default=300.0, help="seconds before the run is abandoned")
    return parser.parse_args(argv)


def environment_suffix(value: str) -> str:
    """Refuse a suffix the template would refuse, before any AWS call: same pattern, same length limit."""
    parameter = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))["Parameters"]["EnvironmentSuffix"]
    pattern, longest = parameter["AllowedPattern"], parameter["MaxLength"]
    if not re.fullmatch(pattern, value) or len(value) > longest:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a valid EnvironmentSuffix: {pattern}, at most {longest} characters "
            "(the longest that keeps every resource name within its AWS limit; S3 bucket names are the "
            "tightest)"
        )
    return value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return int(args.handler(args))
    except (DeployError, LookupError, ClientError, BotoCoreError, OSError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
