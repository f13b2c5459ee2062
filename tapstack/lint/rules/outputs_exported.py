"""E9050: every output is exported under a name that carries the environment suffix.

Seed failures prevented: seed 003 "Missing API Key ID in Stack Outputs" (a value other stacks and the
integration tests needed was not published) and seed 000 "Integration Test Static Outputs Dependency"
(tests could only find resources through outputs files). Exported outputs can be read with
`Fn::ImportValue` and `aws cloudformation list-exports`; export names are unique per account and Region,
so without `${EnvironmentSuffix}` the second environment's stack fails with "Export ... already exported".
An export name carries the suffix when every string it can render to (Fn::Sub, Fn::Join, Fn::If sides)
contains a `Ref` to the parameter EnvironmentSuffix.
"""

from typing import ClassVar

from tapstack.lint.rules.helpers import (
    ENVIRONMENT_SUFFIX,
    NO_VALUE,
    CloudFormationLintRule,
    RuleMatch,
    Template,
    describe,
    includes_environment_suffix,
    lookup,
    rule_match,
    string_forms,
)

EXPORT_NAME_EXAMPLE = "Export: {Name: !Sub '${AWS::StackName}-<OutputName>-${EnvironmentSuffix}'}"


class OutputsExported(CloudFormationLintRule):
    id = "E9050"
    shortdesc = "Outputs are exported with the environment suffix in the export name"
    description = "Every output has Export.Name, and every form of that name contains ${EnvironmentSuffix}"
    source_url = (
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html"
    )
    tags: ClassVar[list[str]] = ["outputs", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        outputs = cfn.template.get("Outputs", {})
        if not isinstance(outputs, dict):
            return []
        matches: list[RuleMatch] = []
        for output_name, output in outputs.items():
            for branch in lookup(output, ("Outputs", output_name), "Export", "Name"):
                if branch.value is NO_VALUE:
                    matches.append(
                        rule_match(
                            branch.path,
                            f"Output {output_name}: no Export.Name, so other stacks and the tests cannot "
                            f"import it; add {EXPORT_NAME_EXAMPLE}",
                        )
                    )
                elif not includes_environment_suffix(branch.value, cfn, via_resources=False):
                    export_name = " or ".join(string_forms(branch.value)) or describe(branch.value)
                    matches.append(
                        rule_match(
                            branch.path,
                            f"Output {output_name}: Export.Name {export_name} does not contain "
                            f"${{{ENVIRONMENT_SUFFIX}}}, so a second environment's export collides (export "
                            f"names are unique per account and Region); use {EXPORT_NAME_EXAMPLE}",
                        )
                    )
        return matches
