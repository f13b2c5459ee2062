"""Parameter files checked as CloudFormation checks parameter values, before any AWS call: each kind of
bad value gives one line naming the parameter, the value, the rule and the fix."""

import json
from pathlib import Path
from typing import Any

import pytest

from tapstack import paths
from tapstack.cli import main
from tapstack.exits import ExitCode
from tapstack.operate.cloud import Clients
from tapstack.parameter_files import ParameterValueError, load_parameter_file, value_problems

# Each Type and constraint CloudFormation checks, declared as a template declares them.
DECLARED: dict[str, dict[str, Any]] = {
    "Count": {"Type": "Number", "MinValue": 10, "MaxValue": 100},
    "Days": {"Type": "Number", "AllowedValues": [1, 7, 30]},
    "Mode": {"Type": "String", "AllowedValues": ["ON", "OFF"]},
    "Name": {"Type": "String", "MinLength": 2, "MaxLength": 5, "AllowedPattern": "[a-z]+"},
    "Cidrs": {"Type": "CommaDelimitedList", "AllowedPattern": r"^$|^\d+\.\d+\.\d+\.\d+/\d+$"},
    "Ports": {"Type": "List<Number>", "MinValue": 1, "MaxValue": 65535},
    "Zones": {"Type": "CommaDelimitedList", "AllowedValues": ["a", "b"]},
    "Vpc": {"Type": "AWS::EC2::VPC::Id", "AllowedPattern": "vpc-[0-9a-f]+"},
    "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>", "AllowedPattern": "subnet-[0-9a-f]+"},
}
TEMPLATE = {"Parameters": DECLARED}


def _file(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "params.json"
    path.write_text(json.dumps(list(entries)))
    return path


def _problems(tmp_path: Path, *entries: str) -> list[str]:
    with pytest.raises(ParameterValueError) as raised:
        load_parameter_file(_file(tmp_path, *entries), TEMPLATE)
    return raised.value.problems


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("Count=abc", "Count=abc is not a number (Type Number): write an integer or a decimal"),
        ("Count=", "Count= is not a number"),
        ("Count=5", "Count=5 is below MinValue 10: use a number from 10 to 100"),
        ("Count=100.5", "Count=100.5 is above MaxValue 100: use a number from 10 to 100"),
        ("Days=14", "Days=14 is not one of AllowedValues: use one of 1, 7, 30"),
        ("Mode=on", "Mode=on is not one of AllowedValues: use one of ON, OFF"),
        ("Name=a", "Name=a is shorter than MinLength 2: give at least 2 characters"),
        ("Name=abcdef", "Name=abcdef is longer than MaxLength 5: give at most 5 characters"),
        # The whole value must match, not a part of it.
        ("Name=ab1", "Name=ab1 does not match AllowedPattern [a-z]+: write a value it matches"),
        ("Cidrs=10.0.0.0/8,10.0.0.1", "Cidrs=10.0.0.0/8,10.0.0.1: element '10.0.0.1' does not match"),
        ("Ports=80,x", "Ports=80,x: element 'x' is not a number (Type List<Number>)"),
        ("Ports=80,70000", "Ports=80,70000: element '70000' is above MaxValue 65535"),
        ("Zones=a,c", "Zones=a,c: element 'c' is not one of AllowedValues: use one of a, b"),
        ("Vpc=vpc-xyz", "Vpc=vpc-xyz does not match AllowedPattern vpc-[0-9a-f]+"),
        ("Subnets=subnet-1a,sub", "Subnets=subnet-1a,sub: element 'sub' does not match AllowedPattern"),
        (
            "Unknown=1",
            "sets Unknown, which the template does not declare: remove them (use one of Cidrs, Count",
        ),
        ("=abc", '"=abc" names no parameter: write it as "Key=abc"'),
    ],
)
def test_each_kind_of_bad_value_is_one_line_naming_parameter_value_rule_and_fix(
    tmp_path: Path, entry: str, expected: str
) -> None:
    problems = _problems(tmp_path, entry)

    assert len(problems) == 1
    assert problems[0].startswith(expected)


@pytest.mark.parametrize(
    "entry",
    [
        *("Count=10", "Count=+50", "Count=99.5", "Count=1e2", "Count=.5e2", "Days=7", "Name=ab", "Cidrs="),
        *("Cidrs=10.0.0.0/8,192.168.0.0/16", "Ports=1,65535", "Zones=a,b", "Vpc=vpc-0a1b"),
        "Subnets=subnet-1,subnet-2",
    ],
)
def test_values_cloudformation_accepts_pass(tmp_path: Path, entry: str) -> None:
    key, value = entry.split("=", 1)

    assert load_parameter_file(_file(tmp_path, entry), TEMPLATE) == {key: value}


