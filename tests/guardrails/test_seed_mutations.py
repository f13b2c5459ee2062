"""Mutation tests: each failure from the seeds, put back the way the faulty version had it, is reported
by the guardrail meant for it, with that guardrail's id. A guardrail that lets one through is a bug.
"""

from __future__ import annotations

import ast
import copy
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from handlers.core import notifying, processing
from tapstack.artifact import ImportClosureError, check_import_closure, install_dependencies
from tapstack.lint.code_guard import check_source
from templates.contract import API_KEY_ID, ASYNCHRONOUS_ROLES, ROLES, TRANSACTIONS_TABLE_NAME
from tests.support.pipeline import PROCESSOR, Pipeline, sample
from tests.support.rules import found, run_project_rules

ROOT = Path(__file__).resolve().parents[2]
Template = dict[str, Any]
TEMPLATE: Template = json.loads((ROOT / "output" / "TapStack.json").read_text())


def rule_ids(template: Template, tmp_path: Path, **configure: dict[str, Any]) -> Counter[str]:
    path = tmp_path / "mutated.json"
    path.write_text(json.dumps(template, indent=2))
    return Counter(rule_id for rule_id, _ in found(run_project_rules(path, configure or None)).elements())


def run_generator(output: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """`python generate.py FLAGS --output OUTPUT`, as a user runs it."""
    return subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), *flags, "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )


def mutated(change: Callable[[Template], None]) -> Template:
    template = copy.deepcopy(TEMPLATE)
    change(template)
    return template


def resources(template: Template, resource_type: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == resource_type]


def test_the_unmutated_template_passes_every_guardrail(tmp_path: Path) -> None:
    assert rule_ids(TEMPLATE, tmp_path) == Counter()


def test_seed_retain_policy(tmp_path: Path) -> None:
    def retain(template: Template) -> None:
        template["Resources"]["TransactionsTable"]["DeletionPolicy"] = "Retain"
        template["Resources"]["AuditBucket"]["UpdateReplacePolicy"] = "Snapshot"

    assert rule_ids(mutated(retain), tmp_path) == Counter({"E9001": 2})


def test_seed_protect_style_deletion_protection(tmp_path: Path) -> None:
    def protect(template: Template) -> None:
        template["Resources"]["TransactionsTable"]["Properties"]["DeletionProtectionEnabled"] = True

    assert rule_ids(mutated(protect), tmp_path) == Counter({"E9001": 1})


def test_seed_reserved_concurrency_100_on_each_function(tmp_path: Path) -> None:
    def reserve(template: Template) -> None:
        for function in resources(template, "AWS::Lambda::Function"):
            function["Properties"]["ReservedConcurrentExecutions"] = 100

    template = mutated(reserve)
    assert rule_ids(template, tmp_path) == Counter({"W9040": len(ROLES)})
    # On an account like seed 004's (a limit of 50, which cannot reserve anything), the budget is 0.
    assert rule_ids(template, tmp_path, E9041={"budget": 0})["E9041"] == len(ROLES)


def test_seed_retry_attempts_5(tmp_path: Path) -> None:
    def retries(template: Template) -> None:
        for config in resources(template, "AWS::Lambda::EventInvokeConfig"):
            config["Properties"]["MaximumRetryAttempts"] = 5

    assert rule_ids(mutated(retries), tmp_path) == Counter({"E9030": len(ASYNCHRONOUS_ROLES)})
    generator = run_generator(tmp_path / "t.json", "--max-retry-attempts", "5")
    assert generator.returncode == 2
    assert "setting 'max_retry_attempts' = 5" in generator.stderr


@pytest.mark.parametrize("age", [30, 86400])
def test_seed_event_age_out_of_range(tmp_path: Path, age: int) -> None:
    def event_age(template: Template) -> None:
        template["Resources"]["ProcessorInvokeConfig"]["Properties"]["MaximumEventAgeInSeconds"] = age

    assert rule_ids(mutated(event_age), tmp_path) == Counter({"E9030": 1})


def test_seed_unexported_output(tmp_path: Path) -> None:
    def unexport(template: Template) -> None:
        del template["Outputs"][TRANSACTIONS_TABLE_NAME]["Export"]

    assert rule_ids(mutated(unexport), tmp_path) == Counter({"E9050": 1})


def test_seed_missing_api_key_id_output(tmp_path: Path) -> None:
    def drop(template: Template) -> None:
        del template["Outputs"][API_KEY_ID]

    assert rule_ids(mutated(drop), tmp_path) == Counter({"E9052": 1})


def _without_parse_float(source: str) -> str:
    """Every JSON parse turned into the seeds' plain `json.loads(body)`."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            node.keywords = [keyword for keyword in node.keywords if keyword.arg != "parse_float"]
    return ast.unparse(tree)


def test_seed_float_amount_written_to_dynamodb() -> None:
    body_parser = ROOT / "src" / "handlers" / "core" / "jsonbody.py"
    source = body_parser.read_text()
    assert check_source(body_parser, source) == []
    findings = check_source(body_parser, _without_parse_float(source))
    assert [finding.rule_id for finding in findings] == ["TG001"]


def test_seed_lossy_fix_float_of_the_amount() -> None:
    """The seeds' "ideal" fix, `float(transaction_data['amount'])`, is reported too."""
    model = ROOT / "src" / "handlers" / "core" / "model.py"
    source = model.read_text() + "\n\ndef for_json(item):\n    return {'amount': float(item['amount'])}\n"
    assert [finding.rule_id for finding in check_source(model, source)] == ["TG002"]


def test_seed_decimal_returned_from_a_handler(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """The processor returning Decimals: Lambda cannot marshal it, so the event goes to the DLQ."""
    monkeypatch.setattr(processing, "json_safe", dict)
    status, _ = pipeline.send(pipeline.sender.event("internal", sample("internal/transaction.created.json")))
    assert status == 202
    (processed,) = pipeline.lambda_.outcomes
    assert processed.function == PROCESSOR
    (dead_letter,) = pipeline.stack.dead_letters(pipeline.stack.processor_dlq_url)
    assert dead_letter["responsePayload"]["errorType"] == "Runtime.MarshalError"
    assert "Decimal is not JSON serializable" in dead_letter["responsePayload"]["errorMessage"]
    assert dead_letter["requestContext"]["approximateInvokeCount"] == 3


def test_seed_decimal_passed_to_json_dumps(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seed 000's SNS message: `json.dumps({'data': transaction_data})` with a Decimal amount inside."""

    def seed_message(item: dict[str, str | Decimal]) -> str:
        return json.dumps({"event_type": "payment_processed", "data": dict(item)})

    monkeypatch.setattr(notifying, "message", seed_message)
    status, body = pipeline.send(
        pipeline.sender.event("internal", sample("internal/transaction.created.json"))
    )
    assert status == 202
    assert pipeline.stack.item(body["transaction_id"]) is not None  # stored before the failure
    assert pipeline.stack.published() == []
    (dead_letter,) = pipeline.stack.dead_letters(pipeline.stack.notifier_dlq_url)
    assert dead_letter["responsePayload"]["errorType"] == "TypeError"
    assert "Decimal is not JSON serializable" in dead_letter["responsePayload"]["errorMessage"]


@pytest.mark.slow
def test_seed_handler_import_missing_from_the_artifact(tmp_path: Path) -> None:
    source = tmp_path / "handlers"
    source.mkdir()
    (source / "__init__.py").write_text("")
    (source / "receiver.py").write_text("from aws_xray_sdk.core import xray_recorder\n")
    with pytest.raises(ImportClosureError, match="aws_xray_sdk"):
        check_import_closure(source, install_dependencies())
