"""The generation settings in force (tapstack.toml, read by generation's own loader), for the tests that
check what they decide: names, retention, memory, the stage. A fork that customises tapstack.toml and
regenerates keeps these tests green; `make test-settings` proves it with customised settings."""

import datetime

from tapstack.generate import load_settings
from templates.config import StackConfig

# Fixed, so that a runtime's deprecation margin is judged the same on every day the suite runs.
TODAY = datetime.date(2026, 11, 23)

CONFIG_IN_FORCE: StackConfig = load_settings(None, {}, today=TODAY)
PREFIX = CONFIG_IN_FORCE.name_prefix
STAGE = CONFIG_IN_FORCE.api_stage_name
LOG_RETENTION_DAYS = CONFIG_IN_FORCE.default_log_retention_days
