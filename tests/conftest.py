"""Fixtures shared by every test tier."""

import os
import socket
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # No profile or config file may point a client at a real account.
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}

# Powertools reads these when a handler module is imported, which can happen at collection in any test
# directory (the handler, template and integration tests all import handlers), so they are set first.
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "TapStack")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "tapstack-tests")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server on loopback for the whole session (one per xdist worker), as `http://localhost:PORT`.

    Sets fake credentials and a region, and AWS_ENDPOINT_URL, so that any boto3 client or awscli
    call made during the session reaches the emulator and never AWS.
    """
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://localhost:{port}"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_PROFILE", raising=False)
        for name, value in FAKE_ENVIRONMENT.items():
            patch.setenv(name, value)
        patch.setenv("AWS_ENDPOINT_URL", endpoint)
        try:
            yield endpoint
        finally:
            server.stop()
