"""The settings registry (templates.config.SETTINGS) and what derives from it: validation, the generate
flags, tapstack.toml's comments and docs/configuration.md, and the check that fails when they drift."""

from __future__ import annotations

import datetime
import shutil
import tomllib
from pathlib import Path

import click
import pytest

from tapstack import paths
from tapstack.cli import main
from tapstack.cli.generate import generate_command
from tapstack.exits import ExitCode
from tapstack.generate import generate
from tapstack.generate.settings_docs import configuration_page, with_derived_comments
from templates.config import (
    DEFAULTS,
    SETTINGS,
    AtMostCharacters,
    Below,
    Between,
    ConfigError,
    Limit,
    Matches,
    NamesFrom,
    NotDeprecatedSoon,
    OneOf,
    Setting,
    StackConfig,
    config_from_mapping,
    settings_of,
)

TODAY = datetime.date(2026, 11, 23)


def outside(limit: Limit) -> tuple[object, datetime.date]:  # noqa: PLR0911 (one return per kind)
    """A value that every limit before this one allows and this one refuses, and the day to check it on."""
    if isinstance(limit, Between):
        return limit.high + 1, TODAY
    if isinstance(limit, Below):
        return limit.bound, TODAY
    if isinstance(limit, OneOf):
        numbers = [value for value in limit.values if isinstance(value, int)]
        return (max(numbers) + 1 if numbers else f"not-{limit.values[0]}"), TODAY
    if isinstance(limit, Matches):
        return "Not Valid!", TODAY
    if isinstance(limit, AtMostCharacters):
        return "p" * (limit.length + 1), TODAY
    if isinstance(limit, NamesFrom):
        return f"{limit.names[0]},not-{limit.names[0]}", TODAY
    if isinstance(limit, NotDeprecatedSoon):
        runtime, deprecation = next(iter(limit.deprecations.items()))
        return runtime, deprecation - limit.margin + datetime.timedelta(days=1)
    raise AssertionError(f"no value outside {limit!r}: teach this test the new kind of limit")


LIMITS = [(setting, limit) for setting in SETTINGS.values() for limit in setting.limits]


@pytest.mark.parametrize(
    ("setting", "limit"), LIMITS, ids=[f"{setting.name}-{type(limit).__name__}" for setting, limit in LIMITS]
)
def test_a_value_outside_each_limit_is_refused_naming_setting_value_limit_and_source(
    setting: Setting, limit: Limit
) -> None:
    value, today = outside(limit)
    with pytest.raises(ConfigError) as refused:
        config_from_mapping({setting.name: value}, today=today)
    assert str(refused.value) == (
        f"setting '{setting.name}' = {value!r} is invalid: {limit.text} (source: {limit.source})"
    )
    # An AWS limit cites AWS's page; TapStack's own (the providers it can verify) its docs page.
    documented = (paths.CONFIGURATION_DOC.parent / limit.source).is_file()
    assert limit.source.startswith("https://docs.aws.amazon.com/") or documented


@pytest.mark.parametrize("setting", SETTINGS.values(), ids=list(SETTINGS))
def test_a_value_of_the_wrong_type_is_refused(setting: Setting) -> None:
    wrong = True if setting.kind is str else "1"
    with pytest.raises(ConfigError, match=f"of type {setting.kind_name}") as refused:
        config_from_mapping({setting.name: wrong}, today=TODAY)
    assert refused.value.setting == setting.name


