"""Benchmarks (`make bench`): set-up from a fresh clone, cold start, per-event CPU, artifact size.

* Wall time of `make template` and then `make test` in a fresh clone of the committed code, with an
  empty installer cache (goals: 20 s and 150 s on this project's 2-core machine).
* Cold import + client set-up of each handler module, in a fresh interpreter per sample (median of
  several), against a bare `import boto3` + the same clients measured in the same run. Target:
  within 1.3x of that baseline.
* CPU time (time.process_time) per event of the receiver's decision (event parsing, verification,
  JSON parsing, normalisation) for each provider. Target: under 50 µs for the HMAC providers;
  PayPal's RSA verification is reported on its own. Every catalogue provider is timed beside Stripe
  the same way, from its first sample, signed as the provider signs; a batch's CPU is per event.
* Parsing a 128 KiB body (the receiver's limit): a typical event padded to the limit beside the
  worst shapes constructed against the parser (unterminated strings of escapes, bracket runs,
  many tiny values, long numbers), CPU ms per parse. Every shape must stay linear in the size.
* Wall time of `tapstack lint` on the committed template, every tool, warm (goal: 15 s).
* The artifact's size.
* Deliveries per second of the last bounded load run on the emulator (`make load`, build/load.json),
  which `make bench` runs first.
* What one delivery makes each function do, on a throwaway stack on the emulator
  (tapstack/local/measure.py): its duration, the log bytes it writes, its AWS requests and DynamoDB
  units, written to the committed tapstack/cost/measurements.json that `tapstack cost` reads.
* Reconciliation: events per second the reconciler lists and checks against the local Stripe stand-in
  over HTTP on loopback, and its provider calls and table reads per 1,000 events, for windows of
  several sizes (goal: at most about 11 of each per 1,000 events: full pages of 100, batched reads).

Prints a table and writes build/bench.json. Figures depend on the machine: compare ratios.
"""

import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from handlers.core.errors import RejectionError
from handlers.core.http import HttpRequest
from handlers.core.jsonbody import parse_object
from handlers.core.receiving import MAX_BODY_BYTES, Receiver
from handlers.core.secrets import ProviderMaterial, VerificationMaterial
from handlers.providers.catalogue import CATALOGUE
from handlers.providers.paypal import CertificateCache
from tapstack import paths
from tapstack.artifact import BUILD, build_artifact
from tapstack.local.delivery import ApiIdentity, Route, Signer, api_gateway_event
from tapstack.local.measure import measurement_run
from tapstack.local.paypal_pki import LocalPaypal
from tapstack.operate.deployment import Deployment

COLD_SAMPLES = 9
HANDLER_CLIENTS = {
    "handlers.receiver": ("secretsmanager", "lambda"),
    "handlers.processor": ("dynamodb", "s3"),
    "handlers.notifier": ("dynamodb", "sns"),
    "handlers.reconciler": ("secretsmanager", "dynamodb", "lambda"),
}
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "PROCESSOR_FUNCTION_NAME": "bench-processor",
    "WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench",
    "TRANSACTIONS_TABLE_NAME": "bench",
    "OBJECTS_TABLE_NAME": "bench-objects",
    "RECONCILIATION_TABLE_NAME": "bench-reconciliation",
    "STACK_METRICS_NAMESPACE": "TapStack/bench",
    "AUDIT_BUCKET_NAME": "bench",
    "EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:bench",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "POWERTOOLS_METRICS_NAMESPACE": "TapStack",
}
EVENTS = {
    "stripe": "stripe/payment_intent.succeeded.json",
    "generic": "generic/payment.succeeded.json",
    "internal": "internal/transaction.created.json",
    "paypal": "paypal/PAYMENT.CAPTURE.COMPLETED.json",
    # The catalogue's, beside Stripe's: each provider's first sample (a batch is timed per event).
    **{
        name: sorted(f"{name}/{path.name}" for path in (paths.EVENTS / name).iterdir())[0]
        for name in CATALOGUE
    },
}


def _timed(statement: str) -> float:
    """Seconds `statement` takes in a fresh interpreter (interpreter start-up excluded)."""
    program = f"import time\nstart = time.perf_counter()\n{statement}\nprint(time.perf_counter() - start)\n"
    result = subprocess.run(  # noqa: S603 (our own interpreter and program)
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ.get("PATH", ""), **ENVIRONMENT},
    )
    return float(result.stdout.strip())


