"""`tapstack local …`: the same operations on the moto emulator on loopback, the functions run here.

Lambda cannot run code in the emulator, so the functions of a local stack run in this process, with the
real handlers, against the emulated services.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

import click

from tapstack import paths
from tapstack.cli.operate import (
    APPLY_RECONCILE_OPTION,
    OUTPUTS_OPTION,
    TEMPLATE_OPTION,
    WITH_BOOTSTRAP_OPTION,
    environment_option,
    function_options,
    load_deployment,
    parameters_options,
    print_json,
)
from tapstack.cli.options import MOMENT
from tapstack.exits import CommandError, ExitCode
from tapstack.local import emulator, ports
from tapstack.local.faults import FAULTS
from tapstack.local.target import EmulatorTarget, local_deployments
from tapstack.operate import actions
from tapstack.operate.deployment import Deployment
from tapstack.operate.replay import TARGETS

LOCAL_ENVIRONMENT = "local"
LOCAL_PARAMS = paths.PARAMS / "local.json"

PORT_OPTION = click.option(
    "--port",
    type=int,
    default=lambda: ports.remembered(ports.EMULATOR),
    show_default=f"the port `local up` last started it on, else {ports.DEFAULT_PORTS[ports.EMULATOR]}",
    help="the emulator's port on 127.0.0.1",
)


def emulator_deployment(environment: str, template_path: Path, port: int) -> Deployment:
    """The deployment on the emulator on port; refused at once when nothing answers there (boto3 would
    retry)."""
    if not emulator.answers(port):
        raise CommandError(
            f"the emulator is not running on port {port}: start it with `make local-up LOCAL_PORT={port}` "
            f"(or `tapstack local up --port {port}`)"
        )
    return load_deployment(EmulatorTarget.at(emulator.endpoint(port)), environment, template_path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def local() -> None:
    """The stack on the local emulator: start it, deploy, deliver, serve, inspect, replay, destroy."""


@local.command(epilog="Example:\n\n  tapstack local up --port 5000")
@PORT_OPTION
def up(port: int) -> ExitCode:
    """Start the moto emulator on 127.0.0.1:PORT (pid and log under .local/); later local commands use
    that port without being told."""
    print(emulator.start(emulator.EmulatorFiles(port)))
    ports.remember(ports.EMULATOR, port)
    return ExitCode.OK


@local.command(epilog="Example:\n\n  tapstack local down")
@PORT_OPTION
def down(port: int) -> ExitCode:
    """Stop the emulator `local up` started (its pid file's process, checked first)."""
    print(emulator.stop(emulator.EmulatorFiles(port)))
    if port == ports.remembered(ports.EMULATOR):
        ports.remember(ports.EMULATOR, None)
    return ExitCode.OK


@local.command(name="deploy", epilog="Example:\n\n  tapstack local deploy --params params/local.json")
@environment_option(LOCAL_ENVIRONMENT)
@parameters_options(LOCAL_PARAMS)
@OUTPUTS_OPTION
@PORT_OPTION
def deploy_local(
    environment: str,
    template_path: Path,
    parameter_file: Path,
    artifact: Path | None,
    flat_outputs_path: Path,
    port: int,
) -> ExitCode:
    """Package and deploy the stack to the emulator; write its outputs (cfn-outputs/flat-outputs.json)."""
    deployment = emulator_deployment(environment, template_path, port)
    actions.deploy_environment(deployment, parameter_file, artifact, print, flat_outputs_path)
    return ExitCode.OK


@functools.cache
def _handler_log(path: Path) -> TextIO:
    """The file the in-process handlers log to, opened once: their loggers keep the stream they got."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("a", encoding="utf-8")


def _event_file(path: Path) -> Path:
    """Refuse, before anything runs, an event file that is not a JSON document in UTF-8."""
    try:
        json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise CommandError(
            f"{path} is not a JSON event ({error.__class__.__name__}): give a sample such as "
            "events/stripe/refund.created.json"
        ) from error
    return path


@local.command(
    epilog="""\b
Examples:
  tapstack local send events/stripe/refund.created.json
  tapstack local send events/internal/transaction.created.json   POST /transactions, with the API key
  tapstack local send events/stripe/refund.created.json --fault table   then: tapstack local replay --apply"""
)
@click.argument("event", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--provider", help="default: the event file's directory name")
@click.option(
    "--fault",
    type=click.Choice(FAULTS),
    help="make one part fail (a function crashes, or the table, bucket or topic refuses) to watch the "
    "event dead-letter and recover it with `local replay --apply`; or `unreachable`: the provider logs "
    "the event but it never arrives, recovered with `local reconcile --apply`",
)
@environment_option(LOCAL_ENVIRONMENT)
@PORT_OPTION
def send(
    event: Path, provider: str | None, fault: str | None, environment: str, template_path: Path, port: int
) -> ExitCode:
    """Deliver a signed sample event to the local stack; print what happened as one JSON document.

    The JSON is all that goes to stdout; the handlers' logs go to .local/send.log (its path is printed
    on stderr).
    """
    from tapstack.local.send import send_to_deployment  # noqa: PLC0415 (imports the handlers)

    deployment = emulator_deployment(environment, template_path, port)
    log_path = paths.LOCAL_STATE / "send.log"
    with contextlib.redirect_stdout(_handler_log(log_path)):
        document = send_to_deployment(deployment, _event_file(event), provider, fault)
    print(f"handler logs: {log_path}", file=sys.stderr)
    print(json.dumps(document, indent=2))
    return ExitCode.OK if document["ok"] else ExitCode.FAILED


@local.command(
    epilog="""\b
