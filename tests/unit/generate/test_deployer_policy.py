"""output/deployer-policy.json: what CloudFormation's handlers need for every resource type of the
generated templates, what the commands call, scoped to the stack's names.

The resource types come from the committed templates; what each type's handlers call comes from its
CloudFormation registry schema (`handlers.*.permissions`, shipped with cfn-lint), an oracle
independent of the policy's own tables.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from tapstack import paths
from tapstack.cfn.model import read_template
from tapstack.generate import DEPLOYER_POLICY_NAME
from tapstack.generate.deployer_policy import (
    CALLS_FOR_THIS_STACK,
    LIFECYCLES,
    STAR_ONLY,
    render_deployer_policy,
    resource_types,
)
from templates.bootstrap import bootstrap_template_json
from templates.config import StackConfig
from templates.naming import names_of
from templates.stack import build_template, render
from tests.support.settings import PREFIX

POLICY_PATH = paths.TEMPLATE.with_name(DEPLOYER_POLICY_NAME)
TEMPLATE = read_template(paths.TEMPLATE)
BOOTSTRAP = json.loads(bootstrap_template_json(names_of(TEMPLATE)))
TYPES = sorted(resource_types(TEMPLATE, BOOTSTRAP))
# IAM's quota for the inline policies of one role, whitespace not counted.
ROLE_INLINE_POLICY_LIMIT = 10_240


def statements(policy: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        yield statement


def allowed(policy: dict[str, Any]) -> dict[str, list[str]]:
    """Each granted action and the resources it is granted on."""
    granted: dict[str, list[str]] = {}
    for statement in statements(policy):
        for action in statement["Action"]:
            granted.setdefault(action, []).extend(statement["Resource"])
    return granted


def registry_schema(resource_type: str) -> dict[str, Any]:
    return dict(PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema)


def handler_permissions(resource_type: str) -> dict[str, set[str]]:
    """What each handler lists and, as `tagging`, what the schema's tagging section lists: the calls
    CloudFormation makes to tag the resource at creation, retag it and read its tags."""
    schema = registry_schema(resource_type)
    handlers = {name: set(handler.get("permissions", [])) for name, handler in schema["handlers"].items()}
    return handlers | {"tagging": set(schema.get("tagging", {}).get("permissions", []))}


@pytest.fixture(scope="module")
def policy() -> dict[str, Any]:
    return dict(json.loads(POLICY_PATH.read_text(encoding="utf-8")))


def test_the_committed_policy_is_the_one_the_committed_template_gives(policy: dict[str, Any]) -> None:
    assert json.loads(render_deployer_policy(TEMPLATE)) == policy


@pytest.mark.parametrize("resource_type", TYPES)
def test_each_resource_type_can_be_created_updated_and_deleted(
    policy: dict[str, Any], resource_type: str
) -> None:
    lifecycle = LIFECYCLES[resource_type]
    granted = allowed(policy)
    registry = handler_permissions(resource_type)

    assert lifecycle.create, "creating it calls something"
    assert lifecycle.delete, "deleting it calls something"
    assert lifecycle.all() <= set(granted)
    # Deleting (and rolling back a create) needs all of the delete handler's permissions (those for the
    # kind of resource the stack uses, where the schema lists several kinds).
    assert registry["delete"] & CALLS_FOR_THIS_STACK.get(resource_type, registry["delete"]) <= set(
        lifecycle.delete
    )
    # Tagged at creation, retagged on update, its tags read: everything the tagging section lists.
    assert registry["tagging"] <= lifecycle.all()
    # Nothing invented: each action is one the type's handlers (or its tagging section) list.
    assert lifecycle.all() <= set().union(*registry.values())


def test_resource_star_is_only_for_actions_without_resource_level_permissions(policy: dict[str, Any]) -> None:
    starred = [statement for statement in statements(policy) if "*" in statement["Resource"]]
    scoped = [statement for statement in statements(policy) if "*" not in statement["Resource"]]

    assert [statement["Resource"] for statement in starred] == [["*"]]
    assert starred[0]["Sid"] == "ActionsWithoutResourceLevelPermissions"
    assert set(starred[0]["Action"]) <= STAR_ONLY
    # An action without resource types granted on an ARN would be granted nothing.
    assert not STAR_ONLY & {action for statement in scoped for action in statement["Action"]}


def test_the_commands_own_calls_are_granted_on_the_stacks_resources(policy: dict[str, Any]) -> None:
    granted = allowed(policy)

    # destroy: throttle, wait for running invocations, empty versions (past GOVERNANCE retention)
    for action in ("lambda:PutFunctionConcurrency", "lambda:GetFunctionConfiguration"):
        assert granted[action] == [f"arn:aws:lambda:*:*:function:{PREFIX}-*"]
    for action in ("s3:ListBucketVersions", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"):
        assert granted[action] == [f"arn:aws:s3:::{PREFIX}-*", f"arn:aws:s3:::{PREFIX}-*/*"]
    assert "s3:GetObjectRetention" in granted
    assert "s3:GetBucketObjectLockConfiguration" in granted
    # preflight
    assert "arn:aws:apigateway:*::/account" in granted["apigateway:GET"]
    assert "arn:aws:iam::*:role/*" in granted["iam:GetRole"]
    for action in ("sts:GetCallerIdentity", "lambda:GetAccountSettings"):
        assert granted[action] == ["*"]
    assert granted["lambda:GetFunctionConcurrency"] == [f"arn:aws:lambda:*:*:function:{PREFIX}-*"]
    assert granted["secretsmanager:GetSecretValue"] == [f"arn:aws:secretsmanager:*:*:secret:{PREFIX}/*"]
    # deploy: change sets on the stack, the artifact upload, roles passed to Lambda only
    assert granted["cloudformation:CreateChangeSet"] == [f"arn:aws:cloudformation:*:*:stack/{PREFIX}-*/*"]
    assert granted["s3:PutObject"] == [f"arn:aws:s3:::{PREFIX}-artifacts-*-*/*"]
    (pass_role,) = [s for s in statements(policy) if "iam:PassRole" in s["Action"]]
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["lambda.amazonaws.com", "scheduler.amazonaws.com"]}
    }


def test_the_names_come_from_the_template() -> None:
    acme = json.loads(render(build_template(StackConfig(name_prefix="acme"))))

    text = render_deployer_policy(acme)

    assert "tapstack" not in text
    assert "arn:aws:lambda:*:*:function:acme-*" in text
    assert "arn:aws:s3:::acme-artifacts-*-*/*" in text


def test_a_resource_type_without_listed_actions_is_refused() -> None:
    template = json.loads(json.dumps(TEMPLATE))
    template["Resources"]["Firewall"] = {"Type": "AWS::WAFv2::RuleGroup", "Properties": {}}

    with pytest.raises(ValueError, match=r"AWS::WAFv2::RuleGroup.*LIFECYCLES"):
        render_deployer_policy(template)


def test_the_policy_fits_a_roles_inline_policy(policy: dict[str, Any]) -> None:
    text = POLICY_PATH.read_text(encoding="utf-8")

    assert len("".join(text.split())) <= ROLE_INLINE_POLICY_LIMIT
    assert len({statement["Sid"] for statement in statements(policy)}) == len(policy["Statement"])


def test_the_web_acl_is_deployed_on_the_stacks_names_and_the_stage_it_protects(
    policy: dict[str, Any],
) -> None:
    granted = allowed(policy)

    assert f"arn:aws:wafv2:*:*:regional/webacl/{PREFIX}-*/*" in granted["wafv2:CreateWebACL"]
    assert f"arn:aws:wafv2:*:*:regional/ipset/{PREFIX}-*/*" in granted["wafv2:CreateIPSet"]
    # Disassociating is authorized on the protected stage, not on the web ACL.
    assert "arn:aws:apigateway:*::/restapis/*/stages/*" in granted["wafv2:DisassociateWebACL"]
    assert f"arn:aws:logs:*:*:log-group:aws-waf-logs-{PREFIX}-*" in granted["logs:CreateLogGroup"]
    # Log delivery writes the log group's resource policy; that action has no resource type.
    assert granted["logs:PutResourcePolicy"] == ["*"]
    # Nothing for the kinds of resource the stack does not associate a web ACL with.
    assert not [action for action in granted if action.split(":")[0] in ("amplify", "cognito-idp", "appsync")]
