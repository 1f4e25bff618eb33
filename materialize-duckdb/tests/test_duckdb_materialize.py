"""materialize-duckdb through the real protocol, as a subprocess fed hand-written requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from flow_runtime import (
    PUBLISHED_AT,
    PUBLISHED_UUID,
    Connector,
    ConnectorDied,
    FlowRuntime,
    Transaction,
    binding,
    checkpoint,
    collection,
    materialization,
    run_requests,
    store_request,
    with_meta,
)

THINGS = {
    "id": {"type": "integer"},
    "name": {"type": ["string", "null"]},
    "count": {"type": "integer"},
    "tags": {"type": "array"},
}


def query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = duckdb.connect(str(database), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def summing(prior: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A reduction whose result shows whether a document was applied twice or lost."""
    if prior is None or new.get("_meta", {}).get("op") == "d":
        return new
    return {**new, "count": prior["count"] + new["count"]}


def things_runtime(
    tmp_path: Path, *, hard_delete: bool = False, delta: bool = False
) -> FlowRuntime:
    config = {"database": str(tmp_path / "db.duckdb"), "hardDelete": hard_delete}
    coll = collection("acmeCo/things", THINGS, required=["id", "count"])
    spec = materialization("acmeCo/mat", config, [binding(coll, "things", delta=delta)])
    return FlowRuntime(spec, reducer=summing)


def thing(i: int, count: int = 1, *, deleted: bool = False, name: str | None = None) -> dict:
    return with_meta(
        {"id": i, "name": name or f"thing {i}", "count": count, "tags": [i]}, deleted=deleted
    )


def test_spec_carries_resource_annotations_and_marks_the_token_secret(tmp_path: Path) -> None:
    code, responses, error = run_requests(
        [{"spec": {"connectorType": "LOCAL", "config": {}}}], cwd=tmp_path
    )
    assert code == 0, error
    spec = responses[0]["spec"]
    assert spec["protocol"] == 3032023
    resource = spec["resourceConfigSchema"]["properties"]
    assert resource["table"]["x-collection-name"] is True
    assert resource["schema"]["x-schema-name"] is True
    assert resource["delta_updates"]["x-delta-updates"] is True
    config = spec["configSchema"]["properties"]
    assert config["token"]["secret"] is True
    assert config["database"]["default"] == "materialize.duckdb"
    assert config["hardDelete"]["default"] is False


def test_validate_requires_keys_and_document_and_offers_values(tmp_path: Path) -> None:
    coll = collection("acmeCo/things", THINGS, required=["id"])
    request = {
        "validate": {
            "name": "acmeCo/mat",
            "config": {"database": str(tmp_path / "db.duckdb")},
            "bindings": [
                {"resourceConfig": {"table": "things"}, "collection": coll},
                {
                    "resourceConfig": {"table": "events", "delta_updates": True, "schema": "raw"},
                    "collection": coll,
                },
            ],
        }
    }
    code, responses, error = run_requests([request], cwd=tmp_path)
    assert code == 0, error
    standard, delta = responses[0]["validated"]["bindings"]
    assert standard["resourcePath"] == ["main", "things"]
    assert delta["resourcePath"] == ["raw", "events"]
    assert delta["deltaUpdates"] is True
    kinds = {f: c["type"] for f, c in standard["constraints"].items()}
    assert kinds["id"] == "FIELD_REQUIRED"
    assert kinds["flow_document"] == "FIELD_REQUIRED"
    assert kinds["name"] == "LOCATION_RECOMMENDED"
    assert kinds["tags"] == "FIELD_OPTIONAL"
    assert delta["constraints"]["flow_document"]["type"] == "FIELD_OPTIONAL"
    assert not (tmp_path / "db.duckdb").exists(), "validate must not create the database"


def test_validate_marks_a_column_that_cannot_hold_the_new_type_incompatible(tmp_path: Path) -> None:
    runtime = things_runtime(tmp_path)
    runtime.apply(cwd=tmp_path)
    changed = dict(THINGS, tags={"type": "string"})
    coll = collection("acmeCo/things", changed, required=["id"])
    request = {
        "validate": {
            "name": "acmeCo/mat",
            "config": {"database": str(tmp_path / "db.duckdb")},
            "bindings": [{"resourceConfig": {"table": "things"}, "collection": coll}],
        }
    }
    code, responses, error = run_requests([request], cwd=tmp_path)
    assert code == 0, error
    constraint = responses[0]["validated"]["bindings"][0]["constraints"]["tags"]
    assert constraint["type"] == "INCOMPATIBLE"
    assert "JSON" in constraint["reason"]
    assert "VARCHAR" in constraint["reason"]


