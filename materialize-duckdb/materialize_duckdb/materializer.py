"""materialize-duckdb's hooks: validate against existing tables, apply DDL, open with a fence."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import duckdb

from connector_kit.errors import ConfigError
from connector_kit.materialize import (
    BindingToValidate,
    FaultPoints,
    Materialization,
    OpenedTransactor,
)
from connector_kit.protocol.flow import RangeSpec
from connector_kit.protocol.materialize import ValidatedBinding
from materialize_duckdb.backfills import (
    BACKFILLS_TABLE,
    create_backfills_table,
    is_rebuilt,
    record_backfill,
    recorded_backfills,
)
from materialize_duckdb.checkpoints import (
    CHECKPOINTS_TABLE,
    create_checkpoints_table,
    install_fence,
)
from materialize_duckdb.column_types import can_hold, widened
from materialize_duckdb.database import (
    connect,
    create_schema,
    existing_columns,
    fold_log,
    schema_exists,
    staging_root,
)
from materialize_duckdb.identifiers import fold, qualified_name, quote_identifier
from materialize_duckdb.models import EndpointConfig, ResourceConfig
from materialize_duckdb.staging import StagedColumn
from materialize_duckdb.tables import TableShape, table_shape
from materialize_duckdb.transactor import BoundTable, DuckDBTransactor
from materialize_duckdb.validation import constraints

log = logging.getLogger(__name__)


class DuckDBMaterializer:
    def validate(
        self, *, config: EndpointConfig, bindings: Sequence[BindingToValidate[ResourceConfig]]
    ) -> list[ValidatedBinding]:
        targets: dict[tuple[str, str], int] = {}
        connection = _inspect(config)
        try:
            recorded = _recorded_backfills(connection, config) if connection is not None else {}
            validated = []
            for binding in bindings:
                schema = binding.resource.schema_name(config)
                table = binding.resource.table
                target = (fold(schema), fold(table))
                if target in targets:
                    raise ConfigError(
                        f"bindings {targets[target]} and {binding.index} both materialize into "
                        f"table {schema}.{table} (names compare case-insensitively); give each "
                        "binding its own table"
                    )
                targets[target] = binding.index
                rebuilt = is_rebuilt(
                    recorded, table=qualified_name(schema, table), backfill=binding.backfill
                )
                existing = (
                    existing_columns(connection, schema=schema, table=table)
                    if connection is not None and not rebuilt
                    else None
                )
                validated.append(
                    ValidatedBinding(
                        constraints=constraints(
                            binding.collection,
                            delta_updates=binding.resource.delta_updates,
                            existing=existing,
                        ),
                        resource_path=[schema, table],
                        delta_updates=binding.resource.delta_updates,
                    )
                )
            return validated
        finally:
            if connection is not None:
                connection.close()

    def apply(
        self, *, config: EndpointConfig, materialization: Materialization[ResourceConfig]
    ) -> list[str]:
        shapes = [table_shape(b, config=config) for b in materialization.bindings]
        connection = connect(config)
        actions: list[str] = []
        try:
            connection.execute("BEGIN TRANSACTION")
            for schema in dict.fromkeys([config.schema_, *(s.schema for s in shapes)]):
                if not schema_exists(connection, schema):
                    actions.append(create_schema(schema))
                    connection.execute(actions[-1])
            if existing_columns(connection, schema=config.schema_, table=CHECKPOINTS_TABLE) is None:
                actions.append(create_checkpoints_table(config.schema_))
                connection.execute(actions[-1])
            recorded = _recorded_backfills(connection, config)
            if existing_columns(connection, schema=config.schema_, table=BACKFILLS_TABLE) is None:
                actions.append(create_backfills_table(config.schema_))
                connection.execute(actions[-1])
            for shape, binding in zip(shapes, materialization.bindings, strict=True):
                backfill = binding.spec.backfill
                exists = existing_columns(connection, schema=shape.schema, table=shape.table)
                if exists is not None and is_rebuilt(
                    recorded, table=shape.qualified, backfill=backfill
                ):
                    # The runtime reads the collection again from its start: so does the table.
                    actions.append(f"DROP TABLE {shape.qualified}")
                    connection.execute(actions[-1])
                for statement in _table_ddl(connection, shape):
                    actions.append(statement)
                    connection.execute(statement)
                if recorded.get(shape.qualified) != backfill:
                    record_backfill(
                        connection,
                        schema=config.schema_,
                        table=shape.qualified,
                        backfill=backfill,
                    )
            connection.execute("COMMIT")
            if actions:
                fold_log(connection, config)
        finally:
            connection.close()
        for action in actions:
            log.info("applied", extra={"fields": {"ddl": action}})
        return actions

    def open(
        self,
        *,
        config: EndpointConfig,
        materialization: Materialization[ResourceConfig],
        key_range: RangeSpec,
        faults: FaultPoints,
    ) -> OpenedTransactor:
        shapes = [table_shape(b, config=config) for b in materialization.bindings]
        connection = connect(config)
        try:
            tables = [_bind_table(connection, shape) for shape in shapes]
            if existing_columns(connection, schema=config.schema_, table=CHECKPOINTS_TABLE) is None:
                raise ConfigError(
                    f"the checkpoints table {config.schema_}.{CHECKPOINTS_TABLE} does not exist; "
                    "apply the materialization before opening it"
                )
            fence = install_fence(
                connection,
                schema=config.schema_,
                materialization=materialization.name,
                key_range=key_range,
            )
        finally:
            connection.close()
        faults.reached("open.fenced")
        staging_dir = _staging_dir(config, materialization.name, key_range)
        # Files left here were staged by a transaction that never committed, or whose
        # clean-up a crash cut short; the runtime replays the former, so none is needed.
        for stray in staging_dir.glob("*.parquet"):
            stray.unlink(missing_ok=True)
        staging_dir.mkdir(parents=True, exist_ok=True)
        log.info(
            "opened",
            extra={
                "fields": {
                    "materialization": materialization.name,
                    "fence": fence.fence,
                    "checkpoint": fence.checkpoint is not None,
                }
            },
        )
        transactor = DuckDBTransactor(
            config=config, tables=tables, fence=fence, staging_dir=staging_dir, faults=faults
        )
        return OpenedTransactor(transactor=transactor, runtime_checkpoint=fence.checkpoint)


def _recorded_backfills(
    connection: duckdb.DuckDBPyConnection, config: EndpointConfig
) -> dict[str, int]:
    exists = existing_columns(connection, schema=config.schema_, table=BACKFILLS_TABLE)
    return recorded_backfills(connection, schema=config.schema_, exists=exists is not None)


def _inspect(config: EndpointConfig) -> duckdb.DuckDBPyConnection | None:
    """A connection to look at existing tables, or None when the database file does not exist."""
    if config.ducklake is None and not config.is_motherduck and not Path(config.database).exists():
        return None
    return connect(config)


def _table_ddl(connection: duckdb.DuckDBPyConnection, shape: TableShape) -> list[str]:
    existing = existing_columns(connection, schema=shape.schema, table=shape.table)
    if existing is None:
        return [shape.create_table()]
    statements = []
    wanted = set()
    for column in shape.columns:
        wanted.add(fold(column.name))
        current = existing.get(fold(column.name))
        if current is None:
            # Added columns are nullable: the table's existing rows have no value for them.
            statements.append(
                f"ALTER TABLE {shape.qualified} ADD COLUMN {column.definition(nullable=True)}"
            )
            continue
        target = column.type.sql
        if not can_hold(current.type, target):
            to = widened(current.type, target)
            if to is None:
                raise ConfigError(
                    f"{shape.qualified}: column {current.name!r} is {current.type} and cannot "
                    f"hold field {column.field.field!r} of type {target}; raise the binding's "
                    "backfill counter to rebuild the table, or drop the table or the column so "
                    "it can be created again"
                )
            statements.append(
                f"ALTER TABLE {shape.qualified} ALTER COLUMN {column.ident} SET DATA TYPE {to}"
            )
        if current.not_null and not column.type.not_null:
            statements.append(
                f"ALTER TABLE {shape.qualified} ALTER COLUMN {column.ident} DROP NOT NULL"
            )
    for key, current in existing.items():
        if key not in wanted and current.not_null:
            # A column no longer materialized must not reject the rows we insert without it.
            statements.append(
                f"ALTER TABLE {shape.qualified} ALTER COLUMN "
                f"{quote_identifier(current.name)} DROP NOT NULL"
            )
    return statements


def _bind_table(connection: duckdb.DuckDBPyConnection, shape: TableShape) -> BoundTable:
    existing = existing_columns(connection, schema=shape.schema, table=shape.table)
    if existing is None:
        raise ConfigError(
            f"table {shape.schema}.{shape.table} does not exist; apply the materialization "
            "before opening it"
        )
    columns = []
    for column in shape.columns:
        current = existing.get(fold(column.name))
        if current is None:
            raise ConfigError(
                f"table {shape.schema}.{shape.table} has no column {column.name!r} for field "
                f"{column.field.field!r}; apply the materialization before opening it"
            )
        columns.append(StagedColumn(column=column, type=current.type))
    return BoundTable(shape=shape, columns=tuple(columns))


def _staging_dir(config: EndpointConfig, name: str, key_range: RangeSpec) -> Path:
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60]
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return staging_root(config) / (
        f"{readable}-{digest}-{key_range.key_begin:08x}-{key_range.key_end:08x}"
    )
