"""`tapstack verify`: captured deliveries answered as the receiver would, offline, with its exit statuses.

Sample events are signed with `tapstack.local.delivery.Signer` (PayPal's through the local PKI, whose root
stands in for the pinned anchors), forged ones are signed with material the stack does not hold, and the
real PayPal-signed vendor deliveries verify against the pinned DigiCert anchors at their transmission time.
"""

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from handlers.core.fields import utc_iso
from handlers.providers import paypal
from handlers.providers.catalogue import CATALOGUE
from tapstack import paths
from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.local.paypal_pki import LocalPaypal
from tests.support.pipeline import WEBHOOK_SECRET, signer_for
from tests.support.vendor import DELIVERIES, VendorDelivery

SAMPLES = sorted(paths.EVENTS.glob("*/*.json"))
LOCAL_PAYPAL = LocalPaypal()
FORGER_PAYPAL = LocalPaypal()
FORGED_SECRET = {
    "stripe_signing_secrets": ["whsec_forged"],
    "internal_hmac_key": "f" * 64,
    # Fresh keys of each catalogue provider (and, for Square, the stack's own URL: only the key differs).
    **{
        name: entry.local_material(str(WEBHOOK_SECRET[name].get("notification_url", "")))
        for name, entry in CATALOGUE.items()
    },
}
# Where each catalogue provider names its events (the idempotency keys): a header or the body.
EVENT_IDS: dict[str, Callable[[dict[str, Any], dict[str, str]], list[str]]] = {
    "standard-webhooks": lambda _, headers: [headers["webhook-id"]],
    "github": lambda _, headers: [headers["x-github-delivery"]],
    "shopify": lambda _, headers: [headers["x-shopify-webhook-id"]],
    "checkout-com": lambda document, _: [document["id"]],
    "square": lambda document, _: [document["event_id"]],
    "gocardless": lambda document, _: [event["id"] for event in document["events"]],
    # Adyen's pspReference:eventCode:success, and the eventDate in UTC (a re-capture is a new event).
    "adyen": lambda document, _: [
        "{pspReference}:{eventCode}:{success}:".format_map(item["NotificationRequestItem"])
        + utc_iso(datetime.fromisoformat(item["NotificationRequestItem"]["eventDate"]))
        for item in document["notificationItems"]
    ],
}


@dataclass
class Capture:
    """The files of one captured delivery, as `tapstack verify` takes them."""

    directory: Path
    provider: str

    def write(self, headers: dict[str, str], body: bytes, material: Mapping[str, object]) -> None:
        (self.directory / "headers.json").write_text(json.dumps(headers), encoding="utf-8")
        (self.directory / "body.json").write_bytes(body)
        (self.directory / "material.json").write_text(json.dumps(material), encoding="utf-8")

    def arguments(self, *extra: str) -> list[str]:
        return [
            "verify",
            "--provider",
            self.provider,
            "--headers",
            str(self.directory / "headers.json"),
            "--body",
            str(self.directory / "body.json"),
            "--material",
            str(self.directory / "material.json"),
            *extra,
        ]


def run(capsys: pytest.CaptureFixture[str], arguments: list[str]) -> tuple[int, dict[str, object]]:
    status = main(arguments)
    return status, json.loads(capsys.readouterr().out)


@pytest.fixture
def local_paypal_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local PKI's root in place of the pinned DigiCert anchors, for the signed PayPal samples."""
    monkeypatch.setattr(paypal.TrustAnchors, "pinned", classmethod(lambda _: LOCAL_PAYPAL.trust))


def _signed(sample: Path, forged: bool, now: int) -> tuple[bytes, dict[str, str]]:
    """Signed as `make send` signs a sample (Adyen's signature goes into the body): its file name is
    its type where a header names it."""
    signer = signer_for(FORGER_PAYPAL, **FORGED_SECRET) if forged else signer_for(LOCAL_PAYPAL)
    event_type = sample.name.removesuffix(".json")
    return signer.signed(sample.parent.name, sample.read_bytes(), now, event_type)


def _sample_capture(tmp_path: Path, sample: Path, forged: bool) -> tuple[Capture, list[str]]:
    provider = sample.parent.name
    now = int(time.time())
    capture = Capture(tmp_path, provider)
    body, headers = _signed(sample, forged, now)
    capture.write(headers, body, WEBHOOK_SECRET)
    certificate = tmp_path / "certificate.pem"
    certificate.write_bytes(LOCAL_PAYPAL.pem)  # what the URL serves: the genuine certificate
    extra = ["--certificate", str(certificate)] if provider == "paypal" else []
    return capture, capture.arguments("--at", str(now), *extra)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_each_signed_sample_is_accepted_as_stored(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], local_paypal_pinned: None
) -> None:
    _, arguments = _sample_capture(tmp_path, sample, forged=False)

    status, answer = run(capsys, arguments)

    assert status == ExitCode.OK, answer
    reply = CATALOGUE[sample.parent.name].reply if sample.parent.name in CATALOGUE else None
    status_expected = 202 if reply is None else reply.status  # Adyen is answered 200 `[accepted]`
    assert (answer["status"], answer["code"], answer["quarantined"]) == (status_expected, None, False)
    transaction = answer["transaction"]
    assert isinstance(transaction, dict)
    document = json.loads(sample.read_bytes())
    provider = sample.parent.name
    if provider in EVENT_IDS:
        headers = {
            name.lower(): value for name, value in json.loads((tmp_path / "headers.json").read_text()).items()
        }
        event_ids = EVENT_IDS[provider](document, headers)
    else:
        event_ids = [document["id"]]
    stored = answer.get("transactions", [transaction])
    assert isinstance(stored, list)
    assert [each["transaction_id"] for each in stored] == [f"{provider}#{event_id}" for event_id in event_ids]
    assert all(
        isinstance(value, str) for each in stored for value in each.values()
    )  # amounts as exact strings


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_each_forged_sample_is_refused_as_signature_invalid(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], local_paypal_pinned: None
) -> None:
    _, arguments = _sample_capture(tmp_path, sample, forged=True)

    status, answer = run(capsys, arguments)

    assert status == ExitCode.FAILED
    assert (answer["status"], answer["code"], answer["transaction"]) == (401, "signature_invalid", None)


