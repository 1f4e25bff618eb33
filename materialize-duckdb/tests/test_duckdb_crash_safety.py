"""SIGKILL at named points of the transaction cycle, restart, replay: the tables come out exact.

Each case arms one fault point (`CONNECTOR_KIT_FAULT_POINT=name:count`), runs four
transactions until the connector kills itself, then restarts it the way the Flow
runtime would: open, resume after the checkpoint the connector returns in `opened`,
replay the rest. The standard table's `count` is a sum over every transaction, so a
transaction applied twice or lost shows up in it; the delta table shows duplicated or
missing appends directly.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest
from flow_runtime import (
    ConnectorDied,
    FlowRuntime,
    Transaction,
    binding,
    checkpoint,
    collection,
    materialization,
    run_requests,
    with_meta,
)

from connector_kit.materialize import FAULT_POINT_ENV

THINGS = {"id": {"type": "integer"}, "count": {"type": "integer"}, "label": {"type": "string"}}
STAGING = "db.duckdb.flow-staging"

POINTS = [
    "open.fenced",  # fence bumped, before `opened`
    "opened",
    "acknowledged:1",  # first transaction begins
    "acknowledged:2",
    "load:3",  # in the middle of the load phase
    "load.queried:2",  # keys looked up, `loaded` not yet written
    "loaded:2",  # `loaded` written, `flushed` not
    "flushed:2",
    "store:5",  # during Store, first transaction
    "store:70",  # during Store, second transaction
    "stored:1",  # a batch staged as Parquet, others not yet
    "stored:4",  # every batch of the second transaction staged, before commit
    "committing:1",  # staged, commit not begun
    "commit.begun:2",  # DuckDB transaction open, nothing applied
    "commit.deleted:2",  # old rows of updated keys deleted, new ones not inserted
    "commit.inserted:3",  # one binding inserted, the other not
    "commit.inserted:4",  # both inserted, checkpoint row not moved
    "commit.checkpointed:2",  # checkpoint moved, COMMIT not run
    "commit.committed:2",  # committed, staged files still on disk
    "commit.cleaned:2",  # staged files removed, `startedCommit` not written
    "started_commit:2",  # `startedCommit` written, runtime not yet acknowledged
    "committing:4",  # last transaction staged
    "started_commit:4",  # every transaction committed
    "acknowledged:5",  # the acknowledge that follows the last commit
    "acknowledged:3",
]


def summing(prior: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    if prior is None or new["_meta"]["op"] == "d":
        return new
    return {**new, "count": prior["count"] + new["count"]}


def thing(i: int, count: int, *, deleted: bool = False) -> dict[str, Any]:
    return with_meta({"id": i, "count": count, "label": f"label {i}"}, deleted=deleted)


TRANSACTIONS = [
    Transaction(
        {0: [thing(i, 1) for i in range(30)], 1: [thing(i, 1) for i in range(10)]}, checkpoint(1)
    ),
    Transaction(
        {
            0: [thing(i, 2) for i in range(20, 50)] + [thing(5, 0, deleted=True)],
            1: [thing(i, 2) for i in range(10)],
        },
        checkpoint(2),
    ),
    Transaction(
        {0: [thing(i, 3) for i in range(0, 10)] + [thing(25, 0, deleted=True)], 1: [thing(0, 3)]},
        checkpoint(3),
    ),
    Transaction(
        {0: [thing(i, 4) for i in range(40, 60)], 1: [thing(i, 4) for i in range(5)]}, checkpoint(4)
    ),
]


def expected_state() -> tuple[dict[int, int], Counter[tuple[int, int]]]:
    things: dict[int, dict[str, Any]] = {}
    events: Counter[tuple[int, int]] = Counter()
    for txn in TRANSACTIONS:
        for doc in txn.documents[0]:
            reduced = summing(things.get(doc["id"]), doc)
            if reduced["_meta"]["op"] == "d":
                things.pop(doc["id"], None)
            else:
                things[doc["id"]] = reduced
        events.update((d["id"], d["count"]) for d in txn.documents[1])
    return {k: v["count"] for k, v in things.items()}, events


def runtime() -> FlowRuntime:
    coll = collection("acmeCo/things", THINGS, required=["id", "count"])
    spec = materialization(
        "acmeCo/mat",
        {"database": "db.duckdb", "hardDelete": True},
        [binding(coll, "things"), binding(coll, "events", delta=True, document=False)],
    )
    return FlowRuntime(spec, reducer=summing)


@pytest.fixture(scope="module")
def applied_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("applied")
    code, _, error = run_requests([{"apply": {"materialization": runtime().spec}}], cwd=directory)
    assert code == 0, error
    return directory / "db.duckdb"


def test_every_fault_point_is_distinct_and_there_are_at_least_twenty() -> None:
    assert len(set(POINTS)) == len(POINTS) >= 20


@pytest.mark.parametrize("point", POINTS)
def test_sigkill_then_replay_leaves_exactly_the_reduced_state(
    tmp_path: Path, applied_database: Path, point: str
) -> None:
    shutil.copy(applied_database, tmp_path / "db.duckdb")
    flow = runtime()

    with pytest.raises(ConnectorDied) as died:
        flow.run(TRANSACTIONS, cwd=tmp_path, env={FAULT_POINT_ENV: point})
    assert died.value.returncode == -9, f"the connector did not stop at {point}: {died.value}"

    flow.run(TRANSACTIONS, cwd=tmp_path)

    connection = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    things = dict(connection.execute("SELECT id, count FROM things").fetchall())
    events = Counter(connection.execute("SELECT id, count FROM events").fetchall())
    duplicates = connection.execute("SELECT count(*) - count(DISTINCT id) FROM things").fetchone()
    (stored,) = connection.execute("SELECT checkpoint FROM flow_checkpoints_v1").fetchone() or (
        None,
    )
    connection.close()
    expected_things, expected_events = expected_state()
    assert duplicates == (0,)
    assert things == expected_things
    assert events == expected_events
    assert stored == '{"sources":{"acmeCo/things;materialize":{"readThrough":"4"}}}'
    assert not list((tmp_path / STAGING).rglob("*.parquet")), "staged files were left behind"
