"""E9011: S3 lifecycle transitions never move an object too small to pay for the move.

Found in this stack: "GLACIER after 90 days" on the audit bucket, whose payloads are at most 128 KiB and
mostly a few KB. Since September 2024 S3 does not transition objects smaller than 128 KB unless the
lifecycle configuration says otherwise (`TransitionDefaultMinimumObjectSize`, whose default is
`all_storage_classes_128K`; a rule's own `ObjectSizeGreaterThan`/`ObjectSizeLessThan` filter takes
precedence), so that rule moved no payload under 128 KB. Where it would have moved them
(`varies_by_storage_class`, or a size filter), every small object costs more in the colder class than in
S3 Standard: Glacier Flexible Retrieval and Deep Archive bill 40 KB of overhead per object (32 KB at
their rate, 8 KB at Standard's), Standard-IA, One Zone-IA and Glacier Instant Retrieval bill at least
128 KB per object, and each transition is a billed request.

Two requirements, on every `AWS::S3::Bucket` with a `LifecycleConfiguration`:
- it states `TransitionDefaultMinimumObjectSize: all_storage_classes_128K`, so that S3's default cannot
  change the behaviour and nothing under 128 KB moves without a rule saying so;
- each transition (`Transitions`, `Transition`, `NoncurrentVersionTransitions`,
  `NoncurrentVersionTransition`) is in a rule whose `ObjectSizeGreaterThan` is at least the break-even
  size of its storage class: the smallest object whose saving over S3 Standard, during the class's
  minimum storage duration (which S3 bills in any case), pays for its transition request. Smaller
  objects can only pay back if they stay longer, which depends on retention this rule cannot know.
  A storage class without a price below (S3 Intelligent-Tiering, whose saving depends on access) is
  reported as unpriced, as is a storage class or size that cannot be resolved.

Prices: US East (N. Virginia) list prices of https://aws.amazon.com/s3/pricing/, read on 2026-12-01 from
copies of the page's May 2026 list; per-object overhead from
https://docs.aws.amazon.com/AmazonS3/latest/userguide/archival-storage.html; docs/audit-archive.md shows the
arithmetic. A storage GB is 2^30 bytes and a month 30 days.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Final

from tapstack.lint.rules.helpers import (
    NO_VALUE,
    Branch,
    CloudFormationLintRule,
    Resource,
    RuleMatch,
    Template,
    elements,
    lookup,
    number_range,
    resources,
    rule_match,
    violations,
)

REQUIRED_DEFAULT_MINIMUM: Final = "all_storage_classes_128K"
TRANSITION_KEYS: Final = (
    "Transitions",
    "Transition",
    "NoncurrentVersionTransitions",
    "NoncurrentVersionTransition",
)
STANDARD_GB_MONTH: Final = 0.023  # S3 Standard, first 50 TB
GB: Final = 2**30
DAYS_PER_MONTH: Final = 30
LARGEST_OBJECT_BYTES: Final = 5 * 2**40  # S3's object size limit: the search bound


@dataclass(frozen=True)
class StorageClassPrice:
    """What keeping one object in a storage class costs, in US dollars."""

    gb_month: float
    transition: float  # one lifecycle transition request into the class
    minimum_days: int  # storage is billed for at least this long
    minimum_billable_bytes: int = 0  # a smaller object is billed as this size
    overhead_bytes: int = 0  # per object, billed at this class's rate (the archive index)
    standard_overhead_bytes: int = 0  # per object, billed at S3 Standard's rate (name and metadata)

    def monthly_saving(self, size: int) -> float:
        """What an object of `size` bytes costs less per month here than in S3 Standard (negative: more)."""
        billed_here = max(size, self.minimum_billable_bytes) + self.overhead_bytes
        cost_here = billed_here * self.gb_month + self.standard_overhead_bytes * STANDARD_GB_MONTH
        return (size * STANDARD_GB_MONTH - cost_here) / GB

    def pays_back(self, size: int) -> bool:
        return self.monthly_saving(size) * self.minimum_days / DAYS_PER_MONTH >= self.transition

    def break_even_bytes(self) -> int:
        """The smallest object that pays back its transition (the saving grows with the size)."""
        low, high = 0, LARGEST_OBJECT_BYTES
        while low < high:
            middle = (low + high) // 2
            if self.pays_back(middle):
                high = middle
            else:
                low = middle + 1
        return low


_MINIMUM_BILLABLE = 128 * 1024
PRICES: Final[dict[str, StorageClassPrice]] = {
    "STANDARD_IA": StorageClassPrice(0.0125, 0.01 / 1000, 30, minimum_billable_bytes=_MINIMUM_BILLABLE),
    "ONEZONE_IA": StorageClassPrice(0.01, 0.01 / 1000, 30, minimum_billable_bytes=_MINIMUM_BILLABLE),
    "GLACIER_IR": StorageClassPrice(0.004, 0.02 / 1000, 90, minimum_billable_bytes=_MINIMUM_BILLABLE),
    "GLACIER": StorageClassPrice(
        0.0036, 0.03 / 1000, 90, overhead_bytes=32 * 1024, standard_overhead_bytes=8 * 1024
    ),
    "DEEP_ARCHIVE": StorageClassPrice(
        0.00099, 0.05 / 1000, 180, overhead_bytes=32 * 1024, standard_overhead_bytes=8 * 1024
    ),
}
BREAK_EVEN_BYTES: Final = {storage_class: price.break_even_bytes() for storage_class, price in PRICES.items()}
BREAK_EVEN_TABLE: Final = ", ".join(
    f"{storage_class} {size}"
    for storage_class, size in sorted(BREAK_EVEN_BYTES.items(), key=lambda item: item[1])
)


def _smallest_object_moved(rule: Branch, cfn: Template) -> float | None:
    """The `ObjectSizeGreaterThan` a rule's objects exceed (0 without one), at its smallest over every
    `Fn::If` side and parameter value; None when a parameter without bounds or a function decides."""
    smallest: list[float] = []
    for branch in lookup(rule.value, rule.path, "ObjectSizeGreaterThan"):
        if branch.value is NO_VALUE:
            smallest.append(0)
            continue
        sizes = number_range(branch.value, cfn)
        if sizes is None or sizes.low is None:
            return None
        smallest.append(sizes.low)
    return min(smallest)


class S3LifecycleTransitionSize(CloudFormationLintRule):
    id = "E9011"
    shortdesc = "S3 lifecycle transitions move only objects large enough to pay for the move"
    description = (
        "Every LifecycleConfiguration states TransitionDefaultMinimumObjectSize all_storage_classes_128K, "
        "and every transition is in a rule whose ObjectSizeGreaterThan is at least its storage class's "
        "break-even size (per-object overhead, minimum billable size and transition request priced)"
    )
    source_url = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html"
    tags: ClassVar[list[str]] = ["resources", "s3", "lifecycle", "cost", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for bucket in resources(cfn, "AWS::S3::Bucket"):
            for lifecycle in bucket.lookup("LifecycleConfiguration"):
                if not isinstance(lifecycle.value, Mapping) or "Rules" not in lifecycle.value:
                    continue
                matches += self._default_minimum(bucket, lifecycle, cfn)
                for rule in elements(lookup(lifecycle.value, lifecycle.path, "Rules")):
                    if isinstance(rule.value, Mapping):
                        matches += self._transitions(bucket, rule, cfn)
        return matches

    def _default_minimum(self, bucket: Resource, lifecycle: Branch, cfn: Template) -> list[RuleMatch]:
        found = lookup(lifecycle.value, lifecycle.path, "TransitionDefaultMinimumObjectSize")
        return [
            rule_match(
                violation.path,
                f"{bucket.type} {bucket.name}: LifecycleConfiguration.TransitionDefaultMinimumObjectSize is "
                f"{violation.found}; state {REQUIRED_DEFAULT_MINIMUM} so that S3's default cannot decide "
                "what moves and no object under 128 KB is transitioned without a size filter (Glacier "
                "Flexible Retrieval and Deep Archive bill 40 KB of overhead per object)",
            )
            for violation in violations(found, cfn, lambda minimum: minimum == REQUIRED_DEFAULT_MINIMUM)
        ]

    def _transitions(self, bucket: Resource, rule: Branch, cfn: Template) -> list[RuleMatch]:
        rule_id = rule.value.get("Id", "without an Id")
        smallest = _smallest_object_moved(rule, cfn)
        size_filter = (
            "an ObjectSizeGreaterThan a parameter leaves unbounded"
            if smallest is None
            else f"ObjectSizeGreaterThan {smallest:g} (0 when not set)"
        )

        def pays_back(storage_class: object) -> bool:
            break_even = BREAK_EVEN_BYTES.get(str(storage_class))
            return break_even is not None and smallest is not None and smallest >= break_even

        return [
            rule_match(
                violation.path,
                f"{bucket.type} {bucket.name}: lifecycle rule {rule_id} ({key}) moves objects to "
                f"{violation.found} with {size_filter}; an object below the class's break-even size costs "
                "more there than in S3 Standard over the class's minimum storage duration, transition "
                f"request included (break-even bytes: {BREAK_EVEN_TABLE}; other classes are not priced); "
                "set ObjectSizeGreaterThan to at least the break-even size or remove the transition",
            )
            for key in TRANSITION_KEYS
            for transition in elements(lookup(rule.value, rule.path, key))
            if transition.value is not NO_VALUE
            # A transition without StorageClass is cfn-lint's schema check's to report.
            for violation in violations(
                lookup(transition.value, transition.path, "StorageClass"),
                cfn,
                lambda storage_class: storage_class is NO_VALUE or pays_back(storage_class),
            )
        ]
