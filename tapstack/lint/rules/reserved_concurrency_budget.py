"""E9041: the template's reserved concurrency fits an account with the default quota.

Seed failure prevented: seed 003 "Lambda Reserved Concurrent Executions Exceeds Account Limits": three
functions reserving 100 each. With the default quota of 1,000 concurrent executions and the 100 that
Lambda keeps unreserved, at most 900 can be reserved by *all* functions of the account together; a
template that alone asks for more cannot deploy in a default account.

Each function counts with the largest amount it can reserve without deploy-time input: a literal on any
`Fn::If` side, or the Default of a referenced parameter. The total is compared with the rule option
`budget` (default 900), set through cfn-lint's rule configuration, for example
`cfn-lint -x E9041:budget=1900 ...` (`--configure-rule`) or `configure_rules: {E9041: {budget: 1900}}` in
`.cfnlintrc`, for an account with a raised quota. W9040 warns on each reservation on its own.
"""

from typing import Any, ClassVar

from tapstack.lint.rules.helpers import (
    CloudFormationLintRule,
    Reservation,
    RuleMatch,
    Template,
    reserved_concurrency,
    resources,
    rule_match,
)

# Default quota (1,000 concurrent executions per Region) minus the 100 Lambda keeps unreserved.
DEFAULT_BUDGET = 900


class ReservedConcurrencyBudget(CloudFormationLintRule):
    id = "E9041"
    shortdesc = "Total reserved concurrency fits the account budget"
    description = (
        "The sum of every function's largest ReservedConcurrentExecutions (literals in any Fn::If side and "
        "parameter Defaults) is at most the budget option (default 900 = 1,000 quota - 100 unreserved)"
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html"
    tags: ClassVar[list[str]] = ["resources", "lambda", "concurrency", "tapstack"]

    def __init__(self) -> None:
        super().__init__()
        # cfn-lint fills self.config from these defaults and -x/--configure-rule before match() runs.
        self.config_definition: dict[str, Any] = {
            "budget": {"default": DEFAULT_BUDGET, "type": "integer"},
        }

    def match(self, cfn: Template) -> list[RuleMatch]:
        budget = int(self.config["budget"])
        largest: dict[str, Reservation] = {}
        for function in resources(cfn, "AWS::Lambda::Function"):
            known = [reservation for reservation in reserved_concurrency(function, cfn) if reservation.amount]
            if known:
                largest[function.name] = max(known, key=lambda reservation: reservation.amount or 0)
        total = sum(reservation.amount or 0 for reservation in largest.values())
        if total <= budget:
            return []
        breakdown = ", ".join(f"{name} {reservation.amount:g}" for name, reservation in largest.items())
        return [
            rule_match(
                reservation.path,
                f"AWS::Lambda::Function {name}: the template reserves {total:g} concurrent executions in "
                f"total ({breakdown}), more than the {budget} an account can reserve (default quota 1,000 "
                "minus the 100 Lambda keeps unreserved), so the deploy fails; make reservations opt-in "
                "(parameter defaulting to 0 and !If [HasReservedConcurrency, !Ref ReservedConcurrency, "
                f"!Ref AWS::NoValue]) or, for a raised quota, configure -x {self.id}:budget=<quota - 100>",
            )
            for name, reservation in largest.items()
        ]
