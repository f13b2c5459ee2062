"""A few vendor vectors through the real `tapstack verify` command, in its own process, with the
provider's own material object as `--material` (the library it runs is tested on every vector in
tests/unit/handlers/test_catalogue_vectors.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.vectors import ABSENT, Vector, load

TAPSTACK = Path(sys.executable).parent / "tapstack"
CHOSEN = {
    "square-test-notification": 0,  # signs the notification URL: an extra of the material
    "cko-abc-secret-key": 0,  # upper-case hex, compared as Checkout.com compares it
    "gocardless-two-events": 0,  # a batch: two events, two transactions
    "sw-old-timestamp-301s": 1,  # out of time: refused
    "gh-octokit-fallback-secret": 0,  # the second key of the list verifies (rotation)
}
VECTORS = [
    vector
    for provider in ("square", "checkout-com", "gocardless", "standard-webhooks", "github")
    for vector in load(provider)
    if vector.id in CHOSEN
]


@pytest.mark.skipif(not VECTORS, reason=ABSENT)
@pytest.mark.parametrize("vector", VECTORS, ids=lambda vector: vector.id)
def test_the_command_answers_as_the_vendor_does(vector: Vector, tmp_path: Path) -> None:
    (tmp_path / "headers.json").write_text(json.dumps(vector.request_headers()))
    (tmp_path / "body").write_bytes(vector.delivery)
    (tmp_path / "material.json").write_text(json.dumps(vector.material_object))
    result = subprocess.run(
        [
            TAPSTACK, "verify", "--provider", vector.provider,
            "--headers", str(tmp_path / "headers.json"), "--body", str(tmp_path / "body"),
            "--material", str(tmp_path / "material.json"), "--at", str(int(vector.at)),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == CHOSEN[vector.id], result.stderr
    verdict = json.loads(result.stdout)
    if vector.valid:
        transactions = verdict.get("transactions", [verdict["transaction"]])
        assert all(transaction["provider"] == vector.provider for transaction in transactions)
        assert len(transactions) == (2 if vector.provider == "gocardless" else 1)
    else:
        assert (verdict["status"], verdict["code"]) == (401, "signature_expired")
