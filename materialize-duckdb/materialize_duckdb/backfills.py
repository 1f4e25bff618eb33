"""`flow_backfills_v1`: the backfill counter each table was last built for.

A binding's `backfill` counter goes up when its user asks for it to be rebuilt; the
runtime then reads the collection again from its start. The table starts over with
it: Apply drops and re-creates a table whose counter went up (its action description
says so), and Validate judges that table as if it did not exist, since a column that
cannot hold a new type is no obstacle to a table about to be rebuilt.

A table with no counter recorded (created before this table existed) adopts the
binding's counter and keeps its rows: only a counter seen to go up drops a table,
because only then has the runtime begun to read the collection again.
"""

from __future__ import annotations

import duckdb

from materialize_duckdb.identifiers import qualified_name

BACKFILLS_TABLE = "flow_backfills_v1"


def backfills_table(schema: str) -> str:
    return qualified_name(schema, BACKFILLS_TABLE)


def create_backfills_table(schema: str) -> str:
    return (
        f"CREATE TABLE {backfills_table(schema)} (\n"
        "  table_name VARCHAR NOT NULL,\n"
        "  backfill BIGINT NOT NULL\n"
        ")"
    )


def recorded_backfills(
    connection: duckdb.DuckDBPyConnection, *, schema: str, exists: bool
) -> dict[str, int]:
    """Qualified table name → the backfill counter it was last built for."""
    if not exists:
        return {}
    rows = connection.execute(
        f"SELECT table_name, backfill FROM {backfills_table(schema)}"  # noqa: S608 - quoted
    ).fetchall()
    return {str(table): int(backfill) for table, backfill in rows}


def is_rebuilt(recorded: dict[str, int], *, table: str, backfill: int) -> bool:
    """Whether a binding's counter went up since its table was built."""
    previous = recorded.get(table)
    return previous is not None and backfill > previous


def record_backfill(
    connection: duckdb.DuckDBPyConnection, *, schema: str, table: str, backfill: int
) -> None:
    target = backfills_table(schema)
    connection.execute(f"DELETE FROM {target} WHERE table_name = ?", [table])  # noqa: S608
    connection.execute(f"INSERT INTO {target} VALUES (?, ?)", [table, backfill])  # noqa: S608
