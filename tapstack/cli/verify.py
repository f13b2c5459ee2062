"""`tapstack verify`: a captured delivery through the receiver's checks, offline (tapstack.local.verify)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import click

from handlers.core.receiving import NORMALISERS
from handlers.core.secrets import CATALOGUE_KEYS, VerificationMaterial
from handlers.providers.catalogue import CATALOGUE
from tapstack.exits import CommandError, ExitCode

FILE = click.Path(path_type=Path, dir_okay=False)


def _read(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {option} {path}: {error.strerror}: give a readable file") from None


def _headers(path: Path) -> dict[str, str]:
    try:
        document = json.loads(_read(path, "--headers"))
    except ValueError as error:
        raise CommandError(
            f"--headers {path} is not JSON ({error}): give an object of name to value"
        ) from None
    if not isinstance(document, dict) or not all(isinstance(v, str) for v in document.values()):
        raise CommandError(f"--headers {path} must be a JSON object of header name to string value")
    return document


def _material(path: Path, provider: str) -> VerificationMaterial:
    """The webhook secret's JSON, or for a catalogue provider its own object as the secret holds it."""
    try:
        text = _read(path, "--material").decode("utf-8")
        document = json.loads(text)
        if provider in CATALOGUE and isinstance(document, dict) and CATALOGUE_KEYS in document:
            text = json.dumps({provider: document})
        return VerificationMaterial.from_secret_string(text)
    except ValueError as error:  # bad JSON, bad UTF-8, or a field of the wrong type
        raise CommandError(
            f"--material {path}: {error}: give the webhook secret's JSON "
            '({"stripe_signing_secrets": […], "paypal_webhook_id": …, "internal_hmac_key": …}), or the '
            'provider\'s own object ({"signing_keys": ["<current>", "<previous>…"], …})'
        ) from None


@click.command(
    epilog="""\b
Examples:
  tapstack verify --provider stripe --headers headers.json --body body.json --material secret.json
  tapstack verify --provider square --headers headers.json --body body.json --material square.json
      (square.json: {"signing_keys": ["<key>"], "notification_url": "https://…/webhooks/square"})
  tapstack verify --provider paypal --headers headers.json --body body.json --material secret.json \\
      --at 2015-05-12T18:14:14Z --certificate paypal-cert.pem"""
)
@click.option(
    "--provider",
    type=click.Choice(sorted({*NORMALISERS, *CATALOGUE})),
    required=True,
    help="internal: POST /transactions",
)
@click.option("--headers", "headers_path", type=FILE, required=True, help="JSON object: header name to value")
@click.option("--body", "body_path", type=FILE, required=True, help="the raw body, byte for byte")
@click.option(
    "--material",
    "material_path",
    type=FILE,
    required=True,
    help="the webhook secret's JSON (its SecretString), the part of it this provider uses, or a catalogue "
    'provider\'s own object {"signing_keys": [...], ...}',
)
@click.option("--at", "at_text", help="when the receiver got it: ISO 8601 with offset, or Unix seconds [now]")
@click.option(
    "--certificate",
    "certificate_path",
    type=FILE,
    help="PayPal: the PEM PAYPAL-CERT-URL served (leaf, then intermediates), instead of fetching it",
)
def verify(
    provider: str,
    headers_path: Path,
    body_path: Path,
    material_path: Path,
    at_text: str | None,
    certificate_path: Path | None,
) -> ExitCode:
    """Answer a captured delivery as the receiver would, without AWS; print one JSON document.

    The receiver's own checks run on the captured headers and body: route, media type (give the
    Content-Type header too), size, signature at --at, then normalisation or quarantine. Printed: the
    HTTP `status` and error `code` (with `detail`), whether it is `quarantined` and why, and the
    `transaction` as it would be stored (amounts as exact strings). A PayPal certificate chain must
    validate against the pinned DigiCert anchors, fetched or given. Exit status: 0 the receiver would
    answer 2xx, 1 it would refuse (4xx, or 503 when the certificate cannot be fetched).
    """
    # Through tapstack.local.delivery it loads the local PKI's cryptography: only this command pays.
    from tapstack.local.verify import parse_moment, verify_delivery  # noqa: PLC0415

    if certificate_path is not None and provider != "paypal":
        raise CommandError("--certificate is for --provider paypal only: leave it out")
    try:
        at = time.time() if at_text is None else parse_moment(at_text)
    except ValueError as error:
        raise CommandError(
            f"--at {at_text} is not a time ({error}): give ISO 8601 with an offset, e.g. "
            "2015-05-12T18:14:14Z, or Unix seconds, e.g. 1431454454"
        ) from None
    headers, body = _headers(headers_path), _read(body_path, "--body")
    material = _material(material_path, provider)
    fetch: Callable[[str], bytes]
    if certificate_path is None:
        from handlers.receiver import fetch_certificate  # noqa: PLC0415 (loads Powertools: only when fetching)

        fetch = fetch_certificate
    else:
        pem = _read(certificate_path, "--certificate")

        def fetch(_url: str) -> bytes:  # the receiver's certificate cache has checked the URL
            return pem

    verdict = verify_delivery(provider, headers, body, material, at, fetch)
    print(json.dumps(verdict.document(), indent=2))
    return ExitCode.OK if verdict.accepted else ExitCode.FAILED