Examples:
  tapstack local serve
  tapstack local serve --http-port 8788
  tapstack local serve --stripe-signing-secret whsec_...   the secret `stripe listen` prints
  then: stripe listen --forward-to http://127.0.0.1:8787/v1/webhooks/stripe"""
)
@environment_option(LOCAL_ENVIRONMENT)
@PORT_OPTION
@click.option(
    "--http-port",
    type=int,
    default=lambda: ports.remembered(ports.HTTP),
    envvar="LOCAL_HTTP_PORT",
    show_default=f"the port it last served on, else {ports.DEFAULT_PORTS[ports.HTTP]}",
    help="the local API's port on 127.0.0.1 (or LOCAL_HTTP_PORT)",
)
@click.option(
    "--stripe-signing-secret",
    help="also accept Stripe deliveries signed with this secret (the whsec_... `stripe listen` prints)",
)
def serve(
    environment: str, template_path: Path, port: int, http_port: int, stripe_signing_secret: str | None
) -> ExitCode:
    """Serve the local stack's API over HTTP on 127.0.0.1, as API Gateway serves the deployed one.

    Each delivery runs the receiver and then the asynchronous chain, as `local send` does, and prints one
    line with its outcome; the handlers' logs go to .local/serve.log. Stop it with Ctrl-C.
    """
    from tapstack.local.serve import http_server, local_api  # noqa: PLC0415 (imports the handlers)

    deployment = emulator_deployment(environment, template_path, port)
    terminal = sys.stdout
    log_path = paths.LOCAL_STATE / "serve.log"

    def report(line: str) -> None:
        print(line, file=terminal, flush=True)

    with contextlib.redirect_stdout(_handler_log(log_path)):
        api = local_api(deployment, report, stripe_signing_secret)
        try:
            server = http_server(api, http_port)
        except OSError as error:
            commands = ["make serve-local LOCAL_HTTP_PORT={port}", "tapstack local serve --http-port {port}"]
            raise ports.port_taken(http_port, error, commands) from error
        ports.remember(ports.HTTP, http_port)
        base = f"http://127.0.0.1:{server.server_address[1]}/{api.api.stage}"
        report(f"serving {deployment.stack} at {base} (handler logs: {log_path}; Ctrl-C stops)")
        report(f"  POST {base}/webhooks/{{stripe,paypal,generic}}  signed as each provider signs")
        report(f"  POST {base}/transactions  with x-api-key: {api.api_key}")
        with api.runtime.activated(), server:
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                report("stopped")
    return ExitCode.OK


@local.command(
    name="replay",
    epilog="""\b
Examples:
  tapstack local replay
  tapstack local replay --apply --function processor --verbose""",
)
@environment_option(LOCAL_ENVIRONMENT)
@function_options
@click.option("--verbose", is_flag=True, help="the handlers' logs on stderr instead of in .local/replay.log")
@PORT_OPTION
def replay_local(
    environment: str, template_path: Path, functions: tuple[str, ...], apply: bool, verbose: bool, port: int
) -> ExitCode:
    """Re-drive the local stack's dead-letter queues (a dry run unless --apply).

    Prints one line per function; the handlers it runs log to .local/replay.log (--verbose: to stderr).
    """
    deployment = emulator_deployment(environment, template_path, port)
    terminal = sys.stdout

    def report(line: str) -> None:
        print(line, file=terminal, flush=True)

    handler_logs = sys.stderr if verbose else _handler_log(paths.LOCAL_STATE / "replay.log")
    with contextlib.redirect_stdout(handler_logs):
        kept = actions.replay_environment(deployment, list(functions) or list(TARGETS), apply, report)
    return ExitCode.FAILED if kept else ExitCode.OK


