"""The compiled schema predicate agrees with jsonschema, and declines what it cannot compile."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector_kit.runtime.schema_predicate import compile_predicate

FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
    {"type": ["string", "null"], "minLength": 2, "maxLength": 4, "pattern": "^a"},
    {"type": "number", "minimum": 0, "exclusiveMaximum": 10, "multipleOf": 0.5},
    {"type": "integer", "multipleOf": 3},
    {"enum": [1, "a", None, True, [1, 2], {"k": 1}]},
    {"const": {"a": [1, {"b": False}]}},
    {"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 3},
    {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": False,
        "minProperties": 1,
    },
    {"propertyNames": {"maxLength": 2}},
    {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 5}]},
    {"oneOf": [{"type": "number"}, {"type": "integer"}]},
    {"allOf": [{"type": "object"}, {"required": ["a"]}], "not": {"required": ["b"]}},
    {
        "if": {"properties": {"op": {"const": "d"}}},
        "then": {"required": ["id"]},
        "else": {"required": ["name"]},
    },
    {
        "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
        "$ref": "#/$defs/node",
    },
    {"type": "string", "format": "email"},
    {"type": "string", "format": "date"},
    True,
    False,
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-20, 20)
    | st.floats(-20, 20, allow_nan=False)
    | st.sampled_from(["a", "ab", "abc", "x-1", "op", "d", "b@c", "2024-01-01", "", "aaaaa"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["a", "b", "id", "name", "op", "next", "x-1", "k", "long"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
@settings(max_examples=150, deadline=None)
@given(value=json_values)
def test_compiled_predicate_agrees_with_jsonschema(schema: Any, value: Any) -> None:
    predicate = compile_predicate(schema, format_check=FORMATS.conforms)
    assert predicate is not None
    expected = jsonschema.Draft202012Validator(schema, format_checker=FORMATS).is_valid(value)
    assert predicate(value) == expected


def test_booleans_are_not_numbers_and_integral_floats_are_integers() -> None:
    integer = compile_predicate({"type": "integer"})
    assert integer is not None
    assert integer(1.0)
    assert not integer(True)
    assert not integer(1.5)
    enum = compile_predicate({"enum": [1]})
    assert enum is not None
    assert enum(1.0)
    assert not enum(True)


@pytest.mark.parametrize(
    "schema",
    [
        {"uniqueItems": True},
        {"prefixItems": [{"type": "string"}]},
        {"$ref": "other.schema.yaml#/x"},
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "string"},
        {"$schema": "http://json-schema.org/draft-07/schema#", "$ref": "#/definitions/a"},
        {"items": [{"type": "string"}]},
        {"dependentRequired": {"a": ["b"]}},
        {"properties": {"a": {"$id": "https://example.com/a", "type": "string"}}},
    ],
)
def test_schemas_it_cannot_compile_are_left_to_jsonschema(schema: dict[str, Any]) -> None:
    assert compile_predicate(schema) is None


def test_unknown_keywords_and_annotations_do_not_constrain() -> None:
    predicate = compile_predicate(
        {"type": "object", "reduce": {"strategy": "merge"}, "x-infer-schema": True, "title": "t"}
    )
    assert predicate is not None
    assert predicate({"anything": 1})
