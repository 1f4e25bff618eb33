"""DuckDB alone loading documents into the very table a materialization created.

The peer the benches hold materialize-duckdb against: a JSON-lines file of the same
documents, `read_json` → INSERT into a table made with the DDL the connector applied
(its columns, types, NOT NULLs and the document column's compression), the whole
document kept as `flow_document`, and the database closed. No protocol, no staging, no
Python per document.

`stage_then_insert` does the same by way of one staged zstd Parquet file: the least any
design that stages its rows (as materialize-duckdb must) can take, protocol aside.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson


@dataclass(frozen=True)
class TargetTable:
    """A table as the connector created it, and how to fill its columns from a document."""

    ddl: str
    names: str
    """The columns but `flow_document`, quoted and comma-separated."""
    selects: str
    """SQL for those columns' values from `s`, the document parsed by `structure`."""
    structure: str

    @classmethod
    def read(cls, database: Path, table: str) -> TargetTable:
        """Columns are filled from the fields their names point at (a name is a JSON pointer
        less its leading `/`); `flow_published_at`, which Flow reads from the document's
        UUID, is the load time."""
        source = duckdb.connect(str(database), read_only=True)
        ddl = source.execute(
            "SELECT sql FROM duckdb_tables() WHERE table_name = ?", [table]
        ).fetchall()[0][0]
        columns = [
            (name, kind)
            for name, kind, *_ in source.execute(f'DESCRIBE "{table}"').fetchall()
            if name != "flow_document"
        ]
        source.close()
        structure: dict[str, Any] = {}
        selects = []
        for name, kind in columns:
            if name == "flow_published_at":
                selects.append("current_timestamp")
                continue
            *parents, leaf = name.split("/")
            node, access = structure, "s"
            for parent in parents:
                node = node.setdefault(parent, {})
                access = f"struct_extract({access}, '{parent}')"
            node[leaf] = kind
            selects.append(f"struct_extract({access}, '{leaf}')")
        return cls(
            ddl=ddl,
            names=", ".join(f'"{name}"' for name, _ in columns),
            selects=", ".join(selects),
            structure=orjson.dumps(structure).decode(),
        )

    def create_in(self, database: Path) -> None:
        connection = duckdb.connect(str(database))
        connection.execute(self.ddl)
        connection.close()


def load_into_same_table(
    documents: Path, *, like: Path, table: str, into: Path
) -> tuple[float, float]:
    """Wall and CPU seconds (DuckDB's threads included) of loading `documents` into a new
    database `into`, whose `table` is created as it is in the database `like`."""
    target = TargetTable.read(like, table)
    target.create_in(into)
    cpu = time.process_time()
    started = time.perf_counter()
    connection = duckdb.connect(str(into))
    connection.execute(
        f'INSERT INTO "{table}" ({target.names}, flow_document) SELECT {target.selects}, json '
        f"FROM (SELECT json, json_transform(json, ?) AS s FROM read_ndjson_objects('{documents}'))",
        [target.structure],
    )
    connection.close()  # the checkpoint that writes the table into the file is part of the load
    return time.perf_counter() - started, time.process_time() - cpu


def stage_then_insert(
    documents: Path, *, like: Path, table: str, into: Path
) -> tuple[float, float]:
    """`load_into_same_table` by way of a staged file, as a staging materialization must: the
    rows written as one zstd Parquet file (level 1, as materialize-duckdb stages them), then
    inserted from it. What staging costs DuckDB itself, with no protocol to read."""
    target = TargetTable.read(like, table)
    target.create_in(into)
    staged = into.with_suffix(".parquet")
    cpu = time.process_time()
    started = time.perf_counter()
    stager = duckdb.connect()
    stager.execute("SET preserve_insertion_order = false")
    stager.execute(
        f"COPY (SELECT {target.selects}, json AS flow_document FROM (SELECT json, "
        f"json_transform(json, ?) AS s FROM read_ndjson_objects('{documents}'))) TO '{staged}' "
        "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE 8192, "
        "DICTIONARY_SIZE_LIMIT 0)",
        [target.structure],
    )
    stager.close()
    connection = duckdb.connect(str(into))
    connection.execute("SET preserve_insertion_order = false")
    connection.execute(
        f'INSERT INTO "{table}" ({target.names}, flow_document) '
        f"SELECT * EXCLUDE (flow_document), flow_document FROM read_parquet('{staged}')"
    )
    connection.close()
    elapsed, used = time.perf_counter() - started, time.process_time() - cpu
    staged.unlink()
    return elapsed, used


PEERS = {"insert": load_into_same_table, "staged": stage_then_insert}


def run_apart(
    peer: str, documents: Path, *, like: Path, table: str, into: Path
) -> tuple[float, float]:
    """A peer run in a process of its own: DuckDB's memory stays out of the calling bench,
    whose later children would otherwise report it as theirs (Linux carries a parent's peak
    RSS into a forked child's)."""
    result = subprocess.run(
        [sys.executable, __file__, peer, str(documents), str(like), table, str(into)],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds, cpu = result.stdout.split()
    return float(seconds), float(cpu)


if __name__ == "__main__":
    name, documents_path, like_path, table_name, into_path = sys.argv[1:]
    elapsed, used = PEERS[name](
        Path(documents_path), like=Path(like_path), table=table_name, into=Path(into_path)
    )
    print(elapsed, used)
