"""One opened session: Load by joining keys to the table, Store to Parquet, commit atomically.

At commit one DuckDB transaction, per binding with staged rows: deletes the
current rows of every staged key that the runtime marked `exists` or `delete`
(standard updates; Flow's runtime loads or has stored every key it marks so, and
marks no other key that is in the table), inserts the staged rows
(all of them for delta updates; without deleted documents under `hardDelete`),
checks the inserted row count, and finally moves the fenced checkpoint row. Staged
files are removed once the transaction has committed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from connector_kit.errors import ConnectorError
from connector_kit.materialize import FaultPoints, FieldRole, StoreBatch
from connector_kit.protocol.base import JsonValue
from connector_kit.tuple import TupleValue
from materialize_duckdb.checkpoints import Fence, commit_checkpoint
from materialize_duckdb.database import checkpoint, configure, connect
from materialize_duckdb.identifiers import quote_identifier, sql_string
from materialize_duckdb.models import EndpointConfig
from materialize_duckdb.staging import (
    UUID_TIME_MACRO,
    StagedColumn,
    StagedFile,
    stage_batch,
    text_column,
)
from materialize_duckdb.tables import DELETE_COLUMN, REPLACES_COLUMN, TableShape

log = logging.getLogger(__name__)

LOAD_KEYS_VIEW = "flow_load_keys"


@dataclass(frozen=True, kw_only=True)
class BoundTable:
    shape: TableShape
    columns: tuple[StagedColumn, ...]

    @property
    def keys(self) -> tuple[StagedColumn, ...]:
        return tuple(c for c in self.columns if c.column.field.role is FieldRole.KEY)

    @property
    def document(self) -> StagedColumn | None:
        return next((c for c in self.columns if c.column.field.role is FieldRole.DOCUMENT), None)


class DuckDBTransactor:
    def __init__(
        self,
        *,
        config: EndpointConfig,
        tables: Sequence[BoundTable],
        fence: Fence,
        staging_dir: Path,
        faults: FaultPoints,
    ) -> None:
        self._config = config
        self._tables = tables
        self._fence = fence
        self._staging_dir = staging_dir
        self._faults = faults
        self._staging = duckdb.connect()
        configure(self._staging, memory_limit=config.memory_limit)
        self._staging.execute(UUID_TIME_MACRO)
        self._destination: duckdb.DuckDBPyConnection | None = None
        self._staged: list[list[StagedFile]] = [[] for _ in tables]
        self._transaction = 0
        self._sequence = 0
        self._deleted_rows = False
        """Whether a commit of this session deleted rows, whose space only a vacuum frees."""

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._destination is None:
            self._destination = connect(self._config)
        return self._destination

    def _release(self) -> None:
        destination, self._destination = self._destination, None
        if destination is not None:
            destination.close()

    # --- load ------------------------------------------------------------------------

    def load(self, *, binding: int, keys: Sequence[tuple[TupleValue, ...]]) -> Iterable[str]:
        table = self._tables[binding]
        document = table.document
        if document is None:
            raise ConnectorError(
                f"binding {binding} ({table.shape.qualified}) selects no document field, so "
                "nothing can be loaded from it; select the document field or use delta updates"
            )
        key_columns = table.keys
        arrays = {
            f"k{i}": text_column([key[i] for key in keys], json=c.is_json)
            for i, c in enumerate(key_columns)
        }
        conditions = " AND ".join(
            f"t.{c.column.ident} IS NOT DISTINCT FROM {c.cast(f'k.k{i}')}"
            for i, c in enumerate(key_columns)
        )
        connection = self._connection()
        connection.register(LOAD_KEYS_VIEW, pa.table(arrays))
        try:
            rows = connection.execute(
                f"SELECT t.{document.column.ident} FROM {table.shape.qualified} AS t "  # noqa: S608 - identifiers are quoted
                f"JOIN {LOAD_KEYS_VIEW} AS k ON {conditions}"
            ).fetchall()
        finally:
            connection.unregister(LOAD_KEYS_VIEW)
        self._faults.reached("load.queried")
        log.debug(
            "loaded documents",
            extra={"fields": {"binding": binding, "keys": len(keys), "found": len(rows)}},
        )
        return [row[0] for row in rows]

    # --- store -----------------------------------------------------------------------

    def store(self, batch: StoreBatch) -> None:
        self._sequence += 1
        # A fenced-off instance may have removed the directory since Open; it is shared.
        self._staging_dir.mkdir(parents=True, exist_ok=True)
        staged = stage_batch(
            self._staging,
            tables=[t.columns for t in self._tables],
            batch=batch,
            path_for=self._staged_path,
        )
        for binding, file in enumerate(staged):
            if file is not None:
                self._staged[binding].append(file)

    def _staged_path(self, binding: int) -> Path:
        name = f"{self._fence.fence}-{self._transaction:06d}-b{binding}-{self._sequence:06d}"
        return self._staging_dir / f"{name}.parquet"

    # --- commit ----------------------------------------------------------------------

    def commit(self, *, runtime_checkpoint: JsonValue) -> None:
        connection = self._connection()
        connection.execute("BEGIN TRANSACTION")
        try:
            self._faults.reached("commit.begun")
            for binding, files in enumerate(self._staged):
                if files:
                    self._apply(connection, self._tables[binding], files)
            commit_checkpoint(
                connection,
                schema=self._config.schema_,
                fence=self._fence,
                checkpoint=runtime_checkpoint,
            )
            self._faults.reached("commit.checkpointed")
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                connection.execute("ROLLBACK")
            self._release()
            raise
        self._faults.reached("commit.committed")
        self._release()
        self._remove_staged()
        self._faults.reached("commit.cleaned")
        self._transaction += 1

    def _apply(
        self, connection: duckdb.DuckDBPyConnection, table: BoundTable, files: list[StagedFile]
    ) -> None:
        shape = table.shape
        source = "read_parquet([" + ", ".join(sql_string(str(f.path)) for f in files) + "])"
        rows = sum(f.rows for f in files)
        deletes = sum(f.deletes for f in files)
        skip_deleted = not shape.delta_updates and self._config.hard_delete
        if not shape.delta_updates:
            # Only rows the runtime says exist (or deletes) can meet a row already stored:
            # a key it neither loaded nor stored before is new to the table.
            if sum(f.replaces for f in files):
                keys = ", ".join(
                    f"{c.from_stage(c.column.ident)} AS {c.column.ident}" for c in table.keys
                )
                matches = " AND ".join(
                    f"t.{c.column.ident} IS NOT DISTINCT FROM s.{c.column.ident}"
                    for c in table.keys
                )
                deleted = connection.execute(
                    f"DELETE FROM {shape.qualified} AS t USING "  # noqa: S608 - identifiers are quoted
                    f"(SELECT DISTINCT {keys} FROM {source} "
                    f"WHERE {quote_identifier(REPLACES_COLUMN)}) AS s WHERE {matches}"
                ).fetchall()
                self._deleted_rows = self._deleted_rows or bool(deleted and deleted[0][0])
            self._faults.reached("commit.deleted")
        names = ", ".join(c.column.ident for c in table.columns)
        values = ", ".join(c.from_stage(c.column.ident) for c in table.columns)
        where = f" WHERE NOT {quote_identifier(DELETE_COLUMN)}" if skip_deleted else ""
        result = connection.execute(
            f"INSERT INTO {shape.qualified} ({names}) SELECT {values} FROM {source}{where}"  # noqa: S608 - identifiers are quoted
        ).fetchall()
        inserted = int(result[0][0]) if result else 0
        expected = rows - deletes if skip_deleted else rows
        if inserted != expected:
            raise ConnectorError(
                f"{shape.qualified}: inserted {inserted} rows but {expected} were staged; "
                "the transaction was rolled back and nothing of it was committed"
            )
        self._faults.reached("commit.inserted")
        log.info(
            "committed binding",
            extra={"fields": {"table": shape.qualified, "rows": rows, "deletes": deletes}},
        )

    def _remove_staged(self) -> None:
        for files in self._staged:
            for staged in files:
                staged.path.unlink(missing_ok=True)
            files.clear()

    def close(self) -> None:
        self._release()
        self._staging.close()
        self._remove_staged()
        checkpoint(self._config, vacuum=self._deleted_rows)
