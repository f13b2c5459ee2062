"""W9040: a Lambda function reserves concurrency by default.

Seed failures prevented: seed 003, 004 and 000: `ReservedConcurrentExecutions: 100` (on each of three
functions in seed 003) failed the deploy with "Specified ReservedConcurrentExecutions for function
decreases account's UnreservedConcurrentExecution below its minimum value of [100]" (or "[10]" in a new
account whose limit of 10 or 50 allows no reservation at all). Whether a reservation fits depends on the
account, not on the template, so any reservation the stack makes without being asked is a warning:
a literal (also on one side of an `Fn::If`), or a `Ref` to a parameter whose Default reserves.

Not reported, because it is the recommended shape: a parameter that defaults to 0 (or has no usable
default) used only on the side of an `Fn::If` whose other side is `AWS::NoValue`, so that by default the
property is dropped. A non-optional reservation of 0 is reported too: it throttles every invocation.
E9041 adds up the reservations against the account budget.
"""

from typing import ClassVar

from tapstack.lint.rules.helpers import (
    CloudFormationLintRule,
    Reservation,
    RuleMatch,
    Template,
    reserved_concurrency,
    resources,
    rule_match,
)

RECOMMENDATION = (
    "make it opt-in: a parameter ReservedConcurrency (Type Number, Default 0), a Condition "
    "HasReservedConcurrency: !Not [!Equals [!Ref ReservedConcurrency, 0]] and "
    "ReservedConcurrentExecutions: !If [HasReservedConcurrency, !Ref ReservedConcurrency, !Ref AWS::NoValue]"
)


def _is_opt_in(reservation: Reservation) -> bool:
    return reservation.parameter is not None and reservation.optional and not reservation.amount


class ReservedConcurrencyPresent(CloudFormationLintRule):
    id = "W9040"
    shortdesc = "Lambda functions do not reserve concurrency by default"
    description = (
        "Warns on a literal ReservedConcurrentExecutions (also inside Fn::If) or one taken from a "
        "parameter Default; reservations must be opt-in through a parameter defaulting to 0 and AWS::NoValue"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "concurrency", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        for function in resources(cfn, "AWS::Lambda::Function"):
            for reservation in reserved_concurrency(function, cfn):
                if _is_opt_in(reservation):
                    continue
                amount = "an unknown number of" if reservation.amount is None else f"{reservation.amount:g}"
                throttled = " (0 throttles every invocation)" if reservation.amount == 0 else ""
                matches.append(
                    rule_match(
                        reservation.path,
                        f"AWS::Lambda::Function {function.name}: ReservedConcurrentExecutions reserves "
                        f"{amount} concurrent executions from {reservation.origin}{throttled}; accounts must "
                        "keep 100 unreserved (new accounts cannot reserve any), so the deploy can fail; "
                        + RECOMMENDATION,
                    )
                )
        return matches
