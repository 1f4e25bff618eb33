"""DuckDB alone loading documents into the very table a materialization created.

The peer the benches hold materialize-duckdb against: a JSON-lines file of the same
documents, `read_json` → INSERT into a table made with the DDL the connector applied
(its columns, types, NOT NULLs and the document column's compression), the whole
document kept as `flow_document`, and the database closed. No protocol, no staging, no
Python per document.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
import orjson


def load_into_same_table(
    documents: Path, *, like: Path, table: str, into: Path
) -> tuple[float, float]:
    """Wall and CPU seconds (DuckDB's threads included) of loading `documents` into a new
    database `into`, whose `table` is created as it is in the database `like`.

    Columns are filled from the fields their names point at (a name is a JSON pointer
    less its leading `/`); `flow_published_at`, which Flow reads from the document's
    UUID, is handed to DuckDB as the load time."""
    source = duckdb.connect(str(like), read_only=True)
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
    names = ", ".join(f'"{name}"' for name, _ in columns)
    connection = duckdb.connect(str(into))
    connection.execute(ddl)
    connection.close()
    cpu = time.process_time()
    started = time.perf_counter()
    connection = duckdb.connect(str(into))
    connection.execute(
        f'INSERT INTO "{table}" ({names}, flow_document) SELECT {", ".join(selects)}, json '
        f"FROM (SELECT json, json_transform(json, ?) AS s FROM read_ndjson_objects('{documents}'))",
        [orjson.dumps(structure).decode()],
    )
    connection.close()  # the checkpoint that writes the table into the file is part of the load
    return time.perf_counter() - started, time.process_time() - cpu
