"""Raising a materialization binding's `backfill` rebuilds its table from the whole collection.

End to end through `connector-kit run` into materialize-duckdb: the runtime reads the
collection again from its start under a new state key, and the connector drops and
re-creates the table at Apply, so a summing reduction comes out once, not twice.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb

from .fake_catalog import connector_kit, write_catalog

SUMMED = {
    "type": "object",
    "reduce": {"strategy": "merge"},
    "properties": {
        "id": {"type": "integer"},
        "count": {"type": "integer", "reduce": {"strategy": "sum"}},
    },
    "required": ["id", "count"],
}


def catalog(directory: Path, *, backfill: int) -> Path:
    script = directory / "script.json"
    script.write_text(
        json.dumps([[{"id": 1, "count": 1}, {"id": 2, "count": 5}], [{"id": 1, "count": 10}]])
    )
    path = write_catalog(
        directory,
        env={"FAKE_SCRIPT": str(script)},
        collections={"acmeCo/users": {"schema": SUMMED, "key": ["/id"]}},
    )
    definition = json.loads(path.read_text())
    definition["materializations"] = {
        "acmeCo/duckdb": {
            "endpoint": {
                "local": {
                    "command": [sys.executable, "-m", "materialize_duckdb"],
                    "config": {"database": str(directory / "db.duckdb")},
                }
            },
            "bindings": [
                {"resource": {"table": "users"}, "source": "acmeCo/users", "backfill": backfill}
            ],
        }
    }
    path.write_text(json.dumps(definition))
    return path


def rows(directory: Path) -> list[tuple[int, int]]:
    connection = duckdb.connect(str(directory / "db.duckdb"), read_only=True)
    try:
        return [
            (int(a), int(b))
            for a, b in connection.execute("SELECT id, count FROM users ORDER BY id").fetchall()
        ]
    finally:
        connection.close()


def test_a_raised_backfill_rebuilds_the_table_and_reduces_each_document_once(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    first = connector_kit("run", "--source", catalog(tmp_path, backfill=0), "--state-dir", state)
    assert first.code == 0, first.stderr
    assert rows(tmp_path) == [(1, 11), (2, 5)]

    second = connector_kit("run", "--source", catalog(tmp_path, backfill=1), "--state-dir", state)
    assert second.code == 0, second.stderr
    assert "DROP TABLE main.users" in second.stderr, "Apply says it rebuilt the table"
    assert rows(tmp_path) == [(1, 11), (2, 5)], "every document reduced once, none twice"