@pytest.mark.parametrize("setting", SETTINGS.values(), ids=list(SETTINGS))
def test_the_generate_command_refuses_it_with_exit_2_and_writes_nothing(
    setting: Setting, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    value, _ = outside(setting.limits[0])
    output = tmp_path / "TapStack.json"

    assert main(["generate", setting.flag, str(value), "--output", str(output)]) == ExitCode.USAGE

    error = capsys.readouterr().err
    assert error.startswith(f"error: setting '{setting.name}' = ")
    assert f"(source: {setting.limits[0].source})" in error
    assert list(tmp_path.iterdir()) == []


def test_the_defaults_are_the_registrys() -> None:
    assert settings_of(StackConfig(today=TODAY)) == DEFAULTS
    assert config_from_mapping({}, today=TODAY) == StackConfig(today=TODAY)


@pytest.mark.parametrize("setting", SETTINGS.values(), ids=list(SETTINGS))
def test_every_setting_has_its_flag_with_its_description(setting: Setting) -> None:
    options = {
        option.opts[0]: option for option in generate_command.params if isinstance(option, click.Option)
    }
    assert setting.flag in options
    assert options[setting.flag].help == setting.description
    assert setting.summary in setting.description
    assert all(limit.text in setting.description for limit in setting.limits)
    assert setting.description.endswith(f"Default: {setting.default}.")


def _toml_value(value: int | str) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def _every_setting_as_toml() -> str:
    """A settings file setting every setting to its default, with no comment."""
    top = [f"{name} = {_toml_value(value)}" for name, value in DEFAULTS.items() if "." not in name]
    tables: dict[str, list[str]] = {}
    for name, value in DEFAULTS.items():
        table, dot, key = name.partition(".")
        if dot:
            tables.setdefault(table, []).append(f"{key} = {_toml_value(value)}")
    return "\n".join([*top, *(f"[{table}]\n" + "\n".join(keys) for table, keys in tables.items())]) + "\n"


def _comments_above_each_setting(text: str) -> dict[str, str]:
    """setting name -> the comment lines right above its `key = value` line, joined."""
    comments: dict[str, str] = {}
    table = ""
    pending: list[str] = []
    for line in text.splitlines():
        if line.startswith("# "):
            pending.append(line.removeprefix("# "))
            continue
        if line.startswith("["):
            table = line.strip("[]")
        elif "=" in line:
            key = line.partition("=")[0].strip()
            comments[f"{table}.{key}" if table else key] = " ".join(pending)
        pending = []
    return comments


def test_every_setting_has_its_comment_above_it_in_the_settings_file() -> None:
    settings_file = _every_setting_as_toml()
    assert tomllib.loads(settings_file) == tomllib.loads(with_derived_comments(settings_file))
    comments = _comments_above_each_setting(with_derived_comments(settings_file))
    assert comments == {name: setting.description for name, setting in SETTINGS.items()}


def test_the_committed_settings_file_has_each_of_its_settings_described() -> None:
    comments = _comments_above_each_setting(paths.SETTINGS.read_text(encoding="utf-8"))
    assert comments
    assert comments == {name: SETTINGS[name].description for name in comments}


@pytest.mark.parametrize("setting", SETTINGS.values(), ids=list(SETTINGS))
def test_every_setting_has_its_row_on_the_configuration_page(setting: Setting) -> None:
    rows = [line for line in configuration_page().splitlines() if line.startswith(f"| `{setting.name}`<br>")]
    assert len(rows) == 1
    row = rows[0]
    assert f"`{setting.flag}`" in row
    assert f"| {setting.kind_name} | `{setting.default}` |" in row
    assert setting.summary in row
    assert all(limit.text.replace("<", "&lt;") in row for limit in setting.limits)
    assert all(f"]({source})" in row for source in setting.sources)


def test_the_comments_are_regenerated_and_the_values_kept() -> None:
    committed = paths.SETTINGS.read_text(encoding="utf-8")
    name, value = next(
        (key, value) for key, value in tomllib.loads(committed).items() if isinstance(value, int)
    )
    line = f"\n{name} = {value}\n"
    changed = f"\n{name} = {value + 1}  # ours\n"
    assert line in committed
    # A user's edit: stale and stray comments, a changed value with its own trailing comment.
    edited = "# an old header\n\n" + committed.replace("# ", "# stale: ").replace(
        line, f"{changed}# a stray note\n"
    )

    regenerated = with_derived_comments(edited)

    assert regenerated == with_derived_comments(committed).replace(line, changed)
    assert tomllib.loads(regenerated) == tomllib.loads(edited)
    assert "stale" not in regenerated
    assert "stray" not in regenerated


def test_the_committed_settings_file_keeps_its_values_through_regeneration() -> None:
    committed = paths.SETTINGS.read_text(encoding="utf-8")
    kept = [line for line in committed.splitlines() if line.strip() and not line.startswith("#")]
    regenerated = with_derived_comments(committed)
    assert [line for line in regenerated.splitlines() if line.strip() and not line.startswith("#")] == kept


@pytest.fixture
def documentation_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The settings file and the configuration page as copies the check reads instead of the committed."""
    settings_file = tmp_path / "tapstack.toml"
    page = tmp_path / "docs" / "configuration.md"
    shutil.copy(paths.SETTINGS, settings_file)
    monkeypatch.setattr(paths, "SETTINGS", settings_file)
    monkeypatch.setattr(paths, "CONFIGURATION_DOC", page)
    return settings_file, page


def test_generate_writes_the_documentation_and_the_check_fails_on_drift(
    documentation_copies: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_file, page = documentation_copies
    config = StackConfig(today=TODAY)
    output = tmp_path / "out" / "TapStack.json"
    assert generate(config, output) == ExitCode.OK
    assert page.read_text(encoding="utf-8") == configuration_page()
    assert generate(config, output, check=True) == ExitCode.OK
    capsys.readouterr()

    for drifted, edit in ((settings_file, "# a hand-written note\n"), (page, "\nhand-written\n")):
        original = drifted.read_text(encoding="utf-8")
        drifted.write_text(edit + original, encoding="utf-8")

        assert generate(config, output, check=True) == ExitCode.FAILED
        assert (
            f"{drifted}: differs from what the code generates; run 'make template'" in capsys.readouterr().err
        )
        drifted.write_text(original, encoding="utf-8")


def test_a_changed_value_is_no_drift_of_the_comments(documentation_copies: tuple[Path, Path]) -> None:
    settings_file, _ = documentation_copies
    text = with_derived_comments(settings_file.read_text(encoding="utf-8"))
    name, value = next((key, value) for key, value in tomllib.loads(text).items() if isinstance(value, int))
    changed = text.replace(f"\n{name} = {value}\n", f"\n{name} = {value}0\n")
    assert changed != text
    assert with_derived_comments(changed) == changed