def test_apply_is_idempotent_and_describes_the_ddl_it_ran(tmp_path: Path) -> None:
    runtime = things_runtime(tmp_path)
    first = runtime.apply(cwd=tmp_path)
    assert "CREATE TABLE main.flow_checkpoints_v1" in first
    assert "CREATE TABLE main.things" in first
    assert "id BIGINT NOT NULL" in first
    assert "flow_published_at TIMESTAMPTZ NOT NULL" in first
    assert runtime.apply(cwd=tmp_path) == ""


def test_opened_leaves_out_the_checkpoint_until_one_is_committed(tmp_path: Path) -> None:
    runtime = things_runtime(tmp_path)
    runtime.apply(cwd=tmp_path)
    connector = Connector(cwd=tmp_path)
    connector.send({"open": {"materialization": runtime.spec}})
    assert connector.read() == {"opened": {}}
    runtime.run_transaction(connector, Transaction({0: [thing(1)]}, checkpoint(1)))
    assert connector.finish() == 0
    connector = Connector(cwd=tmp_path)
    connector.send({"open": {"materialization": runtime.spec}})
    assert connector.read() == {"opened": {"runtimeCheckpoint": checkpoint(1)}}
    assert connector.finish() == 0


def test_standard_updates_load_prior_documents_and_replace_rows(tmp_path: Path) -> None:
    runtime = things_runtime(tmp_path)
    runtime.apply(cwd=tmp_path)
    transactions = [
        Transaction({0: [thing(i) for i in range(5)]}, checkpoint(1)),
        Transaction({0: [thing(i, 10) for i in range(3, 8)]}, checkpoint(2)),
        Transaction({0: [thing(4, 100, name="renamed")]}, checkpoint(3)),
    ]
    assert runtime.run(transactions, cwd=tmp_path) == 3
    rows = query(
        tmp_path / "db.duckdb",
        "SELECT id, name, count, tags, flow_published_at::VARCHAR, flow_document->>'$.count' "
        "FROM things ORDER BY id",
    )
    counts = {r[0]: r[2] for r in rows}
    assert counts == {0: 1, 1: 1, 2: 1, 3: 11, 4: 111, 5: 10, 6: 10, 7: 10}
    assert rows[4][1] == "renamed"
    assert rows[4][3] == "[4]"
    assert rows[4][5] == "111"
    assert {r[4] for r in rows} == {PUBLISHED_AT}
    assert query(tmp_path / "db.duckdb", "SELECT checkpoint FROM flow_checkpoints_v1")[0][0] == (
        '{"sources":{"acmeCo/things;materialize":{"readThrough":"3"}}}'
    )


def test_delta_updates_append_every_stored_document(tmp_path: Path) -> None:
    runtime = things_runtime(tmp_path, delta=True)
    runtime.apply(cwd=tmp_path)
    transactions = [
        Transaction({0: [thing(i) for i in range(4)]}, checkpoint(1)),
        Transaction({0: [thing(i, 5) for i in range(2)]}, checkpoint(2)),
    ]
    runtime.run(transactions, cwd=tmp_path)
    rows = query(tmp_path / "db.duckdb", "SELECT id, count FROM things ORDER BY id, count")
    assert rows == [(0, 1), (0, 5), (1, 1), (1, 5), (2, 1), (3, 1)]


@pytest.mark.parametrize(("hard_delete", "expected"), [(True, [1]), (False, [0, 1])])
def test_deleted_documents_are_removed_or_kept_with_op_d(
    tmp_path: Path, hard_delete: bool, expected: list[int]
) -> None:
    runtime = things_runtime(tmp_path, hard_delete=hard_delete)
    runtime.apply(cwd=tmp_path)
    transactions = [
        Transaction({0: [thing(0), thing(1)]}, checkpoint(1)),
        Transaction({0: [thing(0, deleted=True)]}, checkpoint(2)),
    ]
    runtime.run(transactions, cwd=tmp_path)
    rows = query(
        tmp_path / "db.duckdb", "SELECT id, flow_document->>'$._meta.op' FROM things ORDER BY id"
    )
    assert [r[0] for r in rows] == expected
    if not hard_delete:
        assert rows[0][1] == "d"


