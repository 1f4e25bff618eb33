"""Validate: a constraint for every projection of every binding, checked against existing tables."""

from __future__ import annotations

from connector_kit.protocol.flow import CollectionSpec, Projection
from connector_kit.protocol.materialize import Constraint, ConstraintType
from materialize_duckdb.column_types import can_hold, type_of_inference, widened
from materialize_duckdb.database import ExistingColumn
from materialize_duckdb.identifiers import fold
from materialize_duckdb.tables import DEFAULT_UUID_PTR

DOCUMENT_FIELD = "flow_document"


def constraints(
    collection: CollectionSpec,
    *,
    delta_updates: bool,
    existing: dict[str, ExistingColumn] | None,
) -> dict[str, Constraint]:
    documents = [p for p in collection.projections if p.ptr == ""]
    document = next((p for p in documents if p.field == DOCUMENT_FIELD), None) or next(
        iter(documents), None
    )
    keys = set(collection.key)
    result = {}
    for projection in collection.projections:
        if projection.ptr == "":
            result[projection.field] = _document_constraint(
                is_chosen=projection is document, delta_updates=delta_updates
            )
        else:
            result[projection.field] = _field_constraint(
                projection,
                is_key=projection.ptr in keys or bool(projection.is_primary_key),
                is_publish_time=projection.ptr == (collection.uuid_ptr or DEFAULT_UUID_PTR),
                existing=existing,
            )
    return result


def _document_constraint(*, is_chosen: bool, delta_updates: bool) -> Constraint:
    if not is_chosen:
        return Constraint(
            type=ConstraintType.FIELD_FORBIDDEN,
            reason="only one projection of the whole document can be materialized",
        )
    if delta_updates:
        return Constraint(
            type=ConstraintType.FIELD_OPTIONAL,
            reason="delta updates may store the whole document, but need not",
        )
    return Constraint(
        type=ConstraintType.FIELD_REQUIRED,
        reason="standard updates load and store the whole document",
    )


def _field_constraint(
    projection: Projection,
    *,
    is_key: bool,
    is_publish_time: bool,
    existing: dict[str, ExistingColumn] | None,
) -> Constraint:
    inference = projection.inference
    types = set(inference.types) - {"null"} if inference is not None else set()
    if not types:
        return Constraint(
            type=ConstraintType.FIELD_FORBIDDEN,
            reason="the field has no type other than null, so it has no column type",
        )
    assert inference is not None
    wanted = type_of_inference(inference, is_key=is_key)
    column = (existing or {}).get(fold(projection.field))
    if (
        column is not None
        and not can_hold(column.type, wanted)
        and not widened(column.type, wanted)
    ):
        return Constraint(
            type=ConstraintType.INCOMPATIBLE,
            reason=(
                f"column {column.name!r} is {column.type}, which cannot hold the field's new "
                f"type {wanted}; raise the binding's backfill counter to rebuild the table, or "
                "drop the table (or the column) so apply can create it again"
            ),
        )
    if is_key:
        return Constraint(
            type=ConstraintType.FIELD_REQUIRED, reason="collection keys identify each row"
        )
    if is_publish_time:
        return Constraint(
            type=ConstraintType.LOCATION_RECOMMENDED,
            reason="the time each document was published",
        )
    if len(projection.ptr.split("/")) == 2 and types <= {"integer", "number", "boolean", "string"}:
        return Constraint(
            type=ConstraintType.LOCATION_RECOMMENDED, reason="a top-level scalar field"
        )
    return Constraint(type=ConstraintType.FIELD_OPTIONAL, reason="may be materialized")
