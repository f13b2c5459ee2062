"""Mutation tests of the audit archive: the lifecycle this stack used to have, and the ways back to it,
put into the generated template are reported by E9011; an audit bucket without Object Lock by E9012.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tapstack.lint.rules.s3_lifecycle_transition_size import BREAK_EVEN_BYTES
from tests.guardrails.test_seed_mutations import Template, mutated, rule_ids, run_generator


def audit_bucket(template: Template) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"]["AuditBucket"]["Properties"]
    return properties


def test_the_old_glacier_after_90_days(tmp_path: Path) -> None:
    """No stated default minimum (so S3 kept every payload under 128 KB in Standard), and a transition
    that would lose money on the payloads it did move."""

    def glacier_after_90_days(template: Template) -> None:
        audit_bucket(template)["LifecycleConfiguration"] = {
            "Rules": [
                {
                    "Id": "ArchiveRawPayloads",
                    "Status": "Enabled",
                    "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 90}],
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 365},
                }
            ]
        }

    assert rule_ids(mutated(glacier_after_90_days), tmp_path) == Counter({"E9011": 2})


@pytest.mark.parametrize("bucket", ["AuditBucket", "AccessLogBucket"])
@pytest.mark.parametrize("default_minimum", [None, "varies_by_storage_class"])
def test_a_default_minimum_left_to_s3_or_letting_small_objects_into_glacier(
    tmp_path: Path, bucket: str, default_minimum: str | None
) -> None:
    def loosen(template: Template) -> None:
        lifecycle = template["Resources"][bucket]["Properties"]["LifecycleConfiguration"]
        if default_minimum is None:
            del lifecycle["TransitionDefaultMinimumObjectSize"]
        else:
            lifecycle["TransitionDefaultMinimumObjectSize"] = default_minimum

    assert rule_ids(mutated(loosen), tmp_path) == Counter({"E9011": 1})


@pytest.mark.parametrize("storage_class", sorted(BREAK_EVEN_BYTES))
def test_a_size_filter_below_the_break_even_is_reported_and_at_it_is_not(
    tmp_path: Path, storage_class: str
) -> None:
    """The guardrail prices each class rather than banning transitions: at the break-even size it passes."""

    def transition_above(size: int) -> Template:
        def add(template: Template) -> None:
            (rule,) = audit_bucket(template)["LifecycleConfiguration"]["Rules"]
            rule["ObjectSizeGreaterThan"] = str(size)
            rule["Transitions"] = [{"StorageClass": storage_class, "TransitionInDays": 180}]

        return mutated(add)

    break_even = BREAK_EVEN_BYTES[storage_class]
    assert rule_ids(transition_above(break_even - 1), tmp_path) == Counter({"E9011": 1})
    assert rule_ids(transition_above(break_even), tmp_path) == Counter()


def test_a_transition_to_a_class_without_a_price(tmp_path: Path) -> None:
    def intelligent_tiering(template: Template) -> None:
        (rule,) = audit_bucket(template)["LifecycleConfiguration"]["Rules"]
        rule["ObjectSizeGreaterThan"] = str(2**30)
        rule["NoncurrentVersionTransitions"] = [
            {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30}
        ]

    assert rule_ids(mutated(intelligent_tiering), tmp_path) == Counter({"E9011": 1})


def test_an_audit_bucket_without_object_lock(tmp_path: Path) -> None:
    def unlock(template: Template) -> None:
        del audit_bucket(template)["ObjectLockEnabled"]

    assert rule_ids(mutated(unlock), tmp_path) == Counter({"E9012": 1})


def test_an_audit_bucket_whose_versioning_is_suspended(tmp_path: Path) -> None:
    def suspend(template: Template) -> None:
        audit_bucket(template)["VersioningConfiguration"] = {"Status": "Suspended"}

    assert rule_ids(mutated(suspend), tmp_path) == Counter({"E9012": 1})


def test_the_generator_refuses_the_removed_glacier_setting(tmp_path: Path) -> None:
    generator = run_generator(tmp_path / "t.json", "--audit-glacier-transition-days", "90")
    assert generator.returncode == 2
    assert "--audit-glacier-transition-days" in generator.stderr
    assert not (tmp_path / "t.json").exists()
