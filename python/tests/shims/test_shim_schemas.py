"""Schema, key and row-id helpers the shims share."""

from __future__ import annotations

import jsonschema

from connector_kit.shims.rows import RowIds
from connector_kit.shims.schemas import (
    document_schema,
    pointer,
    secret_values,
    source_schema,
    with_bare_types_repaired,
    with_secret_marks,
)


def test_pointers_escape_tilde_before_slash() -> None:
    assert pointer(["a/b", "c~d", "~1"]) == "/a~1b/c~0d/~01"


def test_secret_values_are_found_through_nesting_and_one_of() -> None:
    schema = {
        "type": "object",
        "properties": {
            "auth": {
                "oneOf": [
                    {"properties": {"token": {"type": "string", "airbyte_secret": True}}},
                    {"properties": {"password": {"type": "string", "secret": True}}},
                ]
            },
            "keys": {"type": "array", "items": {"type": "string", "writeOnly": True}},
            "host": {"type": "string"},
        },
    }
    config = {"auth": {"token": "t-123456"}, "keys": ["k-111111", "k-222222"], "host": "h"}
    assert secret_values(schema, config) == {"t-123456", "k-111111", "k-222222"}
    marked = with_secret_marks(schema)
    assert marked["properties"]["auth"]["oneOf"][0]["properties"]["token"]["secret"] is True
    assert "secret" not in schema["properties"]["auth"]["oneOf"][0]["properties"]["token"]


def test_a_document_without_meta_op_is_never_a_deletion() -> None:
    schema = document_schema(
        {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
        keyed_by_row=False,
    )
    deletion = jsonschema.Draft202012Validator(schema["if"])
    assert not deletion.is_valid({"id": 1, "_meta": {"row_id": 3}}), "`then` (delete) skips it"
    assert not deletion.is_valid({"id": 1})
    assert deletion.is_valid({"_meta": {"op": "d"}})
    assert source_schema(schema) == {
        "type": "object",
        "properties": {"id": {"type": "integer"}},
        "required": ["id"],
    }


def test_bare_type_names_in_any_of_become_schemas() -> None:
    repaired = with_bare_types_repaired({"anyOf": [{"type": "string"}, "null"]})
    assert repaired == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    jsonschema.Draft202012Validator.check_schema(repaired)


def test_a_snapshot_deletes_rows_past_its_end_and_restarts_numbering() -> None:
    rows = RowIds.restore({"rowId": 0, "snapshotRows": 4}, snapshot=True)
    first, second = {"x": 1}, {"x": 2, "_meta": {"op": "u"}}
    rows.assign(first)
    rows.assign(second)
    assert first["_meta"] == {"row_id": 0}
    assert second["_meta"] == {"op": "u", "row_id": 1}
    assert rows.finish_snapshot() == [
        {"_meta": {"row_id": 2, "op": "d"}},
        {"_meta": {"row_id": 3, "op": "d"}},
    ]
    assert rows.state() == {"rowId": 0, "snapshotRows": 2}