def test_a_deleted_key_stored_again_comes_back(tmp_path: Path) -> None:
    runtime = things_runtime(tmp_path, hard_delete=True)
    runtime.apply(cwd=tmp_path)
    transactions = [
        Transaction({0: [thing(0, 3)]}, checkpoint(1)),
        Transaction({0: [thing(0, deleted=True)]}, checkpoint(2)),
        Transaction({0: [thing(0, 7)]}, checkpoint(3)),
    ]
    runtime.run(transactions, cwd=tmp_path)
    assert query(tmp_path / "db.duckdb", "SELECT id, count FROM things") == [(0, 7)]


def test_schema_changes_across_runs_add_columns_and_widen_types(tmp_path: Path) -> None:
    runtime = things_runtime(tmp_path)
    runtime.apply(cwd=tmp_path)
    runtime.run([Transaction({0: [thing(1)]}, checkpoint(1))], cwd=tmp_path)

    evolved = dict(THINGS, count={"type": "number"}, label={"type": "string"})
    coll = collection("acmeCo/things", evolved, required=["id", "count"])
    spec = materialization("acmeCo/mat", runtime.spec["config"], [binding(coll, "things")])
    runtime2 = FlowRuntime(spec, reducer=summing)
    description = runtime2.apply(cwd=tmp_path)
    assert 'ALTER TABLE main.things ADD COLUMN "label" VARCHAR' in description
    assert "ALTER TABLE main.things ALTER COLUMN count SET DATA TYPE DOUBLE" in description
    doc = with_meta({"id": 2, "name": "b", "count": 2.5, "tags": [], "label": "new"})
    runtime2.run([Transaction({0: [doc]}, checkpoint(2))], cwd=tmp_path)
    rows = query(tmp_path / "db.duckdb", 'SELECT id, "count", "label" FROM things ORDER BY id')
    assert rows == [(1, 1.0, None), (2, 2.5, "new")]
    assert runtime2.apply(cwd=tmp_path) == ""


def test_documents_and_packed_values_give_the_same_rows(tmp_path: Path) -> None:
    properties = {
        "id": {"type": "integer"},
        "big": {"type": "string", "format": "integer", "maxLength": 30},
        "when": {"type": "string", "format": "date-time"},
        "day": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "time"},
        "ident": {"type": "string", "format": "uuid"},
        "blob": {"type": "string", "contentEncoding": "base64"},
        "ratio": {"type": "string", "format": "number"},
        "flag": {"type": "boolean"},
        "mixed": {"type": ["integer", "string"]},
        "obj": {"type": "object"},
    }
    nested = {"obj_x": ("/obj/x", {"type": "integer"})}
    coll = collection("acmeCo/typed", properties, nested=nested)
    config = {"database": str(tmp_path / "db.duckdb")}
    spec = materialization(
        "acmeCo/mat",
        config,
        [
            binding(coll, "from_docs", delta=True),
            binding(coll, "from_packed", delta=True, document=False),
        ],
    )
    runtime = FlowRuntime(spec)
    runtime.apply(cwd=tmp_path)
    docs = [
        with_meta(
            {
                "id": 1,
                "big": "123456789012345678901234567",
                "when": "2024-05-06T07:08:09.123456+02:00",
                "day": "2024-05-06",
                "at": "07:08:09",
                "ident": "5b1d5c3e-1f2b-4c7e-9d2a-0a1b2c3d4e5f",
                "blob": "aGVsbG8=",
                "ratio": "NaN",
                "flag": True,
                "mixed": 5,
                "obj": {"x": 3, "y": [1]},
            }
        ),
        with_meta({"id": 2, "mixed": "five", "obj": {}, "flag": False, "ratio": "1.5"}),
    ]
    runtime.run([Transaction({0: docs, 1: docs}, checkpoint(1))], cwd=tmp_path)
    columns = (
        'id, big, "when"::VARCHAR, "day", "at", ident, blob, ratio::VARCHAR, flag, mixed, obj, '
        "obj_x, flow_published_at::VARCHAR"
    )
    from_docs = query(tmp_path / "db.duckdb", f"SELECT {columns} FROM from_docs ORDER BY id")
    from_packed = query(tmp_path / "db.duckdb", f"SELECT {columns} FROM from_packed ORDER BY id")
    assert from_docs == from_packed
    first = from_docs[0]
    assert first[1] == 123456789012345678901234567
    assert first[6] == b"hello"
    assert first[7] == "nan"
    assert first[9] == "5"
    assert first[10] == '{"x":3,"y":[1]}'
    assert first[11] == 3
    types = dict(
        query(
            tmp_path / "db.duckdb",
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'from_packed'",
        )
    )
    assert types["big"] == "HUGEINT"
    assert types["blob"] == "BLOB"
    assert types["ident"] == "UUID"
    assert types["when"] == "TIMESTAMP WITH TIME ZONE"
    assert types["mixed"] == "JSON"


