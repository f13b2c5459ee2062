"""The template model (tapstack.cfn.model): reading, references, Fn::Sub, and resolving intrinsics."""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tapstack import paths
from tapstack.cfn.model import (
    NO_VALUE,
    Resolver,
    Template,
    TemplateError,
    UnresolvableError,
    get_att_parts,
    logical_id_of,
    read_template,
    references,
    replace_sub_variables,
    sub_parts,
    sub_variables,
    walk,
)
from templates.contract import SUFFIX_PARAMETER
from tests.support.settings import PREFIX

ROOT = paths.REPOSITORY

CONDITIONAL = Template(
    {
        "Parameters": {
            "Stage": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
            "Reserved": {"Type": "Number", "Default": 0},
            "Domain": {"Type": "String"},
        },
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "Reserves": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Reserved"}, 0]}]},
            "ProdAndReserves": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "Reserves"}]},
            "ProdOrReserves": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "Reserves"}]},
        },
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "ReservedConcurrentExecutions": {
                        "Fn::If": [
                            "ProdAndReserves",
                            {"Ref": "Reserved"},
                            {"Fn::If": ["ProdOrReserves", 1, {"Ref": "AWS::NoValue"}]},
                        ]
                    }
                },
            },
        },
    }
)
RESERVED = CONDITIONAL.resources["Function"].properties["ReservedConcurrentExecutions"]


def test_read_template_reads_a_json_object_and_refuses_anything_else(tmp_path: Path) -> None:
    committed = read_template(ROOT / "output" / "TapStack.json")
    assert "Resources" in committed
    not_an_object = tmp_path / "list.json"
    not_an_object.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(TemplateError, match="not a JSON object"):
        read_template(not_an_object)
    not_json = tmp_path / "broken.json"
    not_json.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="Expecting"):
        read_template(not_json)


def test_walk_visits_every_node_once() -> None:
    node = {"A": [1, {"B": "x"}], "C": None}
    assert list(walk(node)) == [node, [1, {"B": "x"}], 1, {"B": "x"}, "x", None]


def test_sub_variables_skip_the_literal_escape_and_list_each_name_once() -> None:
    text = "${A}-${!Literal}-${B.Arn}-${A}-${AWS::Region}"
    assert sub_variables(text) == ["A", "B.Arn", "AWS::Region"]


def test_replace_sub_variables_keeps_escapes_and_what_it_has_no_value_for() -> None:
    text = "${A}/${!A}/${B}"
    assert replace_sub_variables(text, {"A": "x"}.get) == "x/${!A}/${B}"


@pytest.mark.parametrize(
    ("argument", "parts"),
    [
        ("a-${B}", ("a-${B}", {})),
        (["a-${B}", {"B": {"Ref": "C"}}], ("a-${B}", {"B": {"Ref": "C"}})),
        (["a-${B}"], None),
        ([{"Ref": "A"}, {}], None),
        (3, None),
    ],
)
def test_sub_parts(argument: object, parts: tuple[str, dict[str, Any]] | None) -> None:
    assert sub_parts(argument) == parts


@pytest.mark.parametrize(
    ("argument", "parts"),
    [
        (["Queue", "Arn"], ("Queue", "Arn")),
        ("Queue.Arn", ("Queue", "Arn")),
        ("Db.Endpoint.Address", ("Db", "Endpoint.Address")),
        (["Queue", {"Ref": "Attribute"}], ("Queue", {"Ref": "Attribute"})),
        ("Queue", None),
        (["Queue"], None),
    ],
)
def test_get_att_parts_read_both_forms(argument: object, parts: tuple[str, Any] | None) -> None:
    assert get_att_parts(argument) == parts


def test_references_follow_ref_getatt_both_forms_and_sub_minus_its_own_variables() -> None:
    node = {
        "List": [{"Ref": "Param"}, {"Fn::GetAtt": ["Queue", "Arn"]}, {"Fn::GetAtt": "Topic.TopicName"}],
        "Name": {"Fn::Sub": ["${Local}-${Table}-${!Escaped}-${AWS::Region}", {"Local": {"Ref": "Bucket"}}]},
    }
    assert references(node) == {"Param", "Queue", "Topic", "Table", "AWS::Region", "Bucket"}


def test_logical_id_of_a_ref_or_getatt_and_nothing_else() -> None:
    assert logical_id_of({"Ref": "Queue"}) == "Queue"
    assert logical_id_of({"Fn::GetAtt": ["Queue", "Arn"]}) == "Queue"
    assert logical_id_of({"Fn::GetAtt": "Queue.Arn"}) == "Queue"
    with pytest.raises(UnresolvableError, match="not a Ref or Fn::GetAtt"):
        logical_id_of("arn:aws:sqs:us-east-1:123456789012:queue")


