"""tap-jsonl 0.3.1 (singer-sdk 0.53) through the Singer shim, fully offline.

The tap runs from its own throwaway environment as a subprocess of the shim. Its
replication key is each file's mtime, pinned here so output is deterministic.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from syrupy.assertion import SnapshotAssertion

from connector_kit.testing import CaptureContract

from .catalogs import write_catalog
from .driver import PYTHON_DIR, ShimRun, open_request, run_shim, singer_shim_argv
from .venvs import bin_path

pytestmark = pytest.mark.slow

JAN = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
JUNE = datetime(2024, 6, 1, tzinfo=UTC).timestamp()


def write_jsonl(path: Path, rows: list[dict[str, Any]], *, mtime: float) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    os.utime(path, (mtime, mtime))


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    write_jsonl(
        folder / "people.jsonl",
        [{"id": 1, "name": "alice", "score": 9.5}, {"id": 2, "name": "bob", "score": 7}],
        mtime=JAN,
    )
    return folder


def config(data: Path, *, keyed: bool = True) -> dict[str, Any]:
    value: dict[str, Any] = {"path": f"{data}/*.jsonl", "stream_name": "people"}
    if keyed:
        value["primary_keys"] = ["id"]
    return value


def argv(venv: Path) -> list[str]:
    return singer_shim_argv(bin_path(venv, "tap-jsonl"))


def normaliser(data: Path) -> Callable[[Any], Any]:
    def normalise(value: Any) -> Any:
        return orjson.loads(orjson.dumps(value).decode().replace(str(data), "<data>"))

    return normalise


def discovered(venv: Path, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    run = run_shim(argv(venv), [{"discover": {"config": cfg}}], keep_stdin_open=False)
    assert run.code == 0, run.stderr[-3000:]
    bindings: list[dict[str, Any]] = run.of("discovered")[0]["bindings"]
    return bindings


def sync(venv: Path, cfg: dict[str, Any], *, state: Any = None) -> ShimRun:
    bindings = [{"resource": b["resourceConfig"], "key": b["key"]} for b in discovered(venv, cfg)]
    request = open_request(config=cfg, bindings=bindings, path_keys=["stream"], state=state)
    run = run_shim(argv(venv), [request])
    assert run.code == 0, run.stderr[-3000:]
    return run


def bookmark(state: Any) -> Any:
    return orjson.loads(state["bindingStateV1"]["people"]["singerBookmark"])


def test_spec_matches_snapshot(jsonl_venv: Path, snapshot: SnapshotAssertion) -> None:
    run = run_shim(argv(jsonl_venv), [{"spec": {"connectorType": "IMAGE"}}], keep_stdin_open=False)
    assert run.code == 0, run.stderr[-3000:]
    spec = run.of("spec")[0]
    assert spec["configSchema"]["properties"]["path"]["title"] == "Path Glob"
    assert spec == snapshot


def test_discover_matches_snapshot(
    jsonl_venv: Path, data: Path, snapshot: SnapshotAssertion
) -> None:
    bindings = discovered(jsonl_venv, config(data))
    assert [b["key"] for b in bindings] == [["/id"]]
    assert bindings[0]["resourceConfig"] == {
        "stream": "people",
        "replicationMethod": "INCREMENTAL",
        "replicationKey": "_sdc_last_modified",
    }
    assert normaliser(data)(bindings) == snapshot


def test_capture_matches_snapshot_and_advances_its_bookmark(
    jsonl_venv: Path, data: Path, snapshot: SnapshotAssertion
) -> None:
    normalise = normaliser(data)
    first = sync(jsonl_venv, config(data))
    assert [d["id"] for d in first.committed_documents()] == [1, 2]
    assert normalise(first.lines) == snapshot(name="first session")
    state = first.final_state()
    assert bookmark(state)["replication_key_value"] == "2024-01-01T00:00:00+00:00"

    write_jsonl(data / "more.jsonl", [{"id": 3, "name": "carol", "score": 8}], mtime=JUNE)
    second = sync(jsonl_venv, config(data), state=state)
    assert 3 in [d["id"] for d in second.committed_documents()]
    partitions = bookmark(second.final_state(state))["partitions"]
    by_file = {Path(p["context"]["_sdc_filename"]).name: p for p in partitions}
    assert by_file["more.jsonl"]["replication_key_value"] == "2024-06-01T00:00:00+00:00"
    assert normalise(second.lines) == snapshot(name="second session")


def test_keyless_incremental_stream_appends_rows_by_row_id(jsonl_venv: Path, data: Path) -> None:
    cfg = config(data, keyed=False)
    assert [b["key"] for b in discovered(jsonl_venv, cfg)] == [["/_meta/row_id"]]
    first = sync(jsonl_venv, cfg)
    assert [d["_meta"]["row_id"] for d in first.documents] == [0, 1]
    write_jsonl(data / "more.jsonl", [{"id": 3}], mtime=JUNE)
    second = sync(jsonl_venv, cfg, state=first.final_state())
    ids = [d["_meta"]["row_id"] for d in second.documents]
    assert ids, "the new file's rows are captured"
    assert min(ids) == 2, "row ids continue where the last session left off"


@pytest.fixture(scope="class")
def contract_catalog(jsonl_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tap-jsonl")
    (folder / "data").mkdir()
    write_jsonl(folder / "data" / "people.jsonl", [{"id": 1, "name": "alice"}], mtime=JAN)
    cfg = config(folder / "data")
    return write_catalog(
        folder,
        name="acmeCo/tap-jsonl",
        command=argv(jsonl_venv),
        env={"PYTHONPATH": str(PYTHON_DIR)},
        config=cfg,
        bindings=discovered(jsonl_venv, cfg),
    )


class TestTapJsonlContract(CaptureContract):
    """The contract every capture passes, through the local runtime."""

    idle_timeout = 60.0
    # singer-sdk re-emits rows whose replication key equals the bookmark (`>=`), by design.
    reemitting_collections = frozenset({"acmeCo/people"})
