"""Unit tests of templates/naming.py."""

from __future__ import annotations

from templates.naming import Name, StackNames, max_suffix_length


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
