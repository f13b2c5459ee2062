"""E9052: every resource that users or tests must reach is published by an output.

Seed failure prevented: seed 003 "Missing API Key ID in Stack Outputs": the API key existed, but no
output carried its id, so the integration tests had to fetch it with the AWS CLI and no other code could
use it. An output publishes a resource when its Value refers to it (Ref, Fn::GetAtt or a Fn::Sub
placeholder). E9050 then makes sure that output is exported under a suffixed name.
"""

from typing import ClassVar

from tapstack.lint.rules.helpers import (
    CloudFormationLintRule,
    RuleMatch,
    Template,
    referenced_names,
    resources,
    rule_match,
)

# Resources whose identifiers AWS generates: nobody can derive them from the names the template sets,
# so without an output a client or test has to go searching (what seed 003's tests had to do).
PUBLIC_TYPES: dict[str, str] = {
    "AWS::ApiGateway::RestApi": "its generated id (the API's URL is built from it)",
    "AWS::ApiGateway::ApiKey": "its generated id (clients fetch the key value with it)",
    "AWS::SecretsManager::Secret": "its ARN, which ends in a random suffix (operators fill the secret in)",
}


class OutputsPublished(CloudFormationLintRule):
    id = "E9052"
    shortdesc = "Resources users and tests must reach are published by an output"
    description = (
        "Every API, API key, table, bucket, topic, queue, function, key and secret is referenced by an output"
    )
    source_url = (
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html"
    )
    tags: ClassVar[list[str]] = ["outputs", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        outputs = cfn.template.get("Outputs", {})
        published: set[str] = set()
        if isinstance(outputs, dict):
            for output in outputs.values():
                if isinstance(output, dict):
                    published |= referenced_names(output.get("Value"))
        return [
            rule_match(
                resource.path,
                f"{resource.name} ({resource.type}) is not published by any output; users and tests need "
                f"{PUBLIC_TYPES[resource.type]}: add an output whose Value refers to it (Ref or Fn::GetAtt), "
                "exported under a suffixed name",
            )
            for resource in resources(cfn, *PUBLIC_TYPES)
            if resource.name not in published
        ]
