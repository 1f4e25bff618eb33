"""`flow_checkpoints_v1`: the runtime checkpoint the destination holds, guarded by a fence.

One row per (materialization, key range). Every Open bumps the fence of its own
row and of every row whose range overlaps it, so an older instance of any of
those shards can no longer commit; its commit's fenced UPDATE then hits no row and
fails. A range seen for the first time (after a shard split) starts from the
checkpoint of the narrowest range that covers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import orjson

from connector_kit.errors import ConnectorError
from connector_kit.protocol.flow import RangeSpec
from materialize_duckdb.identifiers import qualified_name

CHECKPOINTS_TABLE = "flow_checkpoints_v1"


class FencedOff(ConnectorError):
    """A newer instance of this materialization opened the same key range."""


@dataclass(frozen=True)
class Fence:
    materialization: str
    key_begin: int
    key_end: int
    fence: int
    checkpoint: Any | None


def checkpoints_table(schema: str) -> str:
    return qualified_name(schema, CHECKPOINTS_TABLE)


def create_checkpoints_table(schema: str) -> str:
    return (
        f"CREATE TABLE {checkpoints_table(schema)} (\n"
        "  materialization VARCHAR NOT NULL,\n"
        "  key_begin BIGINT NOT NULL,\n"
        "  key_end BIGINT NOT NULL,\n"
        "  fence BIGINT NOT NULL,\n"
        "  checkpoint JSON\n"
        ")"
    )


def install_fence(
    connection: duckdb.DuckDBPyConnection,
    *,
    schema: str,
    materialization: str,
    key_range: RangeSpec,
) -> Fence:
    """Bump the fences of this range and all overlapping ones; return ours and its checkpoint."""
    table = checkpoints_table(schema)
    begin, end = key_range.key_begin, key_range.key_end
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(
            f"UPDATE {table} SET fence = fence + 1 "  # noqa: S608 - identifiers are quoted
            "WHERE materialization = ? AND key_begin <= ? AND key_end >= ?",
            [materialization, end, begin],
        )
        rows = connection.execute(
            f"SELECT fence, checkpoint FROM {table} "  # noqa: S608 - identifiers are quoted
            "WHERE materialization = ? AND key_begin = ? AND key_end = ?",
            [materialization, begin, end],
        ).fetchall()
        if rows:
            fence, checkpoint = int(rows[0][0]), rows[0][1]
        else:
            covering = connection.execute(
                f"SELECT checkpoint FROM {table} WHERE materialization = ? "  # noqa: S608 - quoted
                "AND key_begin <= ? AND key_end >= ? ORDER BY key_end - key_begin LIMIT 1",
                [materialization, begin, end],
            ).fetchall()
            highest = connection.execute(
                f"SELECT coalesce(max(fence), 0) FROM {table} "  # noqa: S608 - quoted
                "WHERE materialization = ?",
                [materialization],
            ).fetchall()
            fence = int(highest[0][0]) + 1
            checkpoint = covering[0][0] if covering else None
            connection.execute(
                f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?)",  # noqa: S608 - quoted
                [materialization, begin, end, fence, checkpoint],
            )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return Fence(
        materialization=materialization,
        key_begin=begin,
        key_end=end,
        fence=fence,
        checkpoint=orjson.loads(checkpoint) if checkpoint is not None else None,
    )


def commit_checkpoint(
    connection: duckdb.DuckDBPyConnection, *, schema: str, fence: Fence, checkpoint: Any
) -> None:
    """Store `checkpoint` in the open transaction, or raise FencedOff if our fence is gone."""
    row = connection.execute(
        f"UPDATE {checkpoints_table(schema)} SET checkpoint = ? "  # noqa: S608 - identifiers are quoted
        "WHERE materialization = ? AND key_begin = ? AND key_end = ? AND fence = ?",
        [
            orjson.dumps(checkpoint).decode(),
            fence.materialization,
            fence.key_begin,
            fence.key_end,
            fence.fence,
        ],
    ).fetchall()
    updated = row[0][0] if row else 0
    if updated != 1:
        raise FencedOff(
            f"materialization {fence.materialization!r} (key range "
            f"{fence.key_begin:08x}-{fence.key_end:08x}) was fenced off by a newer instance: "
            f"its checkpoint row no longer has fence {fence.fence} ({updated} rows matched); "
            "this instance's transaction was rolled back and the newer one carries on"
        )