def cold_start() -> list[dict[str, Any]]:
    rows = []
    for module, services in HANDLER_CLIENTS.items():
        handler = (
            f"import {module} as handler_module\n"
            "deps = handler_module.DEPENDENCIES.get()\n"
            f"for service in {services!r}: deps.clients(service)"
        )
        baseline = f"import boto3\nfor service in {services!r}: boto3.client(service)"
        handler_times, baseline_times = [], []
        for _ in range(COLD_SAMPLES):  # interleaved, so that machine noise hits both alike
            handler_times.append(_timed(handler))
            baseline_times.append(_timed(baseline))
        handler_ms = statistics.median(handler_times) * 1000
        baseline_ms = statistics.median(baseline_times) * 1000
        rows.append(
            {
                "module": module,
                "clients": list(services),
                "cold_ms": round(handler_ms, 1),
                "baseline_ms": round(baseline_ms, 1),
                "ratio": round(handler_ms / baseline_ms, 2),
            }
        )
    crypto = statistics.median(
        _timed("from cryptography import x509\nfrom cryptography.hazmat.primitives.asymmetric import rsa")
        for _ in range(COLD_SAMPLES)
    )
    rows.append({"module": "cryptography (first PayPal request only)", "cold_ms": round(crypto * 1000, 1)})
    return rows


def per_event_cpu() -> list[dict[str, Any]]:
    paypal_stand_in = LocalPaypal()
    catalogue = {
        name: ProviderMaterial.from_document(
            name, entry.local_material(f"https://bench.example/webhooks/{name}")
        )
        for name, entry in CATALOGUE.items()
    }
    material = VerificationMaterial(("whsec_bench",), "WH-BENCH", ("k" * 64,), catalogue=catalogue)
    signer = Signer(material, paypal_stand_in)
    receiver = Receiver(lambda: material, CertificateCache(paypal_stand_in.fetch, paypal_stand_in.trust))
    api = ApiIdentity(api_id="benchapi01", stage="v1", api_key_id="benchkey01")
    rows = []
    for provider, file in EVENTS.items():
        now = time.time()
        event_type = file.rpartition("/")[2].removesuffix(".json")
        body, headers = signer.signed(provider, (paths.EVENTS / file).read_bytes(), int(now), event_type)
        event = api_gateway_event(Route.of(provider), body, headers, api)
        # Warm (certificate cache, imports); a batch's CPU is shared by its events.
        events = len(receiver.receive(HttpRequest.from_api_gateway(event), now).accepted)
        iterations = 300 if provider == "paypal" else 5000
        start = time.process_time()
        for _ in range(iterations):
            receiver.receive(HttpRequest.from_api_gateway(event), now)
        cpu_us = (time.process_time() - start) / iterations / events * 1e6
        rows.append(
            {"provider": provider, "body_bytes": len(body), "events": events, "cpu_us": round(cpu_us, 1)}
        )
    return rows


