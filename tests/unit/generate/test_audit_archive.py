"""The audit archive as S3 would run it: what the lifecycle does to each object the processor writes, and
the Object Lock retention each `AuditObjectLockMode` gives, read from the generated template with its
parameters resolved (defaults unless a test sets them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from handlers.core.receiving import MAX_BODY_BYTES
from tapstack.cfn import model
from tapstack.lint.rules.s3_lifecycle_transition_size import BREAK_EVEN_BYTES

Template = dict[str, Any]
BUCKETS = ("AuditBucket", "AccessLogBucket")
PAYLOAD_KEY = "raw/stripe/2026/11/23/evt_1/0123abcd.json"
# The processor archives the raw body as received; S3's lifecycle size filters compare the object's
# size, which is the body's length (metadata is not counted). Bodies are at most MAX_BODY_BYTES.
OBJECT_SIZES = (1, 2_000, 40 * 1024, MAX_BODY_BYTES)
# "Objects smaller than 128 KB": read as 128 x 1024 bytes (S3 does not say which KB it means).
DEFAULT_MINIMUM_TRANSITION_BYTES = 128 * 1024
# The classes that `varies_by_storage_class` lets objects under 128 KB into.
ARCHIVE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})
# The audit bucket's lifecycle before this archive was priced: "GLACIER after 90 days".
GLACIER_AFTER_90_DAYS: dict[str, Any] = {
    "Rules": [
        {
            "Id": "ArchiveRawPayloads",
            "Status": "Enabled",
            "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 90}],
            "NoncurrentVersionExpiration": {"NoncurrentDays": 365},
        }
    ]
}


@dataclass(frozen=True)
class Fate:
    """What a lifecycle configuration does to one object."""

    transitions: tuple[tuple[str, int], ...]  # (storage class, days), current or noncurrent
    expires_after_days: int | None
    noncurrent_expires_after_days: int | None


def fate(lifecycle: Mapping[str, Any], size: int, key: str) -> Fate:
    """The enabled rules whose filter takes the object, and what they do to it: a transition only where
    a size filter of the rule, or the configuration's default minimum size, lets the object move."""
    default_minimum = lifecycle.get("TransitionDefaultMinimumObjectSize", "all_storage_classes_128K")
    transitions: list[tuple[str, int]] = []
    expirations: list[int] = []
    noncurrent_expirations: list[int] = []
    for rule in lifecycle["Rules"]:
        larger_than, smaller_than = rule.get("ObjectSizeGreaterThan"), rule.get("ObjectSizeLessThan")
        if (
            rule["Status"] != "Enabled"
            or "TagFilters" in rule  # the processor writes no tags
            or not key.startswith(rule.get("Prefix", ""))
            or (larger_than is not None and size <= int(larger_than))
            or (smaller_than is not None and size >= int(smaller_than))
        ):
            continue
        has_size_filter = larger_than is not None or smaller_than is not None
        for transition in [*rule.get("Transitions", []), *rule.get("NoncurrentVersionTransitions", [])]:
            storage_class = transition["StorageClass"]
            small_objects_move = has_size_filter or (
                default_minimum == "varies_by_storage_class" and storage_class in ARCHIVE_CLASSES
            )
            if size >= DEFAULT_MINIMUM_TRANSITION_BYTES or small_objects_move:
                days = transition.get("TransitionInDays", transition.get("NoncurrentDays"))
                transitions.append((storage_class, int(days)))
        if "ExpirationInDays" in rule:
            expirations.append(int(rule["ExpirationInDays"]))
        if "NoncurrentVersionExpiration" in rule:
            noncurrent_expirations.append(int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"]))
    return Fate(
        tuple(sorted(transitions)),
        min(expirations, default=None),
        min(noncurrent_expirations, default=None),
    )


def bucket_property(template: Template, bucket: str, name: str, **parameters: str) -> Any:
    """A bucket's property as CloudFormation would set it with these parameter values (NO_VALUE: unset)."""
    document = model.Template(template)
    properties = document.resources[bucket].properties
    return document.resolver(parameters).resolve(properties.get(name, {"Ref": "AWS::NoValue"}))


@pytest.mark.parametrize("bucket", BUCKETS)
@pytest.mark.parametrize("size", OBJECT_SIZES)
def test_every_object_the_processor_writes_stays_in_standard_and_expires(
    template: Template, bucket: str, size: int
) -> None:
    lifecycle = bucket_property(template, bucket, "LifecycleConfiguration")
    assert lifecycle["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"
    assert fate(lifecycle, size, PAYLOAD_KEY) == Fate(
        transitions=(), expires_after_days=2557, noncurrent_expires_after_days=365
    )


def test_retention_follows_the_parameters(template: Template) -> None:
    for bucket in BUCKETS:
        lifecycle = bucket_property(
            template,
            bucket,
            "LifecycleConfiguration",
            AuditRetentionDays="30",
            AuditNoncurrentRetentionDays="7",
        )
        assert fate(lifecycle, MAX_BODY_BYTES, PAYLOAD_KEY) == Fate((), 30, 7)


@pytest.mark.parametrize("size", OBJECT_SIZES)
def test_glacier_after_90_days_moved_nothing_below_128_kb(size: int) -> None:
    """The lifecycle this replaces, read the same way: S3's default minimum kept every payload under
    128 KB in Standard; where a payload would move, it is not worth it (the test below)."""
    moved = (("GLACIER", 90),) if size >= DEFAULT_MINIMUM_TRANSITION_BYTES else ()
    assert fate(GLACIER_AFTER_90_DAYS, size, PAYLOAD_KEY) == Fate(moved, None, 365)
    varies = {**GLACIER_AFTER_90_DAYS, "TransitionDefaultMinimumObjectSize": "varies_by_storage_class"}
    assert fate(varies, size, PAYLOAD_KEY).transitions == (("GLACIER", 90),)


def test_no_storage_class_pays_back_its_transition_for_the_largest_payload() -> None:
    """Why nothing transitions: the smallest break-even size (E9011's prices) is above the largest body
    the receiver accepts. Raising MAX_BODY_BYTES past it makes tiering worth reconsidering."""
    assert min(BREAK_EVEN_BYTES.values()) > MAX_BODY_BYTES
    assert BREAK_EVEN_BYTES["GLACIER"] > 4 * MAX_BODY_BYTES


def test_object_lock_is_enabled_and_retains_only_when_a_mode_is_chosen(template: Template) -> None:
    assert bucket_property(template, "AuditBucket", "ObjectLockEnabled") is True
    assert bucket_property(template, "AuditBucket", "VersioningConfiguration") == {"Status": "Enabled"}
    lock = "ObjectLockConfiguration"
    assert bucket_property(template, "AuditBucket", lock) == {"ObjectLockEnabled": "Enabled"}
    for mode in ("GOVERNANCE", "COMPLIANCE"):
        assert bucket_property(template, "AuditBucket", lock, AuditObjectLockMode=mode) == {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": mode, "Days": 2557}},
        }
    shorter = bucket_property(
        template, "AuditBucket", lock, AuditObjectLockMode="GOVERNANCE", AuditObjectLockRetentionDays="90"
    )
    assert shorter["Rule"]["DefaultRetention"]["Days"] == "90"
    # Only the payloads are the evidence E9012 asks to lock; the access logs just expire with them.
    assert bucket_property(template, "AccessLogBucket", "ObjectLockEnabled") is model.NO_VALUE
