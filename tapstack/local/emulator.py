"""The local cloud: a moto server on loopback, and what its CloudFormation leaves out.

moto's CloudFormation does not create AWS::SecretsManager::Secret or AWS::ApiGateway::ApiKey (it
logs them as unsupported and leaves the WebhookSecretArn and ApiKeyId outputs out), so
`ensure_fill_ins` creates both exactly as the template describes them. `make send` reads SNS
through an SQS queue subscribed to the events topic with raw delivery, also made here. The deploy
target that uses them, with moto's other workarounds, is tapstack/local/target.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import string
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from handlers.providers.catalogue import CATALOGUE
from tapstack import paths
from tapstack.cfn.model import Resolver
from tapstack.local.ports import bindable, port_taken
from tapstack.operate.cloud import Clients, stack_outputs
from templates.contract import (
    API_KEY_ID,
    KMS_KEY_ARN,
    PAYMENT_EVENTS_TOPIC_ARN,
    SUFFIX_PARAMETER,
    WEBHOOK_SECRET_ARN,
)
from templates.naming import StackNames, names_of

STATE_DIRECTORY = paths.LOCAL_STATE
MOTO_SERVER = Path(sys.executable).parent / "moto_server"
LOCAL_PAYPAL_WEBHOOK_ID = "WH-LOCAL-TAPSTACK-0000000001"
STARTUP_TIMEOUT_SECONDS = 20.0
START_ELSEWHERE = ["make local-up LOCAL_PORT={port}", "tapstack local up --port {port}"]


def endpoint(port: int) -> str:
    """`localhost`, not 127.0.0.1: moto only understands path-style template URLs for `localhost`."""
    return f"http://localhost:{port}"


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass(frozen=True)
class EmulatorFiles:
    """Where one emulator's pid and log live (one per port)."""

    port: int
    directory: Path = STATE_DIRECTORY

    @property
    def pid_file(self) -> Path:
        return self.directory / f"moto-{self.port}.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / f"moto-{self.port}.log"

    def running_pid(self) -> int | None:
        """The pid in the pid file when it is alive and is the moto server on this port."""
        try:
            pid = int(self.pid_file.read_text().strip())
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        is_moto = any(part.endswith(b"moto_server") for part in command_line)
        return pid if is_moto and str(self.port).encode() in command_line else None


def start(files: EmulatorFiles) -> str:
    """Start the moto server on 127.0.0.1:port unless it runs already; wait until it answers."""
    if files.running_pid() is not None and answers(files.port):
        return f"the emulator already runs on port {files.port} (pid {files.running_pid()})"
    if answers(files.port):
        cause = f"it answers, but {files.pid_file} names no live emulator of this checkout"
        raise port_taken(files.port, cause, START_ELSEWHERE)
    if (refused := bindable(files.port)) is not None:
        raise port_taken(files.port, refused, START_ELSEWHERE)
    files.directory.mkdir(parents=True, exist_ok=True)
    with files.log_file.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (fixed executable, loopback only)
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(files.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the make recipe that started it
        )
    files.pid_file.write_text(f"{process.pid}\n")
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not answers(files.port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"the emulator did not start on port {files.port} ({_last_line(files.log_file)}); "
                f"its whole log is {files.log_file}"
            )
        time.sleep(0.1)
    return f"the emulator runs on {endpoint(files.port)} (pid {process.pid}, log {files.log_file})"


def _last_line(log_file: Path) -> str:
    """The log's last line: what the emulator said when it stopped."""
    with contextlib.suppress(OSError):
        lines = log_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        if lines:
            return lines[-1].strip()
    return "it wrote nothing"


def _running(pid: int) -> bool:
    """Alive and not a zombie (a process that exited but whose parent has not collected it yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def stop(files: EmulatorFiles) -> str:
    """Stop exactly the process in the pid file, after checking it is this port's moto server."""
    pid = files.running_pid()
    if pid is None:
        files.pid_file.unlink(missing_ok=True)
        return f"no emulator of this repository runs on port {files.port}"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    files.pid_file.unlink(missing_ok=True)
    return f"stopped the emulator on port {files.port} (pid {pid})"


def substitute(value: Any, variables: dict[str, str]) -> str:
    """A template value that is a string or an Fn::Sub over `variables` (parameters and pseudo parameters)."""
    return str(Resolver(parameters=variables).resolve(value))


def events_queue_name(names: StackNames, environment: str) -> str:
    return f"{names.stack.for_suffix(environment)}-local-events"


def _generated_secret_string(generate: dict[str, Any]) -> str:
    """What Secrets Manager's GenerateSecretString makes (letters and digits: ExcludePunctuation)."""
    alphabet = string.ascii_letters + string.digits
    length = int(generate.get("PasswordLength", 32))
    document = json.loads(generate["SecretStringTemplate"])
    document[generate["GenerateStringKey"]] = "".join(secrets.choice(alphabet) for _ in range(length))
    return json.dumps(document)


def _secret_arn(clients: Clients, name: str, properties: dict[str, Any], key_arn: str) -> str:
    secretsmanager = clients("secretsmanager")
    try:
        return str(secretsmanager.describe_secret(SecretId=name)["ARN"])
    except ClientError:
        created = secretsmanager.create_secret(
            Name=name,
            Description=properties.get("Description", ""),
            KmsKeyId=key_arn,
            SecretString=_generated_secret_string(properties["GenerateSecretString"]),
        )
        return str(created["ARN"])


