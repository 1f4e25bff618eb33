"""DuckLake: the same code path as a file, against a real DuckLake when the extension loads.

DuckDB extensions are built per DuckDB version and normally downloaded on first use, so
this machine may have none. `MATERIALIZE_DUCKDB_PYTHON` may name an interpreter whose
DuckDB has `ducklake` installed (e.g. a venv with `duckdb==1.5.5` and
`duckdb-extension-ducklake==1.5.5`, whose extension file `INSTALL '<path>'` registers).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from flow_runtime import (
    PYTHON,
    ConnectorDied,
    FlowRuntime,
    Transaction,
    binding,
    checkpoint,
    collection,
    materialization,
    with_meta,
)

PROBE = "import duckdb; duckdb.connect().execute('LOAD ducklake')"


def ducklake_loads() -> bool:
    return subprocess.run([PYTHON, "-c", PROBE], capture_output=True, check=False).returncode == 0


pytestmark = pytest.mark.skipif(
    not ducklake_loads(),
    reason="DuckDB's ducklake extension is not installed for the connector's interpreter "
    "(offline it cannot be downloaded; see this module's docstring)",
)


def summing(prior: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    if prior is None or new["_meta"]["op"] == "d":
        return new
    return {**new, "n": prior["n"] + new["n"]}


def test_a_ducklake_materializes_exactly_once_across_a_crash(tmp_path: Path) -> None:
    coll = collection("acmeCo/things", {"id": {"type": "integer"}, "n": {"type": "integer"}})
    config = {
        "ducklake": {
            "catalog": str(tmp_path / "meta.ducklake"),
            "dataPath": str(tmp_path / "data"),
        },
        "hardDelete": True,
        "stagingDirectory": str(tmp_path / "staging"),
    }
    spec = materialization("acmeCo/mat", config, [binding(coll, "things")])
    flow = FlowRuntime(spec, reducer=summing)
    assert "CREATE TABLE main.things" in flow.apply(cwd=tmp_path)
    assert flow.apply(cwd=tmp_path) == ""
    transactions = [
        Transaction({0: [with_meta({"id": i, "n": 1}) for i in range(5)]}, checkpoint(1)),
        Transaction({0: [with_meta({"id": i, "n": 2}) for i in range(3, 7)]}, checkpoint(2)),
        Transaction({0: [with_meta({"id": 0, "n": 0}, deleted=True)]}, checkpoint(3)),
    ]
    with pytest.raises(ConnectorDied):
        flow.run(transactions, cwd=tmp_path, env={"CONNECTOR_KIT_FAULT_POINT": "commit.inserted:2"})
    flow.run(transactions, cwd=tmp_path)
    read = (
        "import duckdb, sys; c = duckdb.connect(); c.execute('LOAD ducklake'); "
        f"c.execute(\"ATTACH 'ducklake:{tmp_path}/meta.ducklake' AS lake (READ_ONLY)\"); "
        "print(sorted(c.execute('SELECT id, n FROM lake.things').fetchall()))"
    )
    rows = subprocess.run([PYTHON, "-c", read], capture_output=True, text=True, check=True).stdout
    assert rows.strip() == "[(1, 1), (2, 1), (3, 3), (4, 3), (5, 2), (6, 2)]"
    assert not list((tmp_path / "staging").rglob("*.parquet"))
