"""The table a binding materializes into: its columns, their types and the DDL to create them.

Columns are named after their fields. The document field, the publish-time field
and the staging column `_flow_delete` claim their names first; any other field
whose name folds (case-insensitively) to a claimed name gets `_` appended until it
is unique, so `ID` and `id`, or a source field called `flow_document`, never meet.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector_kit.materialize import Binding, FieldRole, SelectedField
from materialize_duckdb.column_types import ColumnType, column_type
from materialize_duckdb.identifiers import fold, qualified_name, quote_identifier, unique_names
from materialize_duckdb.models import EndpointConfig, ResourceConfig

DELETE_COLUMN = "_flow_delete"
"""Staged Parquet files carry each row's `delete` flag here; tables never have it."""
DEFAULT_UUID_PTR = "/_meta/uuid"


@dataclass(frozen=True, kw_only=True)
class Column:
    name: str
    field: SelectedField
    type: ColumnType
    is_publish_time: bool = False
    """Projects the document UUID's timestamp (`flow_published_at`)."""

    @property
    def ident(self) -> str:
        return quote_identifier(self.name)

    def definition(self) -> str:
        return f"{self.ident} {self.type.sql}{' NOT NULL' if self.type.not_null else ''}"


@dataclass(frozen=True, kw_only=True)
class TableShape:
    schema: str
    table: str
    delta_updates: bool
    keys: tuple[Column, ...]
    values: tuple[Column, ...]
    document: Column | None

    @property
    def qualified(self) -> str:
        return qualified_name(self.schema, self.table)

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.keys + self.values + ((self.document,) if self.document else ())

    def create_table(self) -> str:
        columns = ",\n  ".join(c.definition() for c in self.columns)
        return f"CREATE TABLE {self.qualified} (\n  {columns}\n)"


def table_shape(binding: Binding[ResourceConfig], *, config: EndpointConfig) -> TableShape:
    uuid_ptr = binding.collection.uuid_ptr or DEFAULT_UUID_PTR
    document = next((f for f in binding.fields if f.role is FieldRole.DOCUMENT), None)
    publish_time = next(
        (f for f in binding.fields if f.role is FieldRole.VALUE and f.ptr == uuid_ptr), None
    )
    owners = [f for f in (document, publish_time) if f is not None]
    taken = {fold(DELETE_COLUMN)} | {fold(f.field) for f in owners}
    others = [
        f for f in binding.fields if f.role is not FieldRole.DOCUMENT and f is not publish_time
    ]
    names = dict(
        zip(
            (id(f) for f in others),
            unique_names([f.field for f in others], taken=taken),
            strict=False,
        )
    )

    def column(field: SelectedField) -> Column:
        name = field.field if any(field is o for o in owners) else names[id(field)]
        return Column(
            name=name,
            field=field,
            type=column_type(field),
            is_publish_time=field is publish_time,
        )

    return TableShape(
        schema=binding.resource.schema_name(config),
        table=binding.resource.table,
        delta_updates=binding.delta_updates,
        keys=tuple(column(f) for f in binding.fields if f.role is FieldRole.KEY),
        values=tuple(column(f) for f in binding.fields if f.role is FieldRole.VALUE),
        document=column(document) if document is not None else None,
    )
