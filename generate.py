#!/usr/bin/env python3
"""Generate output/TapStack.json (and its review report output/TapStack.md) from the code in templates/.

    python generate.py                      write the template
    python generate.py --check              fail if the committed JSON differs from the code
    python generate.py --config tap.toml    settings from a TOML file (flags override it)

Settings are validated against AWS limits before anything is built; an invalid one exits with status 2,
names the setting, the value, the limit and where the limit comes from, and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

from tapstack.build.generated_files import check_current, write_atomically
from tapstack.build.report import render_report
from templates.config import SETTING_HELP, ConfigError, StackConfig, config_from_mapping
from templates.stack import build_template, render

ROOT = Path(__file__).resolve().parent
DEFAULT_OUTPUT = ROOT / "output" / "TapStack.json"
EXIT_INVALID_SETTING = 2


def _flag(setting: str) -> str:
    return "--" + setting.replace(".", "-").replace("_", "-")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Generate the TapStack CloudFormation template.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Every setting can also go in the --config TOML file under its name; a [receiver] table "
        "sets receiver.memory_mb and receiver.timeout_seconds. Flags override the file.",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON")
    parser.add_argument("--check", action="store_true", help="compare with --output instead of writing it")
    parser.add_argument(
        "--config", type=Path, help="TOML file of settings (a [receiver] table sets receiver.*)"
    )
    settings = parser.add_argument_group("settings")
    for setting, (kind, text) in SETTING_HELP.items():
        settings.add_argument(
            _flag(setting), dest=setting, type=kind, metavar=kind.__name__.upper(), help=text
        )
    return parser.parse_args(argv)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"receiver": {"timeout_seconds": 25}}` -> `{"receiver.timeout_seconds": 25}`."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def load_config(args: argparse.Namespace) -> StackConfig:
    settings: dict[str, Any] = {}
    if args.config is not None:
        with args.config.open("rb") as file:
            settings.update(_flatten(tomllib.load(file)))
    settings.update(
        {key: value for key, value in vars(args).items() if key in SETTING_HELP and value is not None}
    )
    return config_from_mapping(settings)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config = load_config(args)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        print("nothing was written", file=sys.stderr)
        return EXIT_INVALID_SETTING
    except (OSError, tomllib.TOMLDecodeError) as error:
        print(f"error: cannot read --config {args.config}: {error}", file=sys.stderr)
        return EXIT_INVALID_SETTING
    text = render(build_template(config))
    # The reviewers' report is rendered from the JSON itself, so the two cannot drift apart.
    outputs = {args.output: text, args.output.with_suffix(".md"): render_report(json.loads(text))}
    if args.check:
        return max(check_current(path, expected) for path, expected in outputs.items())
    for path, expected in outputs.items():
        write_atomically(path, expected)
        print(f"wrote {path} ({len(expected.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