def local_material() -> dict[str, object]:
    """Working local values for each provider key of the webhook secret: a Stripe signing secret and a
    PayPal webhook id (what `make send` signs with), and provider API credentials in the providers'
    shapes (what the local provider stand-ins accept). Fresh random values each time."""
    return {
        "stripe_signing_secrets": [f"whsec_local_{secrets.token_hex(16)}"],
        "paypal_webhook_id": LOCAL_PAYPAL_WEBHOOK_ID,
        "stripe_api_keys": [f"rk_test_local_{secrets.token_hex(16)}"],
        "paypal_api_credentials": [
            {"client_id": f"local-client-{secrets.token_hex(4)}", "client_secret": secrets.token_hex(16)}
        ],
    }


def configure_local_verification(secretsmanager: Any, secret_arn: str) -> None:
    """Put local material in for each provider key still empty, and a key for each catalogue provider
    whose placeholder the stack created (handlers.providers.catalogue); keep what is there (the
    generated internal key, and whatever an earlier deploy or `local register` wrote)."""
    document = json.loads(secretsmanager.get_secret_value(SecretId=secret_arn)["SecretString"])
    missing = {key: value for key, value in local_material().items() if not document.get(key)}
    missing |= {
        # The URL a provider such as Square signs: locally the route's own path is enough, since the
        # local sender signs with this same material.
        name: CATALOGUE[name].local_material(f"https://localhost/webhooks/{name}")
        for name, value in document.items()
        if name in CATALOGUE and isinstance(value, dict) and not value.get("signing_keys")
    }
    if missing:
        secretsmanager.put_secret_value(SecretId=secret_arn, SecretString=json.dumps(document | missing))


def accept_stripe_signing_secret(secretsmanager: Any, secret_arn: str, signing_secret: str) -> bool:
    """Also accept Stripe deliveries signed with `signing_secret` (the one `stripe listen` prints), after
    the local one `make send` signs with; False when it was accepted already."""
    document = json.loads(secretsmanager.get_secret_value(SecretId=secret_arn)["SecretString"])
    accepted = document.get("stripe_signing_secrets", [])
    if signing_secret in accepted:
        return False
    document["stripe_signing_secrets"] = [*accepted, signing_secret]
    secretsmanager.put_secret_value(SecretId=secret_arn, SecretString=json.dumps(document))
    return True


def _api_key_id(apigateway: Any, name: str, properties: dict[str, Any]) -> str:
    for key in apigateway.get_api_keys(nameQuery=name).get("items", []):
        if key["name"] == name:
            return str(key["id"])
    created = apigateway.create_api_key(
        name=name, description=properties.get("Description", ""), enabled=bool(properties.get("Enabled"))
    )
    return str(created["id"])


def _subscribe_events_queue(clients: Clients, queue_name: str, topic_arn: str) -> None:
    sqs, sns = clients("sqs"), clients("sns")
    queue_url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    if not any(subscription["Endpoint"] == queue_arn for subscription in subscriptions):
        sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )


def ensure_fill_ins(clients: Clients, environment: str, template: dict[str, Any]) -> dict[str, str]:
    """Create (once: it is idempotent) what moto's CloudFormation skipped; return the full outputs."""
    names = names_of(template)
    outputs = stack_outputs(clients("cloudformation"), names.stack.for_suffix(environment))
    account = clients("sts").get_caller_identity()["Account"]
    variables = {
        SUFFIX_PARAMETER: environment,
        "AWS::AccountId": account,
        "AWS::Region": str(clients.region),
    }
    resources = template["Resources"]
    secret = resources["WebhookSecret"]["Properties"]
    api_key = resources["ApiKey"]["Properties"]
    secret_arn = _secret_arn(clients, substitute(secret["Name"], variables), secret, outputs[KMS_KEY_ARN])
    configure_local_verification(clients("secretsmanager"), secret_arn)
    api_key_id = _api_key_id(clients("apigateway"), substitute(api_key["Name"], variables), api_key)
    _subscribe_events_queue(clients, events_queue_name(names, environment), outputs[PAYMENT_EVENTS_TOPIC_ARN])
    return outputs | {WEBHOOK_SECRET_ARN: secret_arn, API_KEY_ID: api_key_id}


def remove_fill_ins(clients: Clients, environment: str, template: dict[str, Any]) -> None:
    """Delete what `ensure_fill_ins` made (the stack does not own it in the emulator)."""
    variables = {SUFFIX_PARAMETER: environment}
    resources = template["Resources"]
    secret_name = substitute(resources["WebhookSecret"]["Properties"]["Name"], variables)
    api_key_name = substitute(resources["ApiKey"]["Properties"]["Name"], variables)
    with contextlib.suppress(ClientError):  # never created
        clients("secretsmanager").delete_secret(SecretId=secret_name, ForceDeleteWithoutRecovery=True)
    apigateway = clients("apigateway")
    for key in apigateway.get_api_keys(nameQuery=api_key_name).get("items", []):
        if key["name"] == api_key_name:
            apigateway.delete_api_key(apiKey=key["id"])
    sqs = clients("sqs")
    with contextlib.suppress(ClientError):  # never created
        queue_name = events_queue_name(names_of(template), environment)
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"])
