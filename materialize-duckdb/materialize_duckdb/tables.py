"""The table a binding materializes into: its columns, their types and the DDL to create them.

Columns are named after their fields. The document field, the publish-time field
and the staging columns `_flow_delete` and `_flow_replaces` claim their names first; any other field
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
REPLACES_COLUMN = "_flow_replaces"
"""Staged files mark here the rows whose key may already be in the table (`exists` or
`delete`); a row without the mark is new, so no existing row needs deleting for it."""
DEFAULT_UUID_PTR = "/_meta/uuid"
DOCUMENT_COMPRESSION = "zstd"
"""Whole documents are long JSON texts: zstd stores them in less than half the space of
DuckDB's default string compression, and writes them in about half the time. Set on
DuckDB files only; DuckLake writes Parquet and MotherDuck chooses for itself."""


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

    compression: str | None = None
    """A storage compression DuckDB must use for the column (`USING COMPRESSION`)."""

    def definition(self, *, nullable: bool = False) -> str:
        using = f" USING COMPRESSION {self.compression}" if self.compression else ""
        not_null = " NOT NULL" if self.type.not_null and not nullable else ""
        return f"{self.ident} {self.type.sql}{using}{not_null}"


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
    local = config.ducklake is None and not config.is_motherduck
    uuid_ptr = binding.collection.uuid_ptr or DEFAULT_UUID_PTR
    document = next((f for f in binding.fields if f.role is FieldRole.DOCUMENT), None)
    publish_time = next(
        (f for f in binding.fields if f.role is FieldRole.VALUE and f.ptr == uuid_ptr), None
    )
    owners = [f for f in (document, publish_time) if f is not None]
    taken = {fold(DELETE_COLUMN), fold(REPLACES_COLUMN)} | {fold(f.field) for f in owners}
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
            compression=DOCUMENT_COMPRESSION if field is document and local else None,
        )

    return TableShape(
        schema=binding.resource.schema_name(config),
        table=binding.resource.table,
        delta_updates=binding.delta_updates,
        keys=tuple(column(f) for f in binding.fields if f.role is FieldRole.KEY),
        values=tuple(column(f) for f in binding.fields if f.role is FieldRole.VALUE),
        document=column(document) if document is not None else None,
    )
