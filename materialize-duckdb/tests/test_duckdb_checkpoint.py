"""The checkpoint at the end of a session: the log folded in, row groups vacuumed only after
deletes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from materialize_duckdb.database import checkpoint
from materialize_duckdb.models import EndpointConfig

ROWS = 3 * 130_000


def stored_rows(database: Path) -> int:
    """Rows physically stored for the table, deleted ones included until a vacuum drops them."""
    connection = duckdb.connect(str(database), read_only=True)
    try:
        row = connection.execute(
            "SELECT sum(count) FROM pragma_storage_info('things') "
            "WHERE column_name = 'id' AND segment_type = 'BIGINT'"
        ).fetchone()
    finally:
        connection.close()
    assert row is not None
    return int(row[0])


@pytest.fixture
def database_with_deleted_rows(tmp_path: Path) -> Path:
    """Three large commits, as a session writes them, then a commit deleting 3 rows in 4."""
    database = tmp_path / "db.duckdb"
    connection = duckdb.connect(str(database))
    connection.execute("PRAGMA disable_checkpoint_on_shutdown")
    connection.execute("CREATE TABLE things (id BIGINT NOT NULL)")
    step = ROWS // 3
    for start in range(0, ROWS, step):
        connection.execute(f"INSERT INTO things SELECT range FROM range({start}, {start + step})")
    connection.execute("CHECKPOINT")
    connection.execute("DELETE FROM things WHERE id % 4 <> 0")
    connection.close()
    assert (tmp_path / "db.duckdb.wal").stat().st_size > 0
    return database


@pytest.mark.parametrize(("vacuum", "expected"), [(False, ROWS), (True, ROWS // 4)])
def test_the_session_checkpoint_vacuums_only_when_asked(
    database_with_deleted_rows: Path, vacuum: bool, expected: int
) -> None:
    config = EndpointConfig.model_validate({"database": str(database_with_deleted_rows)})
    checkpoint(config, vacuum=vacuum)
    wal = database_with_deleted_rows.with_name("db.duckdb.wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the log is folded in either way"
    assert stored_rows(database_with_deleted_rows) == expected
    connection = duckdb.connect(str(database_with_deleted_rows), read_only=True)
    assert connection.execute("SELECT count(*) FROM things").fetchone() == (ROWS // 4,)
    connection.close()
