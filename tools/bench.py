"""Benchmarks for the handlers (`make bench`): cold start, per-event CPU, artifact size.

* Cold import + client set-up of each handler module, in a fresh interpreter per sample (median of
  several), against a bare `import boto3` + the same clients measured in the same run. Target:
  within 1.3x of that baseline.
* CPU time (time.process_time) per event of the receiver's decision (event parsing, verification,
  JSON parsing, normalisation) for each provider. Target: under 50 µs for the HMAC providers;
  PayPal's RSA verification is reported on its own.
* The artifact's size.

Prints a table and writes build/bench.json. Figures depend on the machine: compare ratios.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # `make bench` runs this file as a script

from handlers.core.http import HttpRequest  # noqa: E402
from handlers.core.receiving import Receiver  # noqa: E402
from handlers.core.secrets import VerificationMaterial  # noqa: E402
from handlers.providers.paypal import CertificateCache  # noqa: E402
from tests.handlers.support import CERT_URL, CertificateServer, PayPalKeys, Signer, sample  # noqa: E402
from tools.package import BUILD, build_artifact  # noqa: E402

COLD_SAMPLES = 9
HANDLER_CLIENTS = {
    "handlers.receiver": ("secretsmanager", "lambda"),
    "handlers.processor": ("dynamodb", "s3"),
    "handlers.notifier": ("dynamodb", "sns"),
}
ENVIRONMENT = {
    "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "PROCESSOR_FUNCTION_NAME": "bench-processor",
    "WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench",
    "TRANSACTIONS_TABLE_NAME": "bench",
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
    keys = PayPalKeys.generate()
    signer = Signer(keys)
    material = VerificationMaterial((signer.stripe_secret,), signer.paypal_webhook_id, (signer.internal_key,))
    receiver = Receiver(lambda: material, CertificateCache(CertificateServer({CERT_URL: keys.pem})))
    rows = []
    for provider, file in EVENTS.items():
        body = sample(file)
        event = signer.event(provider, body)
        now = time.time()
        receiver.receive(HttpRequest.from_api_gateway(event), now)  # warm: certificate cache, imports
        iterations = 300 if provider == "paypal" else 5000
        start = time.process_time()
        for _ in range(iterations):
            receiver.receive(HttpRequest.from_api_gateway(event), now)
        cpu_us = (time.process_time() - start) / iterations * 1e6
        rows.append({"provider": provider, "body_bytes": len(body), "cpu_us": round(cpu_us, 1)})
    return rows


def main() -> None:
    cold = cold_start()
    cpu = per_event_cpu()
    artifact = build_artifact()
    size = artifact.stat().st_size
    print(f"Cold import + client set-up, median of {COLD_SAMPLES} fresh interpreters (target <= 1.3x):")
    print(f"  {'module':44} {'ms':>8} {'boto3+clients ms':>17} {'ratio':>6}")
    for row in cold:
        print(
            f"  {row['module']:44} {row['cold_ms']:8.1f} {row.get('baseline_ms', float('nan')):17.1f} "
            f"{row.get('ratio', float('nan')):6.2f}"
        )
    print("Receiver CPU per event (parse + verify + normalise; target < 50 us for HMAC providers):")
    for row in cpu:
        print(f"  {row['provider']:10} {row['body_bytes']:6d} B  {row['cpu_us']:8.1f} us")
    print(f"Artifact: {artifact.relative_to(ROOT)} {size} bytes ({size / 1024 / 1024:.2f} MiB)")
    report = {
        "python": sys.version.split()[0],
        "cold_start": cold,
        "per_event_cpu": cpu,
        "artifact": {"path": str(artifact.relative_to(ROOT)), "bytes": size},
    }
    BUILD.mkdir(exist_ok=True)
    (BUILD / "bench.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
