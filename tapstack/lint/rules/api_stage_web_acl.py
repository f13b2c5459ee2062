"""E9025: a public REST API stage has a WAF web ACL; a deploy-time switch may turn it off, not leave it off.

A signature protects a webhook's integrity, not the endpoint's availability: without a web ACL every
junk request to a public route invokes its function and spends the stage's shared throttle, so a flood
gets real deliveries refused with 429 (PCI DSS 6.4.2 asks for an automated attack filter in front of a
public payment endpoint; cdk-nag's APIG3 flags its absence). So an AWS::ApiGateway::Stage of a REST API
that is not PRIVATE needs an AWS::WAFv2::WebACLAssociation whose ResourceArn names it:
`arn:...:apigateway:<region>::/restapis/<RestApiId>/stages/<stage>`, compared as the Fn::Sub strings they
render to, with the stage as its StageName or `${<Stage>}` (a stage's Ref is its name).
The association may carry a Condition (a `WafEnabled` switch) that holds with the parameters' defaults;
one that does not, or that depends on a parameter without a default, leaves the stage open unless
someone remembers to turn it on.
"""

from typing import ClassVar

from tapstack.lint.rules.helpers import (
    CloudFormationLintRule,
    Resource,
    RuleMatch,
    Template,
    condition_by_default,
    referenced_names,
    resources,
    rule_match,
)

_STAGE_ARN_MARKER = "::/restapis/"


def _is_private(stage: Resource, apis: dict[str, Resource]) -> bool:
    """True when every RestApi the stage can belong to has only the PRIVATE endpoint type (in every Fn::If
    outcome); an API from outside the template, or one whose types a parameter decides, counts as public."""
    names = referenced_names([branch.value for branch in stage.lookup("RestApiId")])
    owners = [apis[name] for name in names if name in apis]
    return bool(owners) and all(
        branch.value == ["PRIVATE"]
        for api in owners
        for branch in api.lookup("EndpointConfiguration", "Types")
    )


def _stage_arn_tails(stage: Resource) -> set[str]:
    """How an association's ResourceArn ends when it names this stage."""
    stage_names = {*stage.string_forms("StageName"), "${" + stage.name + "}"}
    return {
        f"{_STAGE_ARN_MARKER}{api}/stages/{name}"
        for api in stage.string_forms("RestApiId")
        for name in stage_names
    }


class ApiStageWebAcl(CloudFormationLintRule):
    id = "E9025"
    shortdesc = "Public REST API stages have a WAF web ACL association"
    description = (
        "Every AWS::ApiGateway::Stage of a REST API that is not PRIVATE is named by the ResourceArn of an "
        "AWS::WAFv2::WebACLAssociation that exists with the parameters' defaults"
    )
    source_url = (
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-aws-waf.html"
    )
    tags: ClassVar[list[str]] = ["resources", "apigateway", "wafv2", "tapstack"]

    def match(self, cfn: Template) -> list[RuleMatch]:
        matches: list[RuleMatch] = []
        apis = {api.name: api for api in resources(cfn, "AWS::ApiGateway::RestApi")}
        associations = resources(cfn, "AWS::WAFv2::WebACLAssociation")
        for stage in resources(cfn, "AWS::ApiGateway::Stage"):
            if _is_private(stage, apis):
                continue
            tails = _stage_arn_tails(stage)
            naming = [
                association
                for association in associations
                if any(
                    form.endswith(tail) for form in association.string_forms("ResourceArn") for tail in tails
                )
            ]
            context = f"AWS::ApiGateway::Stage {stage.name} is public"
            if not naming:
                matches.append(
                    rule_match(
                        stage.path,
                        f"{context} and no AWS::WAFv2::WebACLAssociation names it: every request spends "
                        "the stage's throttle and invokes its function; associate a REGIONAL web ACL "
                        "(ResourceArn arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${Api}"
                        "/stages/${Stage})",
                    )
                )
                continue
            # A Condition may switch the web ACL off, as long as it is on with the parameters' defaults.
            conditions = {association.name: association.definition.get("Condition") for association in naming}
            on_by_default = {
                name: condition is None or condition_by_default(cfn, condition)
                for name, condition in conditions.items()
            }
            if any(holds is True for holds in on_by_default.values()):
                continue
            for association in naming:
                reading = "does not hold" if on_by_default[association.name] is False else "cannot be decided"
                matches.append(
                    rule_match(
                        (*association.path, "Condition"),
                        f"{context} and its web ACL association {association.name} exists only when "
                        f"condition {conditions[association.name]} holds, which {reading} with the "
                        "parameters' defaults: make the web ACL the default (a switch such as WafEnabled "
                        "defaulting to true)",
                    )
                )
        return matches