def test_hostile_names_reach_duckdb_intact(tmp_path: Path) -> None:
    properties = {
        "id": {"type": "integer"},
        "Group": {"type": "string"},
        "group": {"type": "string"},
        'say "hi"': {"type": "string"},
        "a.b": {"type": "string"},
        "空白 name": {"type": "string"},
        "flow_document": {"type": "string"},
        "_flow_delete": {"type": "string"},
        "select": {"type": "integer"},
    }
    coll = collection("acmeCo/hostile", properties)
    for p in coll[
        "projections"
    ]:  # a source field named like our document column is renamed by Flow
        if p["ptr"] == "/flow_document":
            p["field"] = "flow_document_"
    coll["projections"] = [
        p for p in coll["projections"] if p["field"] != "flow_document" or p["ptr"] == ""
    ]
    coll["projections"].append(
        {
            "ptr": "/flow_document",
            "field": "Flow_Document",
            "inference": {"types": ["string"], "exists": "MAY"},
        }
    )
    coll["projections"] = [p for p in coll["projections"] if p["field"] != "flow_document_"]
    config = {"database": str(tmp_path / "db.duckdb"), "schema": "My Schema"}
    spec = materialization(
        "acmeCo/mat", config, [binding(coll, 'Drop "Table"; --', schema="weird.schema")]
    )
    runtime = FlowRuntime(spec)
    runtime.apply(cwd=tmp_path)
    doc = with_meta(
        {
            "id": 1,
            "Group": "G",
            "group": "g",
            'say "hi"': "hi",
            "a.b": "ab",
            "空白 name": "kj",
            "flow_document": "user field",
            "_flow_delete": "not ours",
            "select": 3,
        }
    )
    runtime.run(
        [Transaction({0: [doc]}, checkpoint(1)), Transaction({0: [doc]}, checkpoint(2))],
        cwd=tmp_path,
    )
    columns = query(
        tmp_path / "db.duckdb",
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'weird.schema' "
        "AND table_name = 'Drop \"Table\"; --' ORDER BY column_index",
    )
    names = [c[0] for c in columns]
    assert {
        "Group",
        "group_",
        'say "hi"',
        "a.b",
        "空白 name",
        "Flow_Document_",
        "_flow_delete_",
        "select",
    } <= set(names)
    rows = query(
        tmp_path / "db.duckdb",
        'SELECT "Group", group_, "say ""hi""", "a.b", "空白 name", "Flow_Document_", '
        '"_flow_delete_", "select" '
        'FROM "weird.schema"."Drop ""Table""; --"',
    )
    assert rows == [("G", "g", "hi", "ab", "kj", "user field", "not ours", 3)]
    assert query(
        tmp_path / "db.duckdb", 'SELECT count(*) FROM "My Schema".flow_checkpoints_v1'
    ) == [(1,)]


def test_a_second_instance_fences_off_the_first(tmp_path: Path) -> None:
    runtime = things_runtime(tmp_path)
    runtime.apply(cwd=tmp_path)
    first = Connector(cwd=tmp_path)
    runtime.open(first)
    runtime.run_transaction(first, Transaction({0: [thing(1)]}, checkpoint(1)))

    second = Connector(cwd=tmp_path)
    assert runtime.open(second) == checkpoint(1)

    with pytest.raises(ConnectorDied):
        runtime.run_transaction(first, Transaction({0: [thing(2)]}, checkpoint(2)))
    assert first.finish() == 1
    assert "fenced off by a newer instance" in first.last_error()

    runtime.run_transaction(second, Transaction({0: [thing(3)]}, checkpoint(3)))
    assert second.finish() == 0
    assert query(tmp_path / "db.duckdb", "SELECT id FROM things ORDER BY id") == [(1,), (3,)]
    assert not list((tmp_path / "db.duckdb.flow-staging").rglob("*.parquet"))