def _bodies_of_the_limit() -> dict[str, bytes]:
    """128 KiB bodies: a typical event padded to the limit, and the worst shapes found or built."""
    size = MAX_BODY_BYTES
    event = (paths.EVENTS / EVENTS["stripe"]).read_bytes()
    padded = event[:-1] + b',"padding":"' + b"x" * (size - len(event) - 14) + b'"}'
    return {
        "typical event, padded": padded,
        'unterminated \\" run (was 78 s)': b'"' + b'\\"' * ((size - 1) // 2),
        "unterminated backslash run": b'"' + b"\\" * (size - 1),
        'repeated "\\ pairs': b'"\\' * (size // 2),
        "balanced [] pairs": b"[]" * (size // 2),
        "empty objects in a list": b"[" + b"{}," * (size // 3 - 1) + b"{}]",
        "tiny strings in a list": b"[" + b'"a",' * (size // 4 - 2) + b'"a"]',
        "one 128 KiB number": b'{"n":' + b"1" * (size - 6) + b"}",
        "many numbers with exponents": b"[" + b"1e99," * (size // 5 - 1) + b"1]",
    }


def worst_case_parse() -> list[dict[str, Any]]:
    rows = []
    for shape, body in _bodies_of_the_limit().items():
        samples = []
        for _ in range(5):
            start = time.process_time()
            with contextlib.suppress(RejectionError):  # most are refused: the time is what is measured
                parse_object(body)
            samples.append(time.process_time() - start)
        rows.append(
            {"shape": shape, "body_bytes": len(body), "cpu_ms": round(statistics.median(samples) * 1e3, 2)}
        )
    return rows


def last_load_run() -> dict[str, Any] | None:
    """The figures `make load` wrote, if it ran."""
    try:
        report: dict[str, Any] = json.loads((BUILD / "load.json").read_text())
    except FileNotFoundError:
        return None
    return report


SETUP_TARGETS = (("make template", 20.0), ("make test", 150.0))
"""What a newcomer runs first, with the goals in seconds on this project's 2-core machine."""


def setup_from_a_fresh_clone() -> list[dict[str, Any]]:
    """Wall time of each SETUP_TARGETS command in a fresh clone of the committed code, run in turn (the
    second finds the first's environment, as a newcomer's does), with an empty installer cache."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="tapstack-setup-") as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(  # noqa: S603 (git, on this repository)
            ["git", "clone", "--quiet", str(paths.REPOSITORY), str(clone)],  # noqa: S607
            check=True,
        )
        environment = {**os.environ, "UV_CACHE_DIR": str(Path(scratch) / "uv-cache")}
        for command, goal in SETUP_TARGETS:
            print(f"setup timing: {command} in a fresh clone …", file=sys.stderr)
            started = time.perf_counter()
            finished = subprocess.run(  # noqa: S603 (make, in the clone)
                command.split(), cwd=clone, env=environment, capture_output=True, text=True, check=False
            )
            seconds = round(time.perf_counter() - started, 1)
            rows.append(
                {"command": command, "seconds": seconds, "goal_seconds": goal, "ok": not finished.returncode}
            )
    return rows


LINT_SAMPLES = 3
LINT_GOAL_SECONDS = 15.0


def lint_time() -> dict[str, Any]:
    """Wall time of `tapstack lint` on the committed template with every tool (cfn-lint, checkov, and the
    policy tools as written and with params/dev.json and params/prod.json), warm: the median of
    LINT_SAMPLES runs after one unmeasured run."""
    command = [str(Path(sys.executable).parent / "tapstack"), "lint", str(paths.TEMPLATE)]
    seconds, verdicts = [], []
    for _ in range(LINT_SAMPLES + 1):
        started = time.perf_counter()
        finished = subprocess.run(command, capture_output=True, check=False, cwd=paths.REPOSITORY)  # noqa: S603
        seconds.append(time.perf_counter() - started)
        verdicts.append(finished.returncode)
    return {
        "seconds": round(statistics.median(seconds[1:]), 1),
        "goal_seconds": LINT_GOAL_SECONDS,
        "ok": all(verdict in (0, 1) for verdict in verdicts),  # 2: a tool could not run, no figure
    }


RECONCILE_WINDOWS = (1000, 5000)
RECONCILE_GOAL_PER_THOUSAND = 11


class _CountedTable:
    """The reconciler's table port over what is stored, counting its batched reads: a tenth of the
    listed events are stored already, the rest are handed over (and then stored)."""

    def __init__(self, stored: set[str]) -> None:
        self.stored = stored
        self.reads = 0

    def existing(self, transaction_ids: Any) -> set[str]:
        self.reads += 1
        return self.stored & set(transaction_ids)

    def dispatch(self, handoff: Any) -> None:
        self.stored.add(handoff.transaction.transaction_id)


def reconcile_throughput() -> list[dict[str, Any]]:
    from handlers.core.reconciling import Reconciler, Window  # noqa: PLC0415 (only this benchmark)
    from handlers.core.secrets import ApiCredentials  # noqa: PLC0415
    from handlers.providers.api_calls import urllib_fetch  # noqa: PLC0415
    from handlers.providers.stripe_events import StripeEvents  # noqa: PLC0415
    from tapstack.local.provider_apis.stand_ins import provider_api_server, record_creation  # noqa: PLC0415

    sample = json.loads((paths.REPOSITORY / "events" / "stripe" / "refund.created.json").read_text())
    rows = []
    for count in RECONCILE_WINDOWS:
        with tempfile.TemporaryDirectory() as directory:
            logs = Path(directory)
            start = int(time.time()) - 7200
            for number in range(count):
                event = sample | {"id": f"evt_bench{number:07d}", "created": start + number % 3600}
                record_creation("stripe", json.dumps(event, separators=(",", ":")).encode(), False, logs)
            table = _CountedTable({f"stripe#evt_bench{n:07d}" for n in range(0, count, 10)})
            credentials = ApiCredentials(("rk_test_bench",), ())
            with provider_api_server(credentials, logs).running() as server:
                log = StripeEvents(credentials.stripe_api_keys, urllib_fetch(10.0), server.url)
                reconciler = Reconciler(log, table, table.dispatch, time.time, time.sleep)
                began = time.perf_counter()
                report = reconciler.between(Window(start, start + 3600), time.time() + 600)
                seconds = time.perf_counter() - began
        calls_per_thousand = report.provider_calls * 1000 / count
        reads_per_thousand = report.table_reads * 1000 / count
        rows.append(
            {
                "events": count,
                "events_per_second": round(count / seconds),
                "provider_calls": report.provider_calls,
                "table_reads": report.table_reads,
                "provider_calls_per_1000": round(calls_per_thousand, 1),
                "table_reads_per_1000": round(reads_per_thousand, 1),
                "ingested": len(report.ingested),
                # Full pages and batches: a smaller window pays for its last, partial page.
                "ok": report.complete
                and report.provider_calls <= max(1, math.ceil(count / 100))
                and calls_per_thousand <= RECONCILE_GOAL_PER_THOUSAND
                and reads_per_thousand <= RECONCILE_GOAL_PER_THOUSAND
                and len(report.ingested) == count - len(range(0, count, 10)),
            }
        )
    return rows


MEASURE_ENVIRONMENT = "measure"
MEASURED_DELIVERIES = 40
MEASURED_SCHEDULED_RUNS = 10
MEASURE_PARAMS = paths.PARAMS / "local.json"


def measure_delivery_costs(deployment: Deployment) -> str:
    """Measure MEASURED_DELIVERIES deliveries and MEASURED_SCHEDULED_RUNS scheduled runs on a throwaway
    stack; where the measurements were written."""
    path = measurement_run(
        deployment, MEASURE_PARAMS, MEASURED_DELIVERIES, MEASURED_SCHEDULED_RUNS, paths.COST_MEASUREMENTS
    )
    return (
        f"delivery measurements ({MEASURED_DELIVERIES} deliveries, "
        f"{MEASURED_SCHEDULED_RUNS} scheduled runs): {path.relative_to(paths.REPOSITORY)}"
    )


def main(deployment: Deployment) -> None:
    """Every benchmark; `deployment` is the emulator's, where the delivery measurements run."""
    setup = setup_from_a_fresh_clone()
    lint = lint_time()
    cold = cold_start()
    cpu = per_event_cpu()
    parse = worst_case_parse()
    artifact = build_artifact()
    size = artifact.stat().st_size
    print("Set-up from a fresh clone of the committed code (wall time; cold installer cache):")
    for row in setup:
        verdict = "" if row["ok"] else "  FAILED"
        print(
            f"  {row['command']:14} {row['seconds']:7.1f} s  (goal <= {row['goal_seconds']:.0f} s){verdict}"
        )
    verdict = "" if lint["ok"] else "  FAILED"
    print(
        f"tapstack lint, every tool, warm (median of {LINT_SAMPLES}): {lint['seconds']:.1f} s "
        f"(goal <= {lint['goal_seconds']:.0f} s){verdict}"
    )
    print(f"Cold import + client set-up, median of {COLD_SAMPLES} fresh interpreters (target <= 1.3x):")
    print(f"  {'module':44} {'ms':>8} {'boto3+clients ms':>17} {'ratio':>6}")
    for row in cold:
        baseline = f"{row['baseline_ms']:17.1f}" if "baseline_ms" in row else f"{'-':>17}"
        ratio = f"{row['ratio']:6.2f}" if "ratio" in row else f"{'-':>6}"
        print(f"  {row['module']:44} {row['cold_ms']:8.1f} {baseline} {ratio}")
    print("Receiver CPU per event (parse + verify + normalise; target < 50 us for HMAC providers):")
    for row in cpu:
        batch = f" ({row['events']} events, per event)" if row["events"] > 1 else ""
        print(f"  {row['provider']:17} {row['body_bytes']:6d} B  {row['cpu_us']:8.1f} us{batch}")
    print("Parsing a body of the size limit, CPU ms (median of 5); linear in size for every shape:")
    for row in parse:
        print(f"  {row['shape']:36} {row['body_bytes']:7d} B  {row['cpu_ms']:8.2f} ms")
    print(f"Artifact: {artifact.relative_to(paths.REPOSITORY)} {size} bytes ({size / 1024 / 1024:.2f} MiB)")
    reconcile = reconcile_throughput()
    print(
        "Reconciliation against the local Stripe stand-in over HTTP "
        f"(goal <= {RECONCILE_GOAL_PER_THOUSAND} provider calls and table reads per 1,000 events):"
    )
    for row in reconcile:
        verdict = "" if row["ok"] else "  FAILED"
        print(
            f"  {row['events']:6d} events  {row['events_per_second']:7d} events/s  "
            f"{row['provider_calls_per_1000']:5.1f} calls/1000  {row['table_reads_per_1000']:5.1f} reads/1000"
            f"{verdict}"
        )
    load = last_load_run()
    if load is None:
        print("Load: no build/load.json yet (make load)")
    else:
        print(
            f"Load on the emulator ({load['source']}): {load['deliveries']} deliveries, "
            f"{load['senders']} senders, {load['deliveries_per_second']} deliveries/s; "
            f"{load['stored']} of {load['unique_events']} unique events stored, "
            f"{load['published']} published, {load['dead_letters']} dead letters"
        )
    print(measure_delivery_costs(deployment))
    report = {
        "setup": setup,
        "lint": lint,
        "load": load,
        "python": sys.version.split()[0],
        "cold_start": cold,
        "per_event_cpu": cpu,
        "parse_at_size_limit": parse,
        "reconcile": reconcile,
        "artifact": {"path": str(artifact.relative_to(paths.REPOSITORY)), "bytes": size},
    }
    BUILD.mkdir(exist_ok=True)
    (BUILD / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