def test_a_key_given_twice_is_found_while_reading_even_without_a_template(tmp_path: Path) -> None:
    with pytest.raises(ParameterValueError) as raised:
        load_parameter_file(_file(tmp_path, "Days=7", "Days=30"))

    assert raised.value.problems == [
        "Days is given twice (Days=7 and Days=30); the AWS CLI would silently take the last: "
        "keep the one you mean"
    ]


def test_every_problem_of_a_file_is_reported_at_once_one_line_each(tmp_path: Path) -> None:
    path = _file(tmp_path, "Count=5", "Mode=on", "Days=14")

    with pytest.raises(ParameterValueError) as raised:
        load_parameter_file(path, TEMPLATE)

    first, *lines = str(raised.value).splitlines()
    assert first == f"{path}: 3 problems, found before any AWS call"
    assert [line.strip().split(": ", 1)[1].split(" ")[0] for line in lines] == [
        "Count=5",
        "Mode=on",
        "Days=14",
    ]


def test_a_number_type_checks_the_value_as_a_number_but_allowed_values_as_written() -> None:
    # AllowedValues are compared as written (the stricter reading of the string CloudFormation receives).
    assert value_problems("Days", "7.0", DECLARED["Days"]) == [
        "Days=7.0 is not one of AllowedValues: use one of 1, 7, 30"
    ]


@pytest.mark.parametrize("command", ["preflight", "deploy", "diff"])
def test_a_bad_parameter_file_exits_2_before_any_aws_client_is_made(
    tmp_path: Path, command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_client(*_: object) -> None:
        raise AssertionError("an AWS client was made before the parameter file was checked")

    monkeypatch.setattr(Clients, "__call__", no_client)
    path = _file(
        tmp_path, "WafRateLimitPer5Minutes=5", "ApiQuotaPerDay=abc", "StripeSourceCidrs=10.0.0.1", "Unknown=1"
    )

    exit_code = main([command, "--env", "dev", "--params", str(path)])

    error = capsys.readouterr().err
    assert exit_code == ExitCode.USAGE
    assert "4 problems" in error
    for rule in ("below MinValue 10", "is not a number", "does not match AllowedPattern", "does not declare"):
        assert rule in error
    assert "Traceback" not in error


def test_a_file_and_the_values_the_deploy_adds_make_one_checked_file_for_the_aws_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tapstack params overrides`: --parameter-overrides file://… takes no further Key=Value, so the
    file and the deploy's three values are combined into one file, in either of the AWS CLI's formats."""
    added = [
        "--add",
        "EnvironmentSuffix=dev",
        "--add",
        "CodeS3Bucket=my-artifacts",
        "--add",
        "CodeS3Key=a.zip",
    ]
    file_values = load_parameter_file(paths.PARAMS / "dev.json")
    expected = {
        **file_values,
        "EnvironmentSuffix": "dev",
        "CodeS3Bucket": "my-artifacts",
        "CodeS3Key": "a.zip",
    }

    overrides = main(["params", "overrides", str(paths.PARAMS / "dev.json"), *added])
    as_overrides = json.loads(capsys.readouterr().out)
    parameters = main(
        ["params", "overrides", str(paths.PARAMS / "dev.json"), *added, "--format", "parameters"]
    )
    as_parameters = json.loads(capsys.readouterr().out)

    assert (overrides, parameters) == (ExitCode.OK, ExitCode.OK)
    assert as_overrides == [f"{key}={value}" for key, value in expected.items()]
    assert as_parameters == [
        {"ParameterKey": key, "ParameterValue": value} for key, value in expected.items()
    ]


def test_an_added_value_is_checked_with_the_file_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, "Count=50")
    template = tmp_path / "template.json"
    template.write_text(json.dumps({**TEMPLATE, "Metadata": {}, "Resources": {}}))

    added = ["--add", "Count=60", "--add", "Mode=MAYBE", "--add", "orphan"]
    status = main(["params", "overrides", str(path), "--template", str(template), *added])
    lines = capsys.readouterr().err.splitlines()

    assert status == ExitCode.USAGE
    assert lines[0] == f"error: {path}: 3 problems, found before any AWS call"
    assert "Count is given twice (Count=50 and --add Count=60): keep one" in lines[1]
    assert '--add orphan is not "Key=Value"' in lines[2]
    assert "Mode=MAYBE" in lines[3]
