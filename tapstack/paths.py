"""Where things live in the repository: every command and test reads its paths from here."""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
OUTPUT = REPOSITORY / "output"
TEMPLATE = OUTPUT / "TapStack.json"
SETTINGS = REPOSITORY / "tapstack.toml"
CONFIGURATION_DOC = REPOSITORY / "docs" / "configuration.md"
HANDLERS_SOURCE = REPOSITORY / "src" / "handlers"
HANDLER_REQUIREMENTS = HANDLERS_SOURCE / "requirements.txt"
RULES = REPOSITORY / "tapstack" / "lint" / "rules"
EVENTS = REPOSITORY / "events"
PARAMS = REPOSITORY / "params"
BUILD = REPOSITORY / "build"
LOAD_REPORT = BUILD / "load.json"
LOCAL_STATE = REPOSITORY / ".local"
FLAT_OUTPUTS = REPOSITORY / "cfn-outputs" / "flat-outputs.json"
CHECKOV = REPOSITORY / ".venv-checkov" / "bin" / "checkov"
COST_PRICES = REPOSITORY / "tapstack" / "cost" / "prices.toml"
COST_MEASUREMENTS = REPOSITORY / "tapstack" / "cost" / "measurements.json"
