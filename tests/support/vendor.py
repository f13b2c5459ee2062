"""Deliveries PayPal published in its SDKs' test suites (tests/fixtures/vendor/paypal/, see its README.md):
the raw body, the headers, the webhook id and the signing certificate the certificate URL served."""

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from handlers.core.http import Headers
from handlers.core.secrets import VerificationMaterial
from handlers.providers import paypal
from tests import support
from tests.support.pipeline import CertificateServer

VENDOR = support.VENDOR / "paypal"


@dataclass(frozen=True)
class VendorDelivery:
    name: str
    headers: dict[str, str]
    body: bytes
    webhook_id: str
    leaf_pem: bytes

    @classmethod
    def load(cls, directory: Path) -> "VendorDelivery":
        return cls(
            directory.name,
            json.loads((directory / "headers.json").read_text()),
            (directory / "body.json").read_bytes(),
            (directory / "webhook_id.txt").read_text().strip(),
            (directory / "leaf.pem").read_bytes(),
        )

    @property
    def transmitted_at(self) -> float:
        return datetime.fromisoformat(self.headers["PAYPAL-TRANSMISSION-TIME"]).timestamp()

    def material(self, environment: str = "sandbox") -> VerificationMaterial:
        return VerificationMaterial((), self.webhook_id, (), environment)

    def verify(
        self, *, headers: dict[str, str] | None = None, body: bytes | None = None, **kw: object
    ) -> None:
        sent = headers if headers is not None else self.headers
        server = CertificateServer({self.headers["PAYPAL-CERT-URL"]: self.leaf_pem})
        material = kw.get("material", self.material())
        assert isinstance(material, VerificationMaterial)
        paypal.verify(
            Headers({name.lower(): (value,) for name, value in sent.items()}),
            self.body if body is None else body,
            material,
            float(kw.get("now", self.transmitted_at)),  # type: ignore[arg-type]
            paypal.CertificateCache(server),  # the pinned anchors, as deployed
        )


DELIVERIES = [VendorDelivery.load(directory) for directory in sorted(VENDOR.iterdir()) if directory.is_dir()]