def test_template_reads_a_minimal_or_odd_document_as_empty_sections() -> None:
    odd = Template(
        {
            "Description": 7,
            "Parameters": ["not", "a", "mapping"],
            "Outputs": {"Broken": "not a mapping", "Id": {"Value": {"Ref": "Queue"}}},
            "Resources": {
                "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"Fn::If": ["C", {}, {}]}},
                "Untyped": {"Properties": {}},
                "Text": "not a resource",
                "Topic": {"Type": "AWS::SNS::Topic", "DependsOn": "Queue"},
            },
        }
    )
    assert list(odd.resources) == ["Queue", "Topic"]
    assert odd.parameters == {}
    assert odd.conditions == {}
    assert list(odd.outputs) == ["Id"]
    assert odd.description is None
    assert odd.resources["Queue"].properties == {"Fn::If": ["C", {}, {}]}
    assert odd.resources["Topic"].properties == {}
    assert odd.resources["Topic"].depends_on() == {"Queue"}
    assert Template({}).resources == {}


def test_resources_of_type_keep_the_document_order() -> None:
    template = Template(
        {
            "Resources": {
                "B": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 1}},
                "A": {"Type": "AWS::SQS::Queue"},
                "T": {"Type": "AWS::SNS::Topic"},
            }
        }
    )
    assert [resource.logical_id for resource in template.resources_of_type("AWS::SQS::Queue")] == ["B", "A"]
    assert [resource.logical_id for resource in template.resources_of_type()] == ["B", "A", "T"]
    assert template.properties_of_type("AWS::SQS::Queue") == {"B": {"DelaySeconds": 1}, "A": {}}
    value = [{"Ref": "T"}, {"Fn::GetAtt": "B.Arn"}, {"Ref": "AWS::Region"}]
    assert template.referenced_resources(value) == ["B", "T"]
    assert template.referenced_resources(value, "AWS::SNS::Topic") == ["T"]


def test_physical_ids_come_from_the_outputs_that_give_a_ref() -> None:
    template = Template(
        {
            "Outputs": {
                "QueueUrl": {"Value": {"Ref": "Queue"}},
                "QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}},
                "TopicArn": {"Value": {"Ref": "Topic"}},
            }
        }
    )
    deployed = {"QueueUrl": "https://queue", "QueueArn": "arn:queue"}
    assert template.physical_ids_from_outputs(deployed) == {"Queue": "https://queue"}


def test_resolve_sub_renders_the_literal_escape_as_text() -> None:
    resolver = Resolver(parameters={"Name": "orders"})
    assert resolver.resolve({"Fn::Sub": "${Name}-${!Name}-${!Literal}"}) == "orders-${Name}-${Literal}"


def test_resolve_sub_with_local_variables_pseudo_parameters_and_attributes() -> None:
    resolver = CONDITIONAL.resolver(
        {"AWS::Region": "eu-west-1"},
        physical_ids={"Queue": "https://queue"},
        attributes={"Queue": {"Arn": "arn:queue", "QueueName": "orders"}},
    )
    value = {
        "Fn::Sub": [
            "${Url}|${Queue}|${Queue.QueueName}|${Stage}|${AWS::Region}",
            {"Url": {"Fn::Join": ["/", [{"Ref": "Queue"}, "x"]]}},
        ]
    }
    assert resolver.resolve(value) == "https://queue/x|https://queue|orders|dev|eu-west-1"


def test_resolve_getatt_in_both_forms_and_an_attribute_named_by_a_parameter() -> None:
    resolver = Resolver(parameters={"Which": "Arn"}, attributes={"Queue": {"Arn": "arn:queue"}})
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:queue"
    assert resolver.resolve({"Fn::GetAtt": "Queue.Arn"}) == "arn:queue"
    assert resolver.resolve({"Fn::GetAtt": ["Queue", {"Ref": "Which"}]}) == "arn:queue"


@pytest.mark.parametrize(
    ("parameters", "reserved"),
    [
        ({}, NO_VALUE),
        ({"Stage": "prod"}, 1),
        ({"Reserved": "5"}, 1),
        ({"Stage": "prod", "Reserved": "5"}, "5"),
    ],
)
def test_nested_if_follows_conditions_evaluated_from_the_parameters(
    parameters: dict[str, str], reserved: object
) -> None:
    assert CONDITIONAL.resolver(parameters).resolve(RESERVED) == reserved


def test_no_value_removes_entries_from_lists_and_mappings() -> None:
    resolver = CONDITIONAL.resolver()
    value = {"Keep": 1, "Drop": RESERVED, "List": [RESERVED, "kept", {"Ref": "AWS::NoValue"}]}
    assert resolver.resolve(value) == {"Keep": 1, "List": ["kept"]}


def test_select_picks_from_a_resolved_list() -> None:
    resolver = Resolver(parameters={"Index": "1"})
    assert resolver.resolve({"Fn::Select": [{"Ref": "Index"}, ["a", "b", "c"]]}) == "b"
    with pytest.raises(UnresolvableError, match=r"Fn::Select 3: not an index into a list of 3"):
        resolver.resolve({"Fn::Select": [3, ["a", "b", "c"]]})


