"""Unit tests of templates/naming.py."""

from __future__ import annotations

import json

import pytest

from templates.config import ConfigError, StackConfig, config_from_mapping
from templates.contract import API_ID, NAME_PREFIX_SETTING, SETTINGS_METADATA, SUFFIX_PARAMETER
from templates.naming import (
    MIN_SUFFIX_LENGTH,
    Name,
    StackNames,
    max_prefix_length,
    max_suffix_length,
    names_of,
)
from templates.stack import build_template, render


def test_fixed_length_counts_pseudo_parameters_at_their_longest() -> None:
    name = Name("tap-${EnvironmentSuffix}-${AWS::AccountId}-${AWS::Region}", 63)
    assert name.fixed_length() == len("tap---") + 12 + 14


def test_bucket_names_are_the_tightest_limit() -> None:
    names = StackNames(prefix="tapstack")
    limit = max_suffix_length(names)
    assert limit == 63 - names.access_log_bucket.fixed_length()
    assert limit == 19


def test_a_longer_prefix_shortens_the_suffix_budget() -> None:
    assert max_suffix_length(StackNames(prefix="payments-webhooks")) < max_suffix_length(
        StackNames("tapstack")
    )


def test_every_name_carries_the_suffix_and_the_prefix() -> None:
    for name in StackNames(prefix="tapstack").all_names():
        assert "${EnvironmentSuffix}" in name.pattern
        assert "tapstack" in name.pattern


def test_global_names_include_account_or_region() -> None:
    names = StackNames(prefix="tapstack")
    assert "${AWS::AccountId}" in names.audit_bucket.pattern
    assert "${AWS::Region}" in names.audit_bucket.pattern
    assert "${AWS::Region}" in names.function_role("receiver").pattern


def test_stack_and_export_names_for_an_environment() -> None:
    names = StackNames(prefix="acme")
    assert names.stack.for_suffix("dev") == "acme-dev"
    assert names.export(API_ID).for_suffix("dev") == "acme-dev-ApiId"
    assert names.bootstrap_stack == "acme-bootstrap"


def test_a_name_with_account_or_region_is_not_known_from_the_suffix_alone() -> None:
    with pytest.raises(ValueError, match="account and region"):
        StackNames(prefix="acme").audit_bucket.for_suffix("dev")


@pytest.mark.parametrize("prefix", ["tapstack", "acme", "pay-hooks"])
def test_the_names_are_read_back_from_a_generated_template(prefix: str) -> None:
    template = json.loads(render(build_template(StackConfig(name_prefix=prefix))))
    assert names_of(template) == StackNames(prefix)


def test_a_template_without_its_recorded_name_prefix_is_refused() -> None:
    template = json.loads(render(build_template(StackConfig())))
    del template["Metadata"][SETTINGS_METADATA][NAME_PREFIX_SETTING]
    with pytest.raises(LookupError, match="not a generated TapStack template"):
        names_of(template)
    with pytest.raises(LookupError):
        names_of({"Resources": {}})


def test_the_longest_prefix_leaves_the_minimum_suffix_and_one_more_character_does_not() -> None:
    longest = max_prefix_length()
    assert max_suffix_length(StackNames("p" * longest)) >= MIN_SUFFIX_LENGTH
    assert max_suffix_length(StackNames("p" * (longest + 1))) < MIN_SUFFIX_LENGTH


@pytest.mark.parametrize("extra", [1, 4, 5, 40])
def test_a_prefix_past_the_limit_is_a_setting_error_not_an_undeployable_template(extra: int) -> None:
    prefix = "p" * (max_prefix_length() + extra)
    with pytest.raises(ConfigError, match=rf"at most {max_prefix_length()} characters"):
        config_from_mapping({"name_prefix": prefix})


def test_the_longest_prefix_builds_a_template_whose_suffix_has_room() -> None:
    template = json.loads(render(build_template(StackConfig(name_prefix="p" * max_prefix_length()))))
    assert template["Parameters"][SUFFIX_PARAMETER]["MaxLength"] >= MIN_SUFFIX_LENGTH
