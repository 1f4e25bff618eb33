"""Malformed and out-of-order requests end the connector with an error naming the line."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from flow_runtime import (
    binding,
    checkpoint,
    collection,
    load_request,
    materialization,
    run_requests,
    store_request,
    with_meta,
)

THINGS = {"id": {"type": "integer"}, "name": {"type": "string"}}


def specs() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    coll = collection("acmeCo/things", THINGS)
    standard = binding(coll, "things")
    delta = binding(coll, "events", delta=True)
    spec = materialization("acmeCo/mat", {"database": "db.duckdb"}, [standard, delta])
    return spec, standard, delta


@pytest.fixture(scope="module")
def applied_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("applied")
    code, _, error = run_requests([{"apply": {"materialization": specs()[0]}}], cwd=directory)
    assert code == 0, error
    return directory / "db.duckdb"


DOC = with_meta({"id": 1, "name": "one"})


def streams(spec: dict, standard: dict, delta: dict) -> dict[str, tuple[list[Any], str]]:
    opened = [{"open": {"materialization": spec}}]
    acked = [*opened, {"acknowledge": {}}]
    flushed = [*acked, {"flush": {}}]
    store = store_request(standard, 0, DOC, exists=False)
    commit = {"startCommit": {"runtimeCheckpoint": checkpoint(1)}}
    no_doc = {"store": {k: v for k, v in store["store"].items() if k != "doc"}}
    as_the_runtime_writes_it = orjson.dumps(store) + b"\n"
    return {
        "load before open": (
            [load_request(standard, 0, DOC)],
            "request line 1: `load` is out of order: expected `spec`, `validate`, `apply` or "
            "`open`",
        ),
        "flush before acknowledge": (
            [*opened, {"flush": {}}],
            "request line 2: `flush` is out of order: expected `acknowledge`",
        ),
        "store before flush": (
            [*acked, store],
            "request line 3: `store` is out of order: expected `load` or `flush`",
        ),
        "load after flush": (
            [*flushed, load_request(standard, 0, DOC)],
            "request line 4: `load` is out of order: expected `store` or `startCommit`",
        ),
        "acknowledge twice": (
            [*acked, {"acknowledge": {}}],
            "request line 3: `acknowledge` is out of order",
        ),
        "flush twice": ([*flushed, {"flush": {}}], "request line 4: `flush` is out of order"),
        "commit without checkpoint": (
            [*flushed, store, {"startCommit": {}}],
            "request line 5: `startCommit` must carry `runtimeCheckpoint`",
        ),
        "binding out of range": (
            [*flushed, {"store": {**store["store"], "binding": 7}}, commit],
            "request line 4: `store` names binding 7, but the materialization has 2 binding(s)",
        ),
        "load of a delta binding": (
            [*acked, load_request(delta, 1, DOC)],
            "request line 3: `load` for binding 1, which uses delta updates",
        ),
        "store without its document": (
            [*flushed, no_doc, commit],
            "request line 4: `store` for binding 0 has no `doc`",
        ),
        "a value that does not fit its column": (
            [*flushed, store_request(standard, 0, {**DOC, "id": "one"}, exists=False), commit],
            'request line 4: /id is "one", which does not fit column id (BIGINT)',
        ),
        "not json": (
            [*flushed, b'{"store": {"binding": 0,\n', commit],
            "request line 4 is not valid JSON",
        ),
        "a store laid out as the runtime writes it, but not json before its document": (
            [*flushed, as_the_runtime_writes_it.replace(b'","doc":', b'""doc":'), commit],
            "request line 4 is not valid JSON",
        ),
        "a store laid out as the runtime writes it, but its document not json": (
            [*flushed, as_the_runtime_writes_it.replace(b'"name":"one"', b'"name" "one"'), commit],
            "request line 4 is not valid JSON",
        ),
        "a store whose only key ending in doc is another": (
            [*flushed, orjson.dumps({"store": {**no_doc["store"], 'a"doc': DOC}}) + b"\n", commit],
            "request line 4: `store` for binding 0 has no `doc`",
        ),
        "two messages in one line": (
            [*acked, {"load": load_request(standard, 0, DOC)["load"], "flush": {}}],
            "request line 3",
        ),
        "bad base64 key": (
            [*acked, {"load": {"keyPacked": "!!!"}}],
            "request line 3: load `keyPacked`",
        ),
        "corrupt packed key": (
            [*acked, {"load": {"keyPacked": "FQ=="}}, {"flush": {}}],
            "request line 3: load `keyPacked`: malformed FDB tuple",
        ),
        "unknown message": ([*acked, {"frobnicate": {}}], "request line 3"),
        "end of input mid-transaction": (
            [*flushed, store],
            "the request stream ended in the middle of a transaction "
            "(last request: `store` on line 4)",
        ),
        "stores then a new open": (
            [*flushed, store, *opened],
            "request line 5: `open` is out of order: expected `store` or `startCommit`",
        ),
        "commit then unknown binding load": (
            [
                *flushed,
                store,
                commit,
                {"acknowledge": {}},
                {"load": {"binding": -1, "keyPacked": "FQ=="}},
            ],
            "request line 7: `load` names binding -1",
        ),
    }


CASES = sorted(
    streams(
        {},
        {"collection": collection("x", THINGS), "fieldSelection": {"keys": ["id"], "values": []}},
        {"collection": collection("x", THINGS), "fieldSelection": {"keys": ["id"], "values": []}},
    )
)


@pytest.mark.parametrize("case", CASES)
def test_bad_request_stream_fails_with_an_error_naming_the_line(
    tmp_path: Path, applied_database: Path, case: str
) -> None:
    shutil.copy(applied_database, tmp_path / "db.duckdb")
    spec, standard, delta = specs()
    requests, expected = streams(spec, standard, delta)[case]
    code, responses, error = run_requests(requests, cwd=tmp_path)
    assert code == 1
    assert expected in error
    # Only a transaction that got its startedCommit left rows behind (one row each here).
    committed = sum("startedCommit" in r for r in responses)
    assert committed == (1 if case == "commit then unknown binding load" else 0)
    connection = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    assert connection.execute("SELECT count(*) FROM things").fetchone() == (committed,)
    assert not list((tmp_path / "db.duckdb.flow-staging").rglob("*.parquet"))


def test_a_session_may_end_right_after_acknowledge_or_before_it(
    tmp_path: Path, applied_database: Path
) -> None:
    shutil.copy(applied_database, tmp_path / "db.duckdb")
    spec, standard, _ = specs()
    commit = {"startCommit": {"runtimeCheckpoint": checkpoint(1)}}
    txn = [
        {"acknowledge": {}},
        {"flush": {}},
        store_request(standard, 0, DOC, exists=False),
        commit,
    ]
    opened = {"open": {"materialization": spec}}
    code, responses, error = run_requests([opened, *txn, {"acknowledge": {}}, opened], cwd=tmp_path)
    assert code == 0, error
    assert [next(iter(r)) for r in responses] == [
        "opened",
        "acknowledged",
        "flushed",
        "startedCommit",
        "acknowledged",
        "opened",
    ]
    assert responses[-1]["opened"]["runtimeCheckpoint"] == checkpoint(1)
