"""Connections to the destination: a DuckDB file, MotherDuck or a DuckLake, one code path.

A connection is held only while it is needed (Open, one transaction's Load and
commit, Apply), because a DuckDB file admits one writing process at a time: holding
it across transactions would keep a newer instance from ever fencing this one off.
Closing one does not checkpoint the file; a session's end does (`checkpoint`).
Opening while another process holds the file waits, with backoff, for a bounded time.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from connector_kit.errors import ConfigError, ConnectorError
from materialize_duckdb.identifiers import fold, quote_identifier, sql_string
from materialize_duckdb.models import EndpointConfig

log = logging.getLogger(__name__)

LAKE_ALIAS = "flow_lake"
LOCK_WAIT_SECONDS = 60.0
_LOCK_MESSAGES = ("Could not set lock", "Conflicting lock")
_TYPE_NAMES = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ", "TIME WITH TIME ZONE": "TIMETZ"}


def connect(
    config: EndpointConfig, *, lock_wait: float = LOCK_WAIT_SECONDS
) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is the destination, in UTC."""
    deadline = time.monotonic() + lock_wait
    delay = 0.02
    while True:
        try:
            connection = _open(config)
            break
        except duckdb.IOException as err:
            if not any(m in str(err) for m in _LOCK_MESSAGES) or time.monotonic() > deadline:
                raise _connection_error(config, err) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        except duckdb.Error as err:
            raise _connection_error(config, err) from None
    configure(connection, memory_limit=config.memory_limit)
    return connection


def configure(connection: duckdb.DuckDBPyConnection, *, memory_limit: str) -> None:
    """Settings every connection of ours shares."""
    connection.execute("SET TimeZone = 'UTC'")
    # stdout belongs to the protocol (and is redirected to stderr); a progress bar is noise.
    connection.execute("SET enable_progress_bar = false")
    # Rows are keyed, so their order in a table carries no meaning; without it DuckDB
    # streams inserts instead of buffering whole row groups in order.
    connection.execute("SET preserve_insertion_order = false")
    try:
        connection.execute(f"SET memory_limit = {sql_string(memory_limit)}")
    except duckdb.Error as err:
        connection.close()
        raise ConfigError(
            f"`memoryLimit` {memory_limit!r} is not a DuckDB memory size: {err}"
        ) from None


def _open(config: EndpointConfig) -> duckdb.DuckDBPyConnection:
    if config.ducklake is not None:
        connection = duckdb.connect()
        try:
            connection.execute("INSTALL ducklake")
            connection.execute("LOAD ducklake")
        except duckdb.Error as err:
            connection.close()
            raise ConfigError(
                "DuckLake needs DuckDB's `ducklake` extension, which could not be installed or "
                f"loaded ({type(err).__name__}: {err}); install it where the connector runs "
                "(`INSTALL ducklake` with network access) or drop `ducklake` from the config"
            ) from None
        lake = config.ducklake
        connection.execute(
            f"ATTACH {sql_string('ducklake:' + lake.catalog)} AS {LAKE_ALIAS} "
            f"(DATA_PATH {sql_string(lake.data_path)})"
        )
        connection.execute(f"USE {LAKE_ALIAS}")
        return connection
    if config.is_motherduck:
        token = config.token.get_secret_value() if config.token is not None else ""
        return duckdb.connect(config.database, config={"motherduck_token": token})
    Path(config.database).parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(config.database)
    # A commit is durable once its write-ahead log is synced; large inserts already wrote
    # their rows into the file. Checkpointing at every close would rewrite the table's
    # newest row groups once per transaction, so it is left to DuckDB's WAL size threshold
    # and to `checkpoint` when a session ends.
    connection.execute("PRAGMA disable_checkpoint_on_shutdown")
    return connection


def checkpoint(config: EndpointConfig, *, vacuum: bool) -> None:
    """Fold the write-ahead log into a DuckDB file, unless another process holds the file.

    Without `vacuum`, row groups are left as the commits wrote them. A checkpoint's vacuum
    rewrites partly filled row groups into fewer full ones, and that is most of its cost
    after bulk inserts: each large transaction leaves a partial row group or two, and
    merging them means recompressing every row group they touch (2-3 s per million rows of
    documents). It is worth it once rows were deleted, which only a vacuum gives back."""
    if not _is_file(config):
        return
    try:
        connection = connect(config, lock_wait=0)
    except ConnectorError as err:
        log.info("database not checkpointed", extra={"fields": {"reason": str(err)}})
        return
    try:
        if not vacuum:
            connection.execute("SET max_vacuum_tasks = 0")
        fold_log(connection, config)
    finally:
        connection.close()


def fold_log(connection: duckdb.DuckDBPyConnection, config: EndpointConfig) -> None:
    """Checkpoint a DuckDB file, so that the file alone (say, a copy of it) holds every commit."""
    if _is_file(config):
        connection.execute("CHECKPOINT")


def _is_file(config: EndpointConfig) -> bool:
    return config.ducklake is None and not config.is_motherduck


def _connection_error(config: EndpointConfig, err: Exception) -> ConnectorError:
    where = (
        f"DuckLake catalog {config.ducklake.catalog!r}"
        if config.ducklake is not None
        else f"database {config.database!r}"
    )
    # DuckDB's message never carries the MotherDuck token; the secret mask covers logs anyway.
    return ConfigError(f"cannot open {where}: {type(err).__name__}: {err}")


def staging_root(config: EndpointConfig) -> Path:
    if config.staging_directory:
        return Path(config.staging_directory)
    if config.ducklake is None and not config.is_motherduck:
        return Path(config.database + ".flow-staging")
    return Path(tempfile.gettempdir()) / "materialize-duckdb-staging"


@dataclass(frozen=True)
class ExistingColumn:
    name: str
    type: str
    not_null: bool


def existing_columns(
    connection: duckdb.DuckDBPyConnection, *, schema: str, table: str
) -> dict[str, ExistingColumn] | None:
    """The columns of `schema.table` by folded name, or None if there is no such table."""
    rows = connection.execute(
        "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE database_name = current_database() AND lower(schema_name) = lower(?) "
        "AND lower(table_name) = lower(?) ORDER BY column_index",
        [schema, table],
    ).fetchall()
    if not rows:
        return None
    return {
        fold(name): ExistingColumn(
            name=name, type=_TYPE_NAMES.get(kind, kind), not_null=not nullable
        )
        for name, kind, nullable in rows
    }


def schema_exists(connection: duckdb.DuckDBPyConnection, schema: str) -> bool:
    row = connection.execute(
        "SELECT count(*) FROM duckdb_schemas() "
        "WHERE database_name = current_database() AND lower(schema_name) = lower(?)",
        [schema],
    ).fetchall()
    return bool(row and row[0][0])


def create_schema(schema: str) -> str:
    return f"CREATE SCHEMA {quote_identifier(schema)}"
