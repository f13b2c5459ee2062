"""Each project rule on its good and bad fixtures and on the generated template, run in this process
through cfn-lint's own loader and template runner (tests/support/rules.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tapstack import paths
from tests.support.rules import (
    FIXTURES,
    expected,
    fixture_rule_id,
    fixtures,
    found,
    project_rules,
    run_project_rules,
)

GOOD = fixtures("good")
BAD = fixtures("bad")


def test_every_rule_has_good_and_bad_fixtures() -> None:
    rule_ids = {rule.id for rule in project_rules().values()}
    assert {fixture_rule_id(path) for path in GOOD} == rule_ids
    assert {fixture_rule_id(path) for path in BAD} == rule_ids


@pytest.mark.parametrize("template", GOOD, ids=lambda path: path.name)
def test_good_fixture_has_no_match(template: Path) -> None:
    assert found(run_project_rules(template)) == {}


@pytest.mark.parametrize("template", BAD, ids=lambda path: path.name)
def test_bad_fixture_matches_where_marked(template: Path) -> None:
    rule_id = fixture_rule_id(template)
    matches = run_project_rules(template)
    assert not [match for match in matches if match.rule.id == "E0002"], "a rule raised"
    assert found([match for match in matches if match.rule.id == rule_id]) == expected(template)


def test_concurrency_budget_is_a_rule_option() -> None:
    """`-x E9041:budget=1900` (an account with a 2,000 quota) accepts the 950 the bad fixture reserves."""
    template = FIXTURES / "bad" / "E9041_reserved_concurrency_budget.yaml"
    assert found(run_project_rules(template))[("E9041", 27)] == 1
    raised = run_project_rules(template, configure_rules={"E9041": {"budget": 1900}})
    assert [match for match in raised if match.rule.id == "E9041"] == []


def test_generated_template_has_no_match() -> None:
    matches = run_project_rules(paths.TEMPLATE)
    assert [f"{match.rule.id} line {match.linenumber}: {match.message}" for match in matches] == []


def test_seed_failures_injected_into_the_generated_template_are_caught(tmp_path: Path) -> None:
    """The test above can fail: the seeds' mistakes, put back into the real template, are all reported."""
    template: dict[str, Any] = json.loads(paths.TEMPLATE.read_text())
    resources = template["Resources"]

    def of_type(resource_type: str) -> list[str]:
        return [name for name, resource in resources.items() if resource["Type"] == resource_type]

    functions = of_type("AWS::Lambda::Function")
    configs = of_type("AWS::Lambda::EventInvokeConfig")
    tables = of_type("AWS::DynamoDB::Table")
    for name in functions:
        resources[name]["Properties"]["ReservedConcurrentExecutions"] = 400
    resources[configs[0]]["Properties"]["MaximumRetryAttempts"] = 5
    resources[tables[0]]["DeletionPolicy"] = "Retain"
    resources[tables[0]]["Properties"]["DeletionProtectionEnabled"] = True
    next(iter(template["Outputs"].values())).pop("Export")
    broken = tmp_path / "TapStack.json"
    broken.write_text(json.dumps(template, indent=2))
    rule_ids = {match.rule.id for match in run_project_rules(broken)}
    assert {"E9001", "E9030", "E9041", "E9050", "W9040"} <= rule_ids


@pytest.mark.parametrize("mistake", ["association removed", "WafEnabled off by default"])
def test_a_stage_left_without_its_web_acl_is_caught(tmp_path: Path, mistake: str) -> None:
    template: dict[str, Any] = json.loads(paths.TEMPLATE.read_text())
    if mistake == "association removed":
        del template["Resources"]["WebAclAssociation"]
    else:
        template["Parameters"]["WafEnabled"]["Default"] = "false"
    broken = tmp_path / "TapStack.json"
    broken.write_text(json.dumps(template, indent=2))
    assert [match.rule.id for match in run_project_rules(broken)] == ["E9025"]