def test_a_verified_body_that_cannot_be_normalised_is_accepted_into_quarantine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = (
        (paths.EVENTS / "stripe" / "payment_intent.succeeded.json").read_bytes().replace(b'"usd"', b'"xts"')
    )
    capture = Capture(tmp_path, "stripe")
    now = int(time.time())
    capture.write(signer_for(LOCAL_PAYPAL).headers("stripe", body, now), body, WEBHOOK_SECRET)

    status, answer = run(capsys, capture.arguments("--at", str(now)))

    assert status == ExitCode.OK
    assert (answer["status"], answer["quarantined"], answer["quarantine_reason"]) == (
        202,
        True,
        "invalid_event",
    )
    assert answer["quarantine_detail"] == "currency is not an ISO 4217 code"


def test_the_clock_is_the_given_moment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = (paths.EVENTS / "stripe" / "refund.created.json").read_bytes()
    capture = Capture(tmp_path, "stripe")
    capture.write(signer_for(LOCAL_PAYPAL).headers("stripe", body, 1_700_000_000), body, WEBHOOK_SECRET)

    assert main(capture.arguments("--at", "2023-11-14T22:13:20Z")) == ExitCode.OK  # the signing second
    capsys.readouterr()
    status, answer = run(capsys, capture.arguments("--at", "2023-11-14T22:23:21Z"))  # 601 s later
    assert (status, answer["code"]) == (ExitCode.FAILED, "signature_expired")


def _vendor_capture(delivery: VendorDelivery, tmp_path: Path, body: bytes | None = None) -> list[str]:
    capture = Capture(tmp_path, "paypal")
    headers = delivery.headers | {"Content-Type": "application/json"}  # the SDKs kept only PayPal's
    material = {"paypal_webhook_id": delivery.webhook_id, "paypal_environment": "sandbox"}
    capture.write(headers, delivery.body if body is None else body, material)
    certificate = tmp_path / "leaf.pem"
    certificate.write_bytes(delivery.leaf_pem)
    at = delivery.headers["PAYPAL-TRANSMISSION-TIME"]
    return capture.arguments("--at", at, "--certificate", str(certificate))


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.name)
def test_real_paypal_deliveries_verify_against_the_pinned_anchors(
    delivery: VendorDelivery, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, answer = run(capsys, _vendor_capture(delivery, tmp_path))

    assert status == ExitCode.OK, answer
    assert answer["status"] == 202
    transaction = answer["transaction"]
    assert isinstance(transaction, dict)
    assert transaction["transaction_id"] == f"paypal#{json.loads(delivery.body)['id']}"


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.name)
def test_an_altered_real_paypal_delivery_is_refused(
    delivery: VendorDelivery, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, answer = run(capsys, _vendor_capture(delivery, tmp_path, body=delivery.body + b" "))

    assert status == ExitCode.FAILED
    assert (answer["status"], answer["code"]) == (401, "signature_invalid")


def test_a_real_paypal_delivery_after_its_certificate_expired_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = _vendor_capture(DELIVERIES[0], tmp_path)
    arguments[arguments.index("--at") + 1] = "2026-12-01T00:00:00Z"

    status, answer = run(capsys, arguments)

    assert status == ExitCode.FAILED
    assert answer["code"] == "signature_invalid"
    assert "does not chain to the pinned roots" in str(answer["detail"])


def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def _usage_error(arguments: list[str]) -> str:
        """Run the command; assert exit 2 with one line and no traceback; that line."""
        assert main(arguments) == ExitCode.USAGE
        out, err = capsys.readouterr()
        assert out == ""
        assert "Traceback" not in err
        (line,) = err.splitlines()
        return line

    capture = Capture(tmp_path, "stripe")
    capture.write({"Content-Type": "application/json"}, b"{}", WEBHOOK_SECRET)
    headers, material = tmp_path / "headers.json", tmp_path / "material.json"

    assert _usage_error(capture.arguments("--at", "yesterday")).startswith(
        "error: --at yesterday is not a time"
    )
    assert "no UTC offset" in _usage_error(capture.arguments("--at", "2015-05-12T18:14:14"))
    assert "--certificate is for --provider paypal" in _usage_error(
        capture.arguments("--certificate", str(headers))
    )
    headers.write_text('{"Content-Type": ["application/json"]}', encoding="utf-8")
    assert "must be a JSON object of header name to string value" in _usage_error(capture.arguments())
    headers.write_text("{", encoding="utf-8")
    assert _usage_error(capture.arguments()).startswith(f"error: --headers {headers} is not JSON")
    headers.unlink()
    assert _usage_error(capture.arguments()) == (
        f"error: cannot read --headers {headers}: No such file or directory: give a readable file"
    )
    capture.write({"Content-Type": "application/json"}, b"{}", {"stripe_signing_secrets": "whsec_one"})
    assert _usage_error(capture.arguments()).startswith(
        f"error: --material {material}: stripe_signing_secrets must be a list of strings"
    )
