"""`tapstack cost`: its JSON shape, the total it gives for a traffic, and one-line refusals (exit 2)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tapstack import paths
from tapstack.cli import main
from tapstack.exits import ExitCode

pytestmark = pytest.mark.settings  # it prices the committed template, generated from the settings

LINE_FIELDS = {
    "service",
    "item",
    "quantity",
    "unit",
    "unit_price_usd",
    "usd",
    "price",
    "source",
    "checked",
    "basis",
}


def _json_of(capsys: pytest.CaptureFixture[str], *arguments: str) -> dict[str, object]:
    assert main(["cost", "--format", "json", *arguments]) == ExitCode.OK
    loaded: dict[str, object] = json.loads(capsys.readouterr().out, parse_float=Decimal)
    return loaded


def test_the_json_gives_both_figures_the_lines_behind_them_and_the_month_for_the_traffic(
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = _json_of(capsys, "--params", "params/prod.json", "--deliveries-per-month", "3000000")

    lines = document["lines"]
    assert isinstance(lines, dict)
    fixed, per_million, traffic = (
        lines[k] for k in ("monthly_fixed", "per_million_deliveries", "traffic_dependent")
    )
    for line in fixed + per_million + traffic:
        assert set(line) == LINE_FIELDS
        assert Decimal(line["usd"]) == Decimal(line["quantity"]) * Decimal(line["unit_price_usd"])
    tolerance = Decimal("0.00001")  # the JSON rounds each amount to a millionth of a dollar
    assert (
        abs(Decimal(str(document["monthly_fixed_usd"])) - sum(Decimal(line["usd"]) for line in fixed))
        < tolerance
    )
    per_million_usd = Decimal(str(document["per_million_deliveries_usd"]))
    assert abs(per_million_usd - sum(Decimal(line["usd"]) for line in per_million)) < tolerance
    expected = (
        Decimal(str(document["monthly_fixed_usd"]))
        + 3 * per_million_usd
        + sum(Decimal(x["usd"]) for x in traffic)
    )
    assert abs(Decimal(str(document["total_usd"])) - expected) < tolerance
    assert document["deliveries_per_month"] == "3000000"
    assert document["sensitivity"]
    assert document["measurements"]["label"].startswith("local measurements")  # type: ignore[index]


def test_the_text_names_the_figures_and_what_moves_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--params", "params/dev.json"]) == ExitCode.OK
    shown = capsys.readouterr().out
    assert "Fixed, a month: $" in shown
    assert "Per million deliveries: $" in shown
    assert "What moves it most" in shown
    assert "WAF off (WafEnabled=false)" in shown


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--format", "yaml"], "--format 'yaml' is not one of text, json"),
        (["--deliveries-per-month", "a lot"], "--deliveries-per-month 'a lot' is not a whole number"),
        (["--deliveries-per-month", "-5"], "--deliveries-per-month '-5' is not a whole number"),
        (["--template", "nowhere/TapStack.json"], "cannot read the template nowhere/TapStack.json"),
        (["--params", "params/missing.json"], "cannot read the parameter file params/missing.json"),
    ],
    ids=["format", "deliveries", "negative", "template", "params"],
)
def test_bad_input_is_refused_in_one_line(
    arguments: list[str], says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(paths.REPOSITORY)
    assert main(["cost", *arguments]) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    error = captured.err.strip()
    assert error.count("\n") == 0
    assert says in error


def test_a_parameter_the_template_does_not_declare_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = tmp_path / "params.json"
    params.write_text('["MemorySize=2048"]', encoding="utf-8")
    assert main(["cost", "--params", str(params)]) == ExitCode.USAGE
    assert "sets MemorySize, which the template does not declare" in capsys.readouterr().err