@local.command(
    name="reconcile",
    epilog="""\b
Examples:
  tapstack local reconcile --provider stripe            what the local Stripe log holds that the table lacks
  tapstack local reconcile --provider paypal --apply    hand those to the processor""",
)
@click.option(
    "--provider",
    type=click.Choice(("stripe", "paypal")),
    help="whose local event log (default: both, in one document)",
)
@click.option("--since", type=MOMENT, help="from (default: the start of the local provider's log)")
@click.option("--until", type=MOMENT, help="to (default: now)")
@APPLY_RECONCILE_OPTION
@environment_option(LOCAL_ENVIRONMENT)
@PORT_OPTION
def reconcile_local(
    provider: str | None,
    since: int | None,
    until: int | None,
    apply: bool,
    environment: str,
    template_path: Path,
    port: int,
) -> ExitCode:
    """List what the local provider's event log holds that the local table lacks; hand it over with --apply.

    The local providers log every event `local send` created (delivered or, with --fault unreachable,
    not) and serve the log on loopback for this command. Prints one JSON document (`missing`, `ingested`).
    """
    from tapstack.local.provider_apis.stand_ins import reconcile_local_stack  # noqa: PLC0415 (imports the handlers)
    from tapstack.operate.reconcile import window_of  # noqa: PLC0415 (imports the handlers)

    deployment = emulator_deployment(environment, template_path, port)
    window = window_of(since or 0, until)
    log_path = paths.LOCAL_STATE / "send.log"
    with contextlib.redirect_stdout(_handler_log(log_path)):
        providers = [provider] if provider else ["stripe", "paypal"]
        document = reconcile_local_stack(deployment, providers, window, apply)
    print(f"handler logs: {log_path}", file=sys.stderr)
    print_json(document)
    return ExitCode.OK if document["complete"] else ExitCode.FAILED


@local.command(name="destroy", epilog="Example:\n\n  tapstack local destroy --with-bootstrap")
@environment_option(LOCAL_ENVIRONMENT)
@WITH_BOOTSTRAP_OPTION
@OUTPUTS_OPTION
@PORT_OPTION
def destroy_local(
    environment: str, template_path: Path, with_bootstrap: bool, flat_outputs_path: Path, port: int
) -> ExitCode:
    """Empty the local buckets, delete the local stacks, and report anything left behind (1 if any).

    Every TapStack stack on the emulator goes, not only the template's: one an earlier prefix or another
    environment deployed is named and destroyed too (with --with-bootstrap, each prefix's bootstrap stack).
    """
    deployment = emulator_deployment(environment, template_path, port)
    others = [
        other
        for other in local_deployments(deployment.target, template_path)
        if other.stack != deployment.stack
    ]
    for other in others:
        print(f"also destroying {other.stack}: a local stack of this checkout deployed under another name")
    left = actions.destroy_environments([deployment, *others], with_bootstrap, print, flat_outputs_path)
    return ExitCode.FAILED if left else ExitCode.OK


@local.command(epilog="Example:\n\n  tapstack local load --deliveries 2000 --duplicates 0.2 --senders 8")
@TEMPLATE_OPTION
@parameters_options(LOCAL_PARAMS)
@click.option("--deliveries", default=2000, show_default=True)
@click.option("--duplicates", default=0.2, show_default=True, help="share of deliveries that repeat an event")
@click.option("--senders", default=8, show_default=True)
@click.option("--budget", default=300.0, show_default=True, help="seconds before the run is abandoned")
@PORT_OPTION
def load(
    template_path: Path,
    parameter_file: Path,
    artifact: Path | None,
    deliveries: int,
    duplicates: float,
    senders: int,
    budget: float,
    port: int,
) -> ExitCode:
    """Bounded load on a throwaway stack (deploy, deliver, destroy); writes build/load.json."""
    from tapstack.local.load import LOAD_ENVIRONMENT, load_run  # noqa: PLC0415 (imports the handlers)

    with contextlib.redirect_stdout(sys.stderr):
        deployment = emulator_deployment(LOAD_ENVIRONMENT, template_path, port)
        path, result = load_run(deployment, parameter_file, artifact, deliveries, duplicates, senders, budget)
    print(json.dumps({"report": str(path), **asdict(result)}, indent=2))
    complete = result.stored == result.published == result.unique_events and result.dead_letters == 0
    return ExitCode.OK if complete else ExitCode.FAILED
