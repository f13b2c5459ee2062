"""Generate the TapStack template, its review report, the deployer's IAM policy and the settings'
documentation (`tapstack generate`).

Settings come from an optional TOML file, overridden by flags; they are validated against AWS limits
before anything is built, and an invalid one writes nothing.
"""

from __future__ import annotations

import datetime
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tapstack import paths
from tapstack.cost.render import COST_PAGE, render_cost_page
from tapstack.exits import CommandError, ExitCode
from tapstack.generate.deployer_policy import render_deployer_policy
from tapstack.generate.files import check_current, write_atomically
from tapstack.generate.local_page import LOCAL_PAGE, with_emulator_gaps
from tapstack.generate.parameters_page import PARAMETERS_PAGE, render_parameters_page
from tapstack.generate.report import render_report
from tapstack.generate.settings_docs import configuration_page, with_derived_comments
from tapstack.lint.rules_page import RULES_PAGE, render_rules_page
from templates.config import ConfigError, StackConfig, config_from_mapping
from templates.stack import build_template, render


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"receiver": {"timeout_seconds": 25}}` -> `{"receiver.timeout_seconds": 25}`."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def load_settings(
    config_file: Path | None, overrides: Mapping[str, Any], today: datetime.date | None = None
) -> StackConfig:
    """The settings of the TOML file (by default the committed tapstack.toml, when there is one) with
    the flags' values over them, validated (a runtime's deprecation against `today`, by default today)."""
    settings: dict[str, Any] = {}
    if config_file is None and paths.SETTINGS.is_file():
        config_file = paths.SETTINGS
    if config_file is not None:
        try:
            with config_file.open("rb") as file:
                settings.update(_flatten(tomllib.load(file)))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise CommandError(f"cannot read --config {config_file}: {error}") from error
    settings.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return config_from_mapping(settings, today)
    except ConfigError as error:
        raise CommandError(f"{error}\nnothing was written") from error


DEPLOYER_POLICY_NAME = "deployer-policy.json"


def settings_documentation() -> dict[Path, str]:
    """The files derived from the code alone: the settings' reference page and the committed settings
    file's comments (its values are kept)."""
    files = {paths.CONFIGURATION_DOC: configuration_page()}
    if paths.SETTINGS.is_file():
        files[paths.SETTINGS] = with_derived_comments(paths.SETTINGS.read_text(encoding="utf-8"))
    return files


def generated_files(config: StackConfig, output: Path) -> dict[Path, str]:
    """The template JSON at output, its report beside it (.md), the deployer's IAM policy and the settings'
    documentation; for the committed template, also its parameters, cost and local pages under docs/."""
    text = render(build_template(config))
    template = json.loads(text)
    # The reviewers' report and the policy are rendered from the JSON itself, so they cannot drift apart.
    files = {
        output: text,
        output.with_suffix(".md"): render_report(template),
        output.with_name(DEPLOYER_POLICY_NAME): render_deployer_policy(template),
        **settings_documentation(),
        RULES_PAGE: render_rules_page(),
    }
    if output.resolve() == paths.TEMPLATE:  # the committed template also documents itself under docs/
        files[PARAMETERS_PAGE] = render_parameters_page(template)
        files[COST_PAGE] = render_cost_page(template)
        # docs/local.md's list of the emulator's gaps and its count (the page's prose is kept)
        files[LOCAL_PAGE] = with_emulator_gaps(LOCAL_PAGE.read_text(encoding="utf-8"), template)
    return files


def generate(config: StackConfig, output: Path, *, check: bool = False) -> ExitCode:
    """Write the generated files, or with check compare them with what is on disk."""
    files = generated_files(config, output)
    if check:
        return max(ExitCode(check_current(path, expected)) for path, expected in files.items())
    for path, expected in files.items():
        write_atomically(path, expected)
        print(f"wrote {path} ({len(expected.encode())} bytes)")
    return ExitCode.OK