def test_split_gives_the_parts_select_picks_from() -> None:
    resolver = Resolver(parameters={"Acl": "name|id|REGIONAL"})
    assert resolver.resolve({"Fn::Split": ["|", {"Ref": "Acl"}]}) == ["name", "id", "REGIONAL"]
    assert resolver.resolve({"Fn::Select": [0, {"Fn::Split": ["|", {"Ref": "Acl"}]}]}) == "name"
    with pytest.raises(UnresolvableError, match=r"Fn::Split: \['a'\] is not a string"):
        resolver.resolve({"Fn::Split": ["|", ["a"]]})


def test_a_list_parameter_given_as_text_is_its_trimmed_comma_separated_items() -> None:
    template = Template(
        {
            "Parameters": {
                "Cidrs": {"Type": "CommaDelimitedList", "Default": ""},
                "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"},
                "Name": {"Type": "String", "Default": "a,b"},
            }
        }
    )
    joined = {"Fn::Join": ["+", {"Ref": "Cidrs"}]}
    assert template.resolver().resolve({"Ref": "Cidrs"}) == [""]
    given = template.resolver({"Cidrs": "10.0.0.0/8, 192.0.2.0/24"})
    assert given.resolve(joined) == "10.0.0.0/8+192.0.2.0/24"
    assert template.resolver({"Cidrs": ["as", "given"]}).resolve(joined) == "as+given"
    assert template.resolver({"Subnets": "s-1,s-2"}).resolve({"Ref": "Subnets"}) == ["s-1", "s-2"]
    assert template.resolver().resolve({"Ref": "Name"}) == "a,b"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Ref": "Domain"}, "Ref Domain: no value given"),
        ({"Ref": "Queue"}, "Ref Queue: no value given"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, r"Fn::GetAtt Queue\.Arn: no value given for this attribute"),
        ({"Fn::Sub": "${Queue.Arn}"}, r"Fn::GetAtt Queue\.Arn"),
        ({"Fn::ImportValue": "shared"}, "Fn::ImportValue: this model does not evaluate it"),
        ({"Fn::If": ["Missing", 1, 2]}, "Condition 'Missing': the template declares no such condition"),
        ({"Fn::If": ["IsProd", 1]}, "Fn::If .*: expected a list of 3"),
        ({"Fn::Join": ["-", [{"Fn::GetAZs": ""}]]}, "Fn::GetAZs"),
        ({"Fn::Not": ["IsProd"]}, "Fn::Not: 'IsProd' is not a condition"),
    ],
)
def test_what_cannot_be_resolved_raises_naming_it(value: object, message: str) -> None:
    with pytest.raises(UnresolvableError, match=message):
        CONDITIONAL.resolver().resolve(value)


def test_the_committed_templates_conditions_follow_its_parameters() -> None:
    template = Template(json.loads((ROOT / "output" / "TapStack.json").read_text(encoding="utf-8")))
    defaults = template.resolver()
    assert not defaults.condition("ReceiverHasReservedConcurrency")
    reserving = template.resolver({"ReceiverReservedConcurrency": "10", SUFFIX_PARAMETER: "dev"})
    assert reserving.condition("ReceiverHasReservedConcurrency")
    function = template.resources["ReceiverFunction"].properties
    assert defaults.resolve(function["ReservedConcurrentExecutions"]) is NO_VALUE
    assert reserving.resolve(function["ReservedConcurrentExecutions"]) == "10"
    assert reserving.resolve(function["FunctionName"]) == f"{PREFIX}-receiver-dev"


# A Fn::Sub text as segments: literal text (no `$`, so it cannot start a placeholder), a variable
# `${Name}`, or an escaped `${!Name}`.
_NAMES = st.text(string.ascii_letters, min_size=1, max_size=6)
_SEGMENTS = st.lists(
    st.one_of(
        st.tuples(st.just("text"), st.text(st.characters(exclude_characters="$"), max_size=8)),
        st.tuples(st.just("variable"), _NAMES),
        st.tuples(st.just("escaped"), _NAMES),
    ),
    max_size=8,
)


@given(segments=_SEGMENTS, value=st.text(max_size=8))
def test_sub_resolves_variables_and_escapes_whatever_the_text(
    segments: list[tuple[str, str]], value: str
) -> None:
    text = "".join(
        {"text": part, "variable": "${" + part + "}", "escaped": "${!" + part + "}"}[kind]
        for kind, part in segments
    )
    expected = "".join(
        {"text": part, "variable": value, "escaped": "${" + part + "}"}[kind] for kind, part in segments
    )
    variables = [part for kind, part in segments if kind == "variable"]
    resolver = Resolver(parameters=dict.fromkeys(variables, value))
    assert resolver.resolve({"Fn::Sub": text}) == expected
    assert sub_variables(text) == list(dict.fromkeys(variables))
    assert references({"Fn::Sub": text}) == set(variables)
