"""cfn-lint with the project's rules (tapstack/lint/rules/), run in this process.

The same as `cfn-lint --include-checks I --append-rules tapstack/lint/rules/ [-x RULE:key=value ...] --
TEMPLATE`: cfn-lint parses these arguments itself, so a rule option reaches the rule as it would from the
command line, and a template's Metadata (`cfn-lint: config: ignore_checks`) and a .cfnlintrc in the
working directory apply as they would there. In the process `tapstack lint` already runs, it starts no
interpreter of its own and imports cfn-lint once. A finding's advice is the page of its rule, unless its
message names the page about its property.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

from tapstack import paths
from tapstack.lint.findings import CannotLintError, Finding, Report

NAME: Final = "cfn-lint"
# What `--configure-rule` accepts, comma-separated: cfn-lint answers anything else with its usage text.
_RULE_SETTING: Final = re.compile(r"[^:,=]+:[^:,=]+=[^,]*")


class CfnLint:
    """cfn-lint and the project's rules; `rule_configuration` is cfn-lint's `--configure-rule` settings
    (`E9041:budget=1900`)."""

    name: ClassVar[str] = NAME
    tools: ClassVar[tuple[str, ...]] = (NAME,)
    title: ClassVar[str] = f"{NAME} with {paths.RULES.name}/"
    lints_resolved_copies: ClassVar[bool] = False

    def __init__(self, rule_configuration: Sequence[str] = ()) -> None:
        self.rule_configuration = tuple(rule_configuration)
        for setting in self.rule_configuration:
            if not all(_RULE_SETTING.fullmatch(part) for part in setting.split(",")):
                raise CannotLintError(
                    f"-x {setting}: a rule setting is RULE:key=value, e.g. -x E9041:budget=1900"
                )

    def _arguments(self, files: Sequence[Path]) -> list[str]:
        """cfn-lint's command-line arguments for `files`."""
        configure = [
            option for setting in self.rule_configuration for option in ("--configure-rule", setting)
        ]
        rules = ["--include-checks", "I", "--append-rules", str(paths.RULES)]
        return [*rules, *configure, "--", *(str(file) for file in files)]

    def lint(self, files: Sequence[Path]) -> Report:
        # cfn-lint costs about a second to import: only the commands that lint pay for it
        from cfnlint.config import ConfigMixIn  # noqa: PLC0415
        from cfnlint.runner import Runner  # noqa: PLC0415

        try:
            matches = list(Runner(ConfigMixIn(self._arguments(files))).run())
        except ValueError as error:  # a rule refusing its setting's value: `budget=abc`
            settings = " ".join(f"-x {setting}" for setting in self.rule_configuration) or "no rule settings"
            raise CannotLintError(f"cfn-lint cannot run with {settings}: {error}") from error
        found: dict[Path, list[Finding]] = {file: [] for file in files}
        by_name = {str(file): file for file in files}
        for match in matches:
            found[by_name[match.filename]].append(finding(match))
        return Report({file: sorted(findings) for file, findings in found.items()})


def finding(match: Any) -> Finding:
    """A cfn-lint Match as a Finding: the resource or section it is in, and the property path in it."""
    path = [str(part) for part in match.path or []]
    if len(path) >= 2 and path[0] in ("Resources", "Outputs", "Parameters", "Conditions"):
        resource, property_parts = f"{path[0]}.{path[1]}", path[2:]
        if property_parts[:1] == ["Properties"]:
            property_parts = property_parts[1:]
    else:
        resource, property_parts = "/".join(path) or "(template)", []
    return Finding(
        line=int(match.linenumber),
        tool=NAME,
        rule_id=match.rule.id,
        resource=resource,
        property_path=".".join(property_parts),
        message=match.message,
        # A rule covering several properties names each one's page in its message; else the rule's page.
        advice="" if "(see https://" in match.message else f"see {match.rule.source_url}",
    )