def test_a_missing_table_at_open_asks_for_apply(tmp_path: Path) -> None:
    runtime = things_runtime(tmp_path)
    code, _, error = run_requests([{"open": {"materialization": runtime.spec}}], cwd=tmp_path)
    assert code == 1
    assert "does not exist; apply the materialization before opening it" in error


def test_motherduck_token_is_required_and_never_logged(tmp_path: Path) -> None:
    code, _, error = run_requests(
        [{"apply": {"materialization": materialization("a/m", {"database": "md:db"}, [])}}],
        cwd=tmp_path,
    )
    assert code == 1
    assert "`token` is required" in error
    token = "md-secret-token-0123456789"
    spec = materialization("a/m", {"database": "md:db", "token": token}, [])
    done = run_requests(
        [{"apply": {"materialization": spec}}], cwd=tmp_path, env={"HOME": str(tmp_path)}
    )
    assert done[0] == 1
    assert "cannot open database 'md:db'" in done[2]
    assert token not in done[2]
    assert not any(token in str(r) for r in done[1])


def test_ducklake_without_its_extension_is_a_clear_config_error(tmp_path: Path) -> None:
    config = {
        "ducklake": {"catalog": str(tmp_path / "lake.ducklake"), "dataPath": str(tmp_path / "data")}
    }
    spec = materialization("a/m", config, [])
    code, _, error = run_requests(
        [{"apply": {"materialization": spec}}], cwd=tmp_path, env={"HOME": str(tmp_path)}
    )
    if code == 0:
        pytest.skip(
            "the ducklake extension is installed here; the DuckLake path is exercised instead"
        )
    assert "DuckLake needs DuckDB's `ducklake` extension" in error


def test_documents_are_stored_with_zstd_compression(tmp_path: Path) -> None:
    runtime = things_runtime(tmp_path)
    assert "flow_document JSON USING COMPRESSION zstd NOT NULL" in runtime.apply(cwd=tmp_path)
    (sql,) = query(
        tmp_path / "db.duckdb", "SELECT sql FROM duckdb_tables() WHERE table_name = 'things'"
    )[0]
    assert "flow_document JSON USING COMPRESSION ZSTD NOT NULL" in sql


def test_commits_are_durable_in_the_log_and_folded_into_the_file_when_the_session_ends(
    tmp_path: Path,
) -> None:
    """No checkpoint per commit (it would rewrite the newest rows every time), one at the end."""
    runtime = things_runtime(tmp_path)
    runtime.apply(cwd=tmp_path)
    wal = tmp_path / "db.duckdb.wal"
    connector = Connector(cwd=tmp_path)
    connector.send({"open": {"materialization": runtime.spec}})
    assert connector.read() == {"opened": {}}
    runtime.run_transaction(connector, Transaction({0: [thing(1), thing(2)]}, checkpoint(1)))
    assert wal.exists(), "the commit sits in the write-ahead log"
    assert wal.stat().st_size > 0
    runtime.run_transaction(connector, Transaction({0: [thing(2, 5)]}, checkpoint(2)))
    assert connector.finish() == 0
    assert not wal.exists() or wal.stat().st_size == 0
    assert query(tmp_path / "db.duckdb", "SELECT id, count FROM things ORDER BY id") == [
        (1, 1),
        (2, 6),
    ]


