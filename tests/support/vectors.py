"""The vendors' held-out signature vectors beside the project (`../shared/vendor-vectors/providers/`, as CI
has them; their README.md explains the fields): read in place, never copied into the project."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from handlers.core.secrets import VerificationMaterial
from tapstack import paths

VECTORS = paths.REPOSITORY.parent / "shared" / "vendor-vectors" / "providers"
ABSENT = f"the vendors' signature vectors are not beside the project ({VECTORS.name} under ../shared)"
NO_CLOCK = 1_700_000_000.0
"""`at` of a vector whose scheme has no clock (any moment gives the same verdict)."""


@dataclass(frozen=True)
class Vector:
    provider: str
    id: str
    secret: Any
    headers: dict[str, str]
    body: bytes
    url: str | None
    at: float
    expect: dict[str, Any]
    money: dict[str, Any] | None
    body_shape: str | None = None
    form_fields: dict[str, str] | None = None
    kind: str | None = None
    """`challenge` for Braintree's endpoint verification vectors: not deliveries."""

    @property
    def delivery(self) -> bytes:
        """The body as the provider posts it: a bare Adyen item (as the SDK tests hold it) inside its
        envelope, byte for byte; Braintree's payload with its signature as form fields."""
        if self.body_shape == "item":
            return (
                b'{"live": "false", "notificationItems": [{"NotificationRequestItem": ' + self.body + b"}]}"
            )
        if self.form_fields is not None:
            return urlencode({**self.form_fields, "bt_payload": self.body.decode("ascii")}).encode()
        return self.body

    @property
    def valid(self) -> bool:
        return bool(self.expect["verdict"] == "valid")

    @property
    def material_object(self) -> dict[str, object]:
        """The provider's object as the webhook secret holds it (and `tapstack verify --material` reads)."""
        keys = self.secret if isinstance(self.secret, list) else [self.secret]
        return {"signing_keys": keys} | ({} if self.url is None else {"notification_url": self.url})

    def material(self) -> VerificationMaterial:
        return VerificationMaterial.from_secret_string(json.dumps({self.provider: self.material_object}))

    def request_headers(self) -> dict[str, str]:
        """The vector's headers, with the JSON media type where the vector omits the provider's."""
        return {"Content-Type": "application/json", **self.headers}


def load(provider: str) -> list[Vector]:
    """Every vector of `provider`; [] when the folder is absent."""
    folder = VECTORS / provider
    if not (folder / "manifest.json").is_file():
        return []
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [_vector(folder, provider, item) for item in manifest["vectors"]]


def _vector(folder: Path, provider: str, item: dict[str, Any]) -> Vector:
    return Vector(
        provider=provider,
        id=item["id"],
        secret=item["secret"],
        headers=item.get("headers", {}),
        body=(folder / item["body_file"]).read_bytes(),
        url=item.get("url"),
        at=float(item["at"]) if item.get("at") is not None else NO_CLOCK,
        expect=item["expect"],
        money=item.get("money"),
        body_shape=item.get("body_shape"),
        form_fields=item.get("form_fields"),
        kind=item.get("kind"),
    )
