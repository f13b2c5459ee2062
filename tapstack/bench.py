"""Benchmarks (`make bench`): set-up from a fresh clone, cold start, per-event CPU, artifact size.

* Wall time of `make template` and then `make test` in a fresh clone of the committed code, with an
  empty installer cache (goals: 20 s and 150 s on this project's 2-core machine).
* Cold import + client set-up of each handler module, in a fresh interpreter per sample (median of
  several), against a bare `import boto3` + the same clients measured in the same run. Target:
  within 1.3x of that baseline.
* CPU time (time.process_time) per event of the receiver's decision (event parsing, verification,
  JSON parsing, normalisation) for each provider. Target: under 50 µs for the HMAC providers;
  PayPal's RSA verification is reported on its own. The dedicated verifiers (Adyen's per-item HMAC,
  Braintree's form, HMAC-SHA1 and XML) are timed on their own too: verify + normalise, one event.
* Parsing a 128 KiB body (the receiver's limit): a typical event padded to the limit beside the
  worst shapes constructed against the parser (unterminated strings of escapes, bracket runs,
  many tiny values, long numbers), CPU ms per parse. Every shape must stay linear in the size.
* Wall time of `tapstack lint` on the committed template, every tool, warm (goal: 15 s).
* The artifact's size.
* Deliveries per second of the last bounded load run on the emulator (`make load`, build/load.json),
  which `make bench` runs first.

Prints a table and writes build/bench.json. Figures depend on the machine: compare ratios.
"""

import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from handlers.core.errors import RejectionError
from handlers.core.http import Headers, HttpRequest
from handlers.core.jsonbody import parse_object
from handlers.core.receiving import MAX_BODY_BYTES, Receiver
from handlers.core.secrets import VerificationMaterial
from handlers.providers import adyen, braintree
from handlers.providers.material import ProviderMaterial
from handlers.providers.paypal import CertificateCache
from tapstack import paths
from tapstack.artifact import BUILD, build_artifact
from tapstack.local.delivery import ApiIdentity, Route, Signer, api_gateway_event
from tapstack.local.paypal_pki import LocalPaypal

COLD_SAMPLES = 9
HANDLER_CLIENTS = {
    "handlers.receiver": ("secretsmanager", "lambda"),
    "handlers.processor": ("dynamodb", "s3"),
    "handlers.notifier": ("dynamodb", "sns"),
}
ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "PROCESSOR_FUNCTION_NAME": "bench-processor",
    "WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench",
    "TRANSACTIONS_TABLE_NAME": "bench",
    "OBJECTS_TABLE_NAME": "bench-objects",
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
    material = VerificationMaterial(("whsec_bench",), "WH-BENCH", ("k" * 64,))
    signer = Signer(material, paypal_stand_in)
    receiver = Receiver(lambda: material, CertificateCache(paypal_stand_in.fetch, paypal_stand_in.trust))
    api = ApiIdentity(api_id="benchapi01", stage="v1", api_key_id="benchkey01")
    rows = []
    for provider, file in EVENTS.items():
        body = (paths.EVENTS / file).read_bytes()
        now = time.time()
        event = api_gateway_event(Route.of(provider), body, signer.headers(provider, body, int(now)), api)
        receiver.receive(HttpRequest.from_api_gateway(event), now)  # warm: certificate cache, imports
        iterations = 300 if provider == "paypal" else 5000
        start = time.process_time()
        for _ in range(iterations):
            receiver.receive(HttpRequest.from_api_gateway(event), now)
        cpu_us = (time.process_time() - start) / iterations * 1e6
        rows.append({"provider": provider, "body_bytes": len(body), "cpu_us": round(cpu_us, 1)})
    return rows


# One event each, in the shapes the providers document (Adyen's Webhooks v1 CAPTURE example; the
# Braintree SDK's transaction_settled sample), signed below as the providers sign them.
ADYEN_CAPTURE = {
    "live": "false",
    "notificationItems": [
        {
            "NotificationRequestItem": {
                "amount": {"currency": "EUR", "value": 1000},
                "eventCode": "CAPTURE",
                "eventDate": "2021-01-01T01:00:00+01:00",
                "merchantAccountCode": "YOUR_MERCHANT_ACCOUNT",
                "merchantReference": "YOUR_MERCHANT_REFERENCE",
                "originalReference": "9913140798220028",
                "paymentMethod": "visa",
                "pspReference": "QFQTPCQ8HXSKGK82",
                "reason": "",
                "success": "true",
            }
        }
    ],
}
BRAINTREE_SETTLED = (
    b'<notification><timestamp type="datetime">2024-01-01T00:00:00Z</timestamp>'
    b"<kind>transaction_settled</kind><subject><transaction><id>my_id</id><status>settled</status>"
    b"<type>sale</type><currency-iso-code>USD</currency-iso-code><amount>100.00</amount>"
    b"</transaction></subject></notification>"
)


def dedicated_verifier_cpu() -> list[dict[str, Any]]:
    """CPU per event of Adyen's and Braintree's verify + normalise (the receiver's envelope aside)."""
    adyen_material = ProviderMaterial(
        ("44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",), {}
    )
    braintree_material = ProviderMaterial(
        ({"public_key": "bench_public", "private_key": "bench_private"},), {}
    )
    deliveries = {
        "adyen": (adyen, adyen.sign(ADYEN_CAPTURE, adyen_material, 0.0), adyen_material),
        "braintree": (
            braintree,
            braintree.sign(BRAINTREE_SETTLED, braintree_material, 0.0),
            braintree_material,
        ),
    }
    rows = []
    for provider, (module, (body, headers), material) in deliveries.items():
        sent = Headers({name.lower(): (value,) for name, value in headers.items()})
        iterations = 5000
        start = time.process_time()
        for _ in range(iterations):
            for event in module.verify(sent, body, material, 0.0):
                module.normalise(event.document, provider, "0" * 64)
        cpu_us = (time.process_time() - start) / iterations * 1e6
        rows.append({"provider": provider, "body_bytes": len(body), "cpu_us": round(cpu_us, 1)})
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


def main() -> None:
    setup = setup_from_a_fresh_clone()
    lint = lint_time()
    cold = cold_start()
    cpu = per_event_cpu()
    dedicated = dedicated_verifier_cpu()
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
        print(f"  {row['provider']:10} {row['body_bytes']:6d} B  {row['cpu_us']:8.1f} us")
    print("Dedicated verifiers, CPU per event (verify + normalise; compare with the rows above):")
    for row in dedicated:
        print(f"  {row['provider']:10} {row['body_bytes']:6d} B  {row['cpu_us']:8.1f} us")
    print("Parsing a body of the size limit, CPU ms (median of 5); linear in size for every shape:")
    for row in parse:
        print(f"  {row['shape']:36} {row['body_bytes']:7d} B  {row['cpu_ms']:8.2f} ms")
    print(f"Artifact: {artifact.relative_to(paths.REPOSITORY)} {size} bytes ({size / 1024 / 1024:.2f} MiB)")
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
    report = {
        "setup": setup,
        "lint": lint,
        "load": load,
        "python": sys.version.split()[0],
        "cold_start": cold,
        "per_event_cpu": cpu,
        "dedicated_verifier_cpu": dedicated,
        "parse_at_size_limit": parse,
        "artifact": {"path": str(artifact.relative_to(paths.REPOSITORY)), "bytes": size},
    }
    BUILD.mkdir(exist_ok=True)
    (BUILD / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
