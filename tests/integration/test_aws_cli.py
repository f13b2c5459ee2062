"""docs/deploying.md's CLI-only path run with the AWS CLI itself (.venv-awscli) against the emulator:
`aws s3 cp` of the artifact and the template, the parameter file and the three values the deploy adds
combined by `tapstack params overrides`, and the stack made with `aws cloudformation create-stack`.

`aws cloudformation deploy` itself is run too, and fails on the emulator for the reason the page gives:
moto (5.2) executes a change set through its stack update, which creates the added resources in
template order and ignores DependsOn, so the API's Deployment is created before its methods and API
Gateway refuses it. The day moto executes it, the test fails and the page should say `deploy`.
"""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tapstack import paths
from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.local.target import EMULATOR_CREDENTIALS, EMULATOR_REGION, as_moto_reads_it
from tapstack.operate.cloud import TEMPLATE_PATH, Clients, stack_outputs
from tapstack.parameter_files import load_parameter_file
from templates.contract import ARTIFACT_BUCKET_NAME, SUFFIX_PARAMETER, TRANSACTIONS_TABLE_NAME
from tests.integration.conftest import LOCAL_PARAMETERS, NAMES, on_emulator, tiny_artifact

AWSCLI_VENV = paths.REPOSITORY / ".venv-awscli"
ENVIRONMENT = "cli"


@pytest.fixture(scope="session")
def aws_cli() -> None:
    """The AWS CLI of .venv-awscli, made by its make target (in about two seconds) when absent: a
    missing CLI fails the test, it is never skipped."""
    if not (AWSCLI_VENV / ".installed").is_file():
        made = subprocess.run(
            [shutil.which("make") or "make", "--no-print-directory", "awscli-environment"],
            cwd=paths.REPOSITORY,
            capture_output=True,
            text=True,
            check=False,
        )
        assert made.returncode == 0, f"make awscli-environment failed:\n{made.stdout}{made.stderr}"


class AwsCli:
    """The `aws` command pointed at one emulator by AWS_ENDPOINT_URL, with its fake credentials and no
    configuration or profile of this machine."""

    def __init__(self, executable: Path, endpoint_url: str, home: Path) -> None:
        self.executable = executable
        self.environment = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": EMULATOR_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": EMULATOR_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": EMULATOR_REGION,
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        }

    def __call__(self, *words: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.executable), *words],
            env=self.environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    def ok(self, *words: str) -> str:
        result = self(*words)
        assert result.returncode == 0, f"aws {' '.join(words)}: {result.stderr}"
        return result.stdout


def _bootstrapped(clients: Clients, home: Path) -> AwsCli:
    """The emulated account as `make bootstrap` leaves it, and the CLI pointed at it."""
    assert clients.endpoint_url is not None
    log: list[str] = []
    on_emulator(clients, ENVIRONMENT).target.prepare_account(NAMES, log.append)
    return AwsCli(AWSCLI_VENV / "bin" / "aws", clients.endpoint_url, home)


def _parameters_file(
    directory: Path, capsys: pytest.CaptureFixture[str], added: dict[str, str], output_format: str
) -> Path:
    """`tapstack params overrides params/local.json --add …` written to a file, as the page does."""
    capsys.readouterr()
    words = [word for key, value in added.items() for word in ("--add", f"{key}={value}")]
    status = main(["params", "overrides", str(LOCAL_PARAMETERS), *words, "--format", output_format])
    assert status == ExitCode.OK
    path = directory / f"{output_format}.json"
    path.write_text(capsys.readouterr().out, encoding="utf-8")
    return path


def test_the_cli_only_path_uploads_with_s3_cp_and_creates_the_stack_with_the_combined_parameters(
    aws_cli: None, own_emulator: Clients, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aws = _bootstrapped(own_emulator, tmp_path)
    bucket = aws.ok(
        "cloudformation", "describe-stacks", "--stack-name", NAMES.bootstrap_stack,
        "--query", f"Stacks[0].Outputs[?OutputKey=='{ARTIFACT_BUCKET_NAME}'].OutputValue", "--output", "text",
    ).strip()  # fmt: skip
    artifact = tiny_artifact(tmp_path)
    key = f"lambda-{hashlib.sha256(artifact.read_bytes()).hexdigest()}.zip"
    aws.ok("s3", "cp", str(artifact), f"s3://{bucket}/{key}")
    added = {SUFFIX_PARAMETER: ENVIRONMENT, "CodeS3Bucket": bucket, "CodeS3Key": key}
    parameters = _parameters_file(tmp_path, capsys, added, "parameters")
    # The one step of the emulator's own: the template as moto reads it (see docs/deploying.md).
    template = json.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
    readable = tmp_path / "TapStack.json"
    values = load_parameter_file(LOCAL_PARAMETERS) | added
    readable.write_text(json.dumps(as_moto_reads_it(template, values)), encoding="utf-8")
    aws.ok("s3", "cp", str(readable), f"s3://{bucket}/templates/TapStack.json")
    stack = NAMES.stack.for_suffix(ENVIRONMENT)

    aws.ok(
        "cloudformation", "create-stack", "--stack-name", stack,
        "--template-url", f"{own_emulator.endpoint_url}/{bucket}/templates/TapStack.json",
        "--capabilities", "CAPABILITY_NAMED_IAM", "--parameters", f"file://{parameters}",
    )  # fmt: skip
    aws.ok("cloudformation", "wait", "stack-create-complete", "--stack-name", stack)

    described = own_emulator("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    given = {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}
    assert values.items() <= given.items()
    outputs = stack_outputs(own_emulator("cloudformation"), stack)
    assert outputs[TRANSACTIONS_TABLE_NAME] == NAMES.table.for_suffix(ENVIRONMENT)
    receiver_name = NAMES.function("receiver").for_suffix(ENVIRONMENT)
    receiver = own_emulator("lambda").get_function(FunctionName=receiver_name)
    assert receiver["Configuration"]["CodeSize"] == artifact.stat().st_size  # the code `aws s3 cp` put there

    # `aws cloudformation deploy` with the same values in its own format, as a stack of its own.
    added[SUFFIX_PARAMETER] = "clideploy"
    overrides = _parameters_file(tmp_path, capsys, added, "overrides")
    refused = aws(
        "cloudformation", "deploy", "--stack-name", NAMES.stack.for_suffix("clideploy"),
        "--template-file", str(TEMPLATE_PATH), "--s3-bucket", bucket, "--s3-prefix", "templates",
        "--capabilities", "CAPABILITY_NAMED_IAM", "--no-fail-on-empty-changeset",
        "--parameter-overrides", f"file://{overrides}",
    )  # fmt: skip
    assert refused.returncode != 0
    assert "The REST API doesn" in refused.stderr  # the Deployment, created before the methods
    assert "contain any methods" in refused.stderr
