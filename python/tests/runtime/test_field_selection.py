"""Projections of a collection schema and the field selection Flow's control plane would make."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connector_kit.errors import ConfigError
from connector_kit.protocol import flow
from connector_kit.protocol.materialize import Constraint, ConstraintType
from connector_kit.runtime.capture_spec import collection_spec
from connector_kit.runtime.catalog import Collection
from connector_kit.runtime.catalog_model import CollectionDef, FieldsDef
from connector_kit.runtime.field_selection import select_fields

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "updated": {"type": "string", "format": "date-time"},
        "address": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "geo": {"type": "object"}},
            "required": ["city"],
        },
        "tags": {"type": "array"},
        "_meta": {"type": "object", "properties": {"op": {"type": "string"}}, "required": ["op"]},
    },
    "required": ["id", "address", "_meta"],
}


def spec(schema: Any = SCHEMA, **extra: Any) -> flow.CollectionSpec:
    definition = CollectionDef.model_validate({"schema": schema, "key": ["/id"], **extra})
    return collection_spec(
        Collection(
            name="acmeCo/things",
            file=Path("flow.yaml"),
            spec=definition,
            write_schema=schema,
            read_schema=schema,
            schema_file=Path("flow.yaml"),
        )
    )


def constraints(
    collection: flow.CollectionSpec, **overrides: ConstraintType
) -> dict[str, Constraint]:
    """What a typical SQL materialization answers: keys and the document required."""
    found = {}
    for projection in collection.projections:
        if projection.ptr == "" or projection.is_primary_key:
            kind = ConstraintType.FIELD_REQUIRED
        else:
            kind = ConstraintType.FIELD_OPTIONAL
        found[projection.field] = Constraint(type=overrides.get(projection.field, kind), reason="r")
    return found


def selection(
    collection: flow.CollectionSpec, fields: dict[str, Any] | None = None, **overrides: Any
) -> flow.FieldSelection:
    return select_fields(
        collection=collection,
        fields=FieldsDef.model_validate(fields or {"recommended": True}),
        constraints=constraints(collection, **overrides),
        case_insensitive=False,
        where="materialization acmeCo/mat binding 0",
    )


def test_projections_cover_nested_fields_with_inferred_types_and_existence() -> None:
    projections = {p.field: p for p in spec().projections}
    assert set(projections) == {
        "id",
        "name",
        "updated",
        "address",
        "address/city",
        "address/geo",
        "tags",
        "_meta",
        "_meta/op",
        "flow_document",
        "flow_published_at",
    }
    city = projections["address/city"]
    assert city.ptr == "/address/city"
    assert city.inference is not None
    assert city.inference.exists == flow.Exists.MUST
    name, updated = projections["name"].inference, projections["updated"].inference
    assert name is not None
    assert updated is not None
    assert updated.string is not None
    assert name.types == ["null", "string"]
    assert name.exists == flow.Exists.MAY
    assert updated.string.format == "date-time"
    assert projections["id"].is_primary_key
    assert projections["flow_document"].ptr == ""


def test_recommended_selects_top_level_fields_metadata_and_leaf_objects() -> None:
    chosen = selection(spec())
    assert chosen.keys == ["id"]
    assert chosen.document == "flow_document"
    # Objects give way to their children (and with `recommended: true` an object without
    # projected children is left out too, as in Flow); `_meta` is not walked by depth,
    # but `_meta/op` and the publish time are core metadata.
    assert chosen.values == [
        "_meta/op",
        "address/city",
        "flow_published_at",
        "name",
        "tags",
        "updated",
    ]


def test_a_recommended_depth_of_one_selects_top_level_objects_whole() -> None:
    chosen = selection(spec(), {"recommended": 1})
    assert "address" in chosen.values
    assert "address/city" not in chosen.values


def test_a_numeric_depth_selects_objects_without_projected_children() -> None:
    chosen = selection(spec(), {"recommended": 2})
    assert "address/geo" in chosen.values


def test_recommended_false_selects_only_what_is_required() -> None:
    chosen = selection(spec(), {"recommended": False, "require": {"tags": {"width": 3}}})
    assert chosen.values == ["tags"]
    assert chosen.field_config == {"tags": {"width": 3}}


def test_exclude_removes_a_field_and_the_fields_beneath_it() -> None:
    chosen = selection(spec(), {"recommended": True, "exclude": ["address", "name"]})
    assert "name" not in chosen.values
    assert not any(v.startswith("address") for v in chosen.values)


def test_forbidden_fields_are_left_out_of_a_recommended_selection() -> None:
    chosen = selection(spec(), tags=ConstraintType.FIELD_FORBIDDEN)
    assert "tags" not in chosen.values


def test_a_field_the_connector_requires_but_the_user_excludes_is_a_conflict() -> None:
    with pytest.raises(ConfigError) as caught:
        selection(
            spec(), {"recommended": True, "exclude": ["name"]}, name=ConstraintType.FIELD_REQUIRED
        )
    assert str(caught.value).startswith("materialization acmeCo/mat binding 0: ")
    assert (
        "conflict for field 'name': field is required by the connector but field is excluded "
        "by the binding's `fields.exclude` (r)"
    ) in str(caught.value)


def test_an_incompatible_field_that_must_be_selected_is_a_conflict() -> None:
    with pytest.raises(ConfigError, match=r"conflict for field 'id'.*without a back-fill"):
        selection(spec(), id=ConstraintType.INCOMPATIBLE)


def test_a_required_field_the_collection_lacks_is_a_conflict() -> None:
    with pytest.raises(ConfigError, match=r"field 'nope'.*does not exist within the source"):
        selection(spec(), {"recommended": True, "require": {"nope": {}}})


def test_group_by_replaces_the_collection_key() -> None:
    chosen = selection(spec(), {"recommended": True, "groupBy": ["address/city"]})
    assert chosen.keys == ["address/city"]
    assert "address/city" not in chosen.values


def test_explicit_projections_and_partitions_are_selected() -> None:
    collection = spec(
        projections={"City": "/address/city", "kind": {"location": "/tags", "partition": True}}
    )
    chosen = selection(collection, {"recommended": 1})
    # `City` projects the same location as `address/city`; the explicit field is selected
    # and the location is not materialized twice.
    assert "City" in chosen.values
    assert "kind" in chosen.values


def test_locations_defined_through_refs_and_all_of_are_projected() -> None:
    schema = {
        "$defs": {"Fields": {"type": "object", "properties": {"updated": {"type": "string"}}}},
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "fields": {"$ref": "#/$defs/Fields", "required": ["updated"]},
            "both": {"allOf": [{"type": ["string", "null"]}, {"type": "string", "maxLength": 3}]},
        },
        "required": ["id", "fields"],
    }
    projections = {p.field: p for p in spec(schema).projections}
    updated, both = projections["fields/updated"].inference, projections["both"].inference
    assert updated is not None
    assert both is not None
    assert updated.types == ["string"]
    assert updated.exists == flow.Exists.MUST
    assert both.types == ["string"]
