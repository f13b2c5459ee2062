"""What the test tiers share: fixtures, the handler pipeline, the rule harness, strategies, and where the
test fixtures live (vendor-published deliveries, good and bad rule templates)."""

import socket

from tapstack import paths

FIXTURES = paths.REPOSITORY / "tests" / "fixtures"
VENDOR = FIXTURES / "vendor"

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
