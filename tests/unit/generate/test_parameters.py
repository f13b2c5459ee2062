"""Unit tests of templates/parameters.py."""

from __future__ import annotations

import re

from troposphere import Equals, Not, Ref

from templates.config import StackConfig
from templates.naming import SUFFIX_PATTERN, StackNames, max_suffix_length
from templates.parameters import build_parameters


def test_suffix_pattern_accepts_and_refuses() -> None:
    pattern = re.compile(SUFFIX_PATTERN)
    for good in ("dev", "pr-123", "a", "prod2"):
        assert pattern.match(good), good
    for bad in ("Dev", "-dev", "dev-", "dev_1", "", "dév"):
        assert not pattern.match(bad), bad


def test_suffix_length_is_derived_from_names() -> None:
    names = StackNames(prefix="tapstack")
    params = build_parameters(StackConfig(), names)
    assert params.environment_suffix.properties["MaxLength"] == max_suffix_length(names)


def test_every_parameter_is_grouped_and_labelled_for_the_console() -> None:
    params = build_parameters(StackConfig(), StackNames(prefix="tapstack"))
    interface = params.interface_metadata()["AWS::CloudFormation::Interface"]
    assert isinstance(interface, dict)
    grouped = [name for group in interface["ParameterGroups"] for name in group["Parameters"]]
    titles = [parameter.title for parameter in params.all_parameters()]
    assert sorted(grouped) == sorted(titles)
    assert len(set(grouped)) == len(grouped)
    assert interface["ParameterLabels"]["ApiThrottleRateLimit"] == {"default": "Api throttle rate limit"}


def test_defaults_ask_nothing_of_the_account() -> None:
    params = build_parameters(StackConfig(), StackNames(prefix="tapstack"))
    assert all(p.properties["Default"] == 0 for p in params.reserved_concurrency.values())
    assert params.api_execution_logging.properties["Default"] == "OFF"
    assert params.alarm_email.properties["Default"] == ""
    assert params.audit_object_lock_mode.properties["Default"] == "NONE"
    # The web ACL is on, with no allow-list: a provider's ranges must come from the provider.
    assert params.waf_enabled.properties["Default"] == "true"
    assert all(p.properties["Default"] == "" for p in params.provider_source_cidrs.values())
    # No VPC unless the organisation gives its subnets.
    assert [p.properties["Default"] for p in params.network()] == ["", ""]
    # The standard topic only: the FIFO topic is opt-in.
    assert params.ordered_delivery_topic.properties["Default"] == "false"
    # No other account subscribes unless named.
    assert params.subscriber_account_ids.properties["Default"] == ""
    # The reconciler runs on its schedule: it needs only the providers' read-only credentials.
    assert params.reconcile_rate.properties["Default"] == "rate(15 minutes)"
    assert set(params.conditions) == {
        *params.has_reserved_concurrency.values(),
        params.has_alarm_email,
        params.has_api_access_logging,
        params.has_audit_object_lock,
        params.has_waf,
        *params.has_provider_source_allow_list.values(),
        params.attach_to_vpc,
        params.has_ordered_delivery_topic,
        params.has_subscriber_accounts,
        params.has_ordered_subscriber_accounts,
        params.reconciles,
    }


def test_audit_archive_parameters_default_to_the_settings_and_are_bounded() -> None:
    config = StackConfig(default_audit_retention_days=30, default_audit_noncurrent_retention_days=7)
    params = build_parameters(config, StackNames(prefix="tapstack"))
    assert params.audit_retention_days.properties["Default"] == 30
    assert params.audit_noncurrent_retention_days.properties["Default"] == 7
    # Locked for as long as the payload is kept, unless the deploy says otherwise.
    assert params.audit_object_lock_retention_days.properties["Default"] == 30
    for parameter in (
        params.audit_retention_days,
        params.audit_noncurrent_retention_days,
        params.audit_object_lock_retention_days,
    ):
        assert (parameter.properties["MinValue"], parameter.properties["MaxValue"]) == (1, 36500)
    assert params.audit_object_lock_mode.properties["AllowedValues"] == ["NONE", "GOVERNANCE", "COMPLIANCE"]
    assert params.conditions[params.has_audit_object_lock] == Not(
        Equals(Ref(params.audit_object_lock_mode), "NONE")
    )
