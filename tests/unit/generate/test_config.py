"""Unit tests of templates/config.py: each AWS limit at and beyond its edge."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from templates.config import (
    API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS,
    LOG_RETENTION_DAYS,
    ConfigError,
    FunctionSettings,
    StackConfig,
    config_from_mapping,
)

TODAY = datetime.date(2026, 11, 23)


def make(**changes: Any) -> StackConfig:
    return dataclasses.replace(StackConfig(today=TODAY), **changes)


def test_defaults_are_valid() -> None:
    config = StackConfig(today=TODAY)
    assert config.receiver.timeout_seconds < API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS


@pytest.mark.parametrize("retries", [0, 1, 2])
def test_retries_within_the_async_limit(retries: int) -> None:
    assert make(max_retry_attempts=retries).max_retry_attempts == retries


@pytest.mark.parametrize("retries", [-1, 3, 5, True])
def test_retries_beyond_the_async_limit(retries: object) -> None:
    with pytest.raises(ConfigError) as error:
        make(max_retry_attempts=retries)
    assert error.value.setting == "max_retry_attempts"
    assert "invocation-async" in error.value.source


@pytest.mark.parametrize(("age", "valid"), [(59, False), (60, True), (21600, True), (21601, False)])
def test_event_age_edges(age: int, valid: bool) -> None:
    if valid:
        assert make(max_event_age_seconds=age).max_event_age_seconds == age
    else:
        with pytest.raises(ConfigError, match="MaximumEventAgeInSeconds"):
            make(max_event_age_seconds=age)


@pytest.mark.parametrize(("memory", "valid"), [(127, False), (128, True), (10240, True), (10241, False)])
def test_memory_edges(memory: int, valid: bool) -> None:
    settings = FunctionSettings(memory_mb=memory, timeout_seconds=30)
    if valid:
        assert make(processor=settings).processor.memory_mb == memory
    else:
        with pytest.raises(ConfigError, match=r"processor\.memory_mb"):
            make(processor=settings)


@pytest.mark.parametrize(("timeout", "valid"), [(0, False), (1, True), (900, True), (901, False)])
def test_timeout_edges(timeout: int, valid: bool) -> None:
    settings = FunctionSettings(memory_mb=1024, timeout_seconds=timeout)
    if valid:
        assert make(notifier=settings).notifier.timeout_seconds == timeout
    else:
        with pytest.raises(ConfigError, match=r"notifier\.timeout_seconds"):
            make(notifier=settings)


def test_receiver_must_answer_before_api_gateway_gives_up() -> None:
    assert make(receiver=FunctionSettings(1024, 28)).receiver.timeout_seconds == 28
    with pytest.raises(ConfigError, match="29 s"):
        make(receiver=FunctionSettings(1024, 29))


def test_log_retention_only_cloudwatch_values() -> None:
    for days in LOG_RETENTION_DAYS:
        assert make(default_log_retention_days=days).default_log_retention_days == days
    with pytest.raises(ConfigError, match="CloudWatch Logs accepts"):
        make(default_log_retention_days=10)


def test_runtime_must_be_supported_and_not_near_deprecation() -> None:
    assert make(runtime="python3.12").runtime == "python3.12"
    with pytest.raises(ConfigError, match="supported Python runtimes"):
        make(runtime="python3.9")
    with pytest.raises(ConfigError, match=r"python3\.12 on 2028-10-31"):
        StackConfig(runtime="python3.12", today=datetime.date(2028, 1, 1))


def test_reserved_concurrency_default_cannot_be_negative() -> None:
    with pytest.raises(ConfigError, match="default_reserved_concurrency"):
        make(default_reserved_concurrency=-1)


def test_error_message_names_setting_value_limit_and_source() -> None:
    with pytest.raises(ConfigError) as error:
        make(max_retry_attempts=5)
    message = str(error.value)
    assert "'max_retry_attempts'" in message
    assert "= 5" in message
    assert "0 to 2" in message
    assert "https://docs.aws.amazon.com/lambda/" in message


def test_config_from_mapping_reads_flat_function_settings() -> None:
    config = config_from_mapping({"receiver.timeout_seconds": 10, "max_event_age_seconds": 120}, today=TODAY)
    assert config.receiver == dataclasses.replace(StackConfig(today=TODAY).receiver, timeout_seconds=10)
    assert config.max_event_age_seconds == 120


@pytest.mark.parametrize("key", ["max_retries", "receiver.runtime", "today", "worker.memory_mb"])
def test_config_from_mapping_refuses_unknown_settings(key: str) -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        config_from_mapping({key: 1}, today=TODAY)


@pytest.mark.parametrize(
    ("setting", "days", "valid"),
    [
        (setting, days, valid)
        for setting in ("default_audit_retention_days", "default_audit_noncurrent_retention_days")
        for days, valid in ((0, False), (1, True), (36500, True), (36501, False), (True, False))
    ],
)
def test_audit_retention_edges(setting: str, days: object, valid: bool) -> None:
    if valid:
        assert getattr(make(**{setting: days}), setting) == days
    else:
        with pytest.raises(ConfigError, match=setting) as error:
            make(**{setting: days})
        assert "intro-lifecycle-rules" in error.value.source


def test_the_glacier_transition_setting_is_gone() -> None:
    """Nothing moves to GLACIER any more (README, audit archive): the old setting is refused, not ignored."""
    with pytest.raises(ConfigError, match="unknown setting"):
        config_from_mapping({"audit_glacier_transition_days": 90}, today=TODAY)
