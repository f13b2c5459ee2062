"""AcceptPayPalSimulator=true only in a development parameter file: loading (deploy, diff, preflight,
lint) refuses it anywhere else, and preflight refuses a stack that would keep it from its deployed value."""

import json
from pathlib import Path

import pytest

from tapstack import paths
from tapstack.cfn.model import read_template
from tapstack.lint.findings import CannotLintError
from tapstack.lint.resolve import write_resolved
from tapstack.operate.cloud import TEMPLATE_PATH
from tapstack.operate.preflight import DeployPlan, Status, check_paypal_simulator, effective_parameters
from tapstack.parameter_files import ParameterValueError, is_development_file, load_parameter_file
from templates.contract import PAYPAL_SIMULATOR_PARAMETER

TEMPLATE = read_template(TEMPLATE_PATH)
ON = f"{PAYPAL_SIMULATOR_PARAMETER}=true"


@pytest.mark.parametrize(
    ("name", "development"),
    [
        ("dev.json", True),
        ("local.json", True),
        ("dev-alice.json", True),
        ("local-ci_2.json", True),
        ("prod.json", False),
        ("landing-zone.json", False),
        ("staging.json", False),
        ("devil.json", False),
        ("dev-prod.json", False),
        ("dev.prod.json", False),
        ("prod-dev.json", False),
    ],
)
def test_which_files_are_development_ones(name: str, development: bool) -> None:
    assert is_development_file(Path("params") / name) is development


def test_the_template_declares_it_refused_by_default() -> None:
    parameter = TEMPLATE["Parameters"][PAYPAL_SIMULATOR_PARAMETER]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("false", ["true", "false"])


def test_the_committed_parameter_files_leave_it_off() -> None:
    for path in sorted(paths.PARAMS.glob("*.json")):
        assert load_parameter_file(path, TEMPLATE).get(PAYPAL_SIMULATOR_PARAMETER, "false") == "false", path


def written(tmp_path: Path, name: str, *entries: str) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(list(entries)))
    return path


def test_a_development_file_may_turn_it_on(tmp_path: Path) -> None:
    assert load_parameter_file(written(tmp_path, "dev-alice.json", ON), TEMPLATE)[
        PAYPAL_SIMULATOR_PARAMETER
    ] == ("true")


@pytest.mark.parametrize("name", ["prod.json", "landing-zone.json", "team.json"])
def test_any_other_file_turning_it_on_is_one_problem_naming_the_fix(tmp_path: Path, name: str) -> None:
    with pytest.raises(ParameterValueError) as refused:
        load_parameter_file(written(tmp_path, name, "LogRetentionDays=365", ON), TEMPLATE)
    (problem,) = refused.value.problems
    assert problem.startswith(f"{ON} accepts PayPal simulator events")
    assert "remove it" in problem


def test_lint_refuses_to_resolve_a_production_file_that_turns_it_on(tmp_path: Path) -> None:
    with pytest.raises(CannotLintError, match=PAYPAL_SIMULATOR_PARAMETER):
        write_resolved(TEMPLATE_PATH, TEMPLATE, written(tmp_path, "prod.json", ON))


def plan(development: bool, overrides: dict[str, str]) -> DeployPlan:
    return DeployPlan("x", "stack-x", "bootstrap", overrides, "bucket", "lambda.zip", False, development)


def deployed_with(value: str) -> dict[str, object]:
    return {"Parameters": [{"ParameterKey": PAYPAL_SIMULATOR_PARAMETER, "ParameterValue": value}]}


@pytest.mark.parametrize(
    ("development", "deployed", "overrides", "status"),
    [
        (False, None, {}, Status.PASS),
        (True, None, {PAYPAL_SIMULATOR_PARAMETER: "true"}, Status.WARN),
        (False, deployed_with("true"), {}, Status.FAIL),  # kept from the deployed stack
        (False, deployed_with("true"), {PAYPAL_SIMULATOR_PARAMETER: "false"}, Status.PASS),
        (True, deployed_with("true"), {}, Status.WARN),
    ],
)
def test_preflight_refuses_a_stack_that_would_keep_it_without_a_development_file(
    development: bool, deployed: dict[str, object] | None, overrides: dict[str, str], status: Status
) -> None:
    parameters = effective_parameters(TEMPLATE, deployed, overrides)
    result = check_paypal_simulator(parameters, plan(development, overrides))
    assert result.status is status
    if status is Status.FAIL:
        assert result.fix == f"add {PAYPAL_SIMULATOR_PARAMETER}=false to the parameter file"