def test_documents_are_stored_byte_for_byte_whatever_the_store_line_layout(
    tmp_path: Path,
) -> None:
    """`flow_document` holds the document exactly as sent (number spelling, escapes), both
    for lines laid out as Flow's runtime writes them and for any other valid layout."""
    runtime = things_runtime(tmp_path)
    runtime.apply(cwd=tmp_path)
    spec = runtime.spec
    bound = spec["bindings"][0]
    meta = f'"_meta":{{"uuid":"{PUBLISHED_UUID}","op":"u"}}'
    texts = {
        1: '{"id":1,"name":"caf\\u00e9","count":1,"tags":[1.10,7.3e-6],' + meta + "}",
        2: '{"id":2,"name":"x","count":2,"tags":[],' + meta + "}",
        3: '{"id":3,"name":"y","count":3,"tags":[{"a":1}],' + meta + "}",
    }
    lines = []
    for i, text in texts.items():
        store = store_request(bound, 0, orjson.loads(text), exists=False)["store"]
        fields = [f'"{k}":{orjson.dumps(v).decode()}' for k, v in store.items() if k != "doc"]
        if i == 1:  # as Flow's runtime lays it out: the document after the packed fields
            body = ",".join([*fields, f'"doc":{text}'])
        elif i == 2:  # the document first, then the rest, with spaces
            body = ", ".join([f'"doc": {text}', *fields])
        else:  # a field unknown today after the document, ending as `exists` would
            body = ",".join([*fields, f'"doc":{text}', '"later":{"exists":true}'])
        lines.append(("{" + f'"store":{{{body}}}' + "}\n").encode())
    requests = [
        {"open": {"materialization": spec}},
        {"acknowledge": {}},
        {"flush": {}},
        *lines,
        {"startCommit": {"runtimeCheckpoint": checkpoint(1)}},
    ]
    code, _responses, error = run_requests(requests, cwd=tmp_path)
    assert code == 0, error
    stored = dict(query(tmp_path / "db.duckdb", "SELECT id, flow_document::VARCHAR FROM things"))
    assert stored[1] == texts[1]
    assert orjson.loads(stored[2]) == orjson.loads(texts[2])
    assert orjson.loads(stored[3]) == orjson.loads(texts[3])


def test_a_raised_backfill_counter_rebuilds_the_table_from_the_reread_collection(
    tmp_path: Path,
) -> None:
    """The runtime reads the collection again from its start; the table starts over with it,
    so a reduction (a sum here) is not applied twice."""
    runtime = things_runtime(tmp_path)
    first = runtime.apply(cwd=tmp_path)
    assert "CREATE TABLE main.flow_backfills_v1" in first
    history = [
        Transaction({0: [thing(1), thing(2)]}, checkpoint(1)),
        Transaction({0: [thing(1, 10)]}, checkpoint(2)),
    ]
    assert runtime.run(history, cwd=tmp_path) == 2
    database = tmp_path / "db.duckdb"
    assert query(database, "SELECT id, count FROM things ORDER BY id") == [(1, 11), (2, 1)]

    runtime.spec["bindings"][0]["backfill"] = 1
    dropped, created, *_ = runtime.apply(cwd=tmp_path).splitlines()
    assert dropped == "DROP TABLE main.things"
    assert created.startswith("CREATE TABLE main.things")
    assert query(database, "SELECT count(*) FROM things") == [(0,)]
    assert runtime.apply(cwd=tmp_path) == "", "the counter is recorded: Apply is idempotent"

    connector = Connector(cwd=tmp_path)
    runtime.open(connector)
    for transaction in history:  # the whole collection again, from its start
        runtime.run_transaction(connector, transaction)
    assert connector.finish() == 0
    assert query(database, "SELECT id, count FROM things ORDER BY id") == [(1, 11), (2, 1)]


def test_a_table_about_to_be_rebuilt_accepts_an_otherwise_incompatible_type(
    tmp_path: Path,
) -> None:
    runtime = things_runtime(tmp_path)
    runtime.apply(cwd=tmp_path)
    changed = collection("acmeCo/things", dict(THINGS, tags={"type": "string"}), required=["id"])
    validate = {
        "name": "acmeCo/mat",
        "config": {"database": str(tmp_path / "db.duckdb")},
        "bindings": [{"resourceConfig": {"table": "things"}, "collection": changed, "backfill": 1}],
    }
    code, responses, error = run_requests([{"validate": validate}], cwd=tmp_path)
    assert code == 0, error
    assert responses[0]["validated"]["bindings"][0]["constraints"]["tags"]["type"] != "INCOMPATIBLE"


def test_a_table_with_no_recorded_counter_adopts_it_and_keeps_its_rows(tmp_path: Path) -> None:
    runtime = things_runtime(tmp_path)
    runtime.apply(cwd=tmp_path)
    assert runtime.run([Transaction({0: [thing(1)]}, checkpoint(1))], cwd=tmp_path) == 1
    connection = duckdb.connect(str(tmp_path / "db.duckdb"))
    # As a table built before its counter was kept.
    connection.execute("DELETE FROM flow_backfills_v1")
    connection.close()

    runtime.spec["bindings"][0]["backfill"] = 3
    assert "DROP TABLE" not in runtime.apply(cwd=tmp_path)
    assert query(tmp_path / "db.duckdb", "SELECT id FROM things") == [(1,)]
    assert query(tmp_path / "db.duckdb", "SELECT backfill FROM flow_backfills_v1") == [(3,)]
