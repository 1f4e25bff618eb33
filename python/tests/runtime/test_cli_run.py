"""`connector-kit run` between hand-written capture and materialization connectors."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from connector_kit.runtime.state_dir import StateDirectory
from connector_kit.tuple import unpack

from .fake_catalog import (
    USERS_SCHEMA,
    connector_kit,
    fake_tables,
    recorded_requests,
    write_run_catalog,
)

PLACEHOLDER = "DocUUIDPlaceholder-329Bb50aa48EAa9ef"
JOURNAL = "acmeCo/users/capture=acmeCo%2Fsource-fake"
SOURCE = f"{JOURNAL};materialize/acmeCo/fake-mat/users"


def run(catalog: Path, state: Path, *extra: str) -> Any:
    return connector_kit("run", "--source", catalog, "--state-dir", state, *extra)


def rows(directory: Path) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The fake destination's `users` rows by unpacked key."""
    table = fake_tables(directory)["rows"].get("users", {})
    return {unpack(base64.b64decode(key)): doc for key, doc in table.items()}


def journal_path(state: Path) -> Path:
    return StateDirectory(state).journal_path(JOURNAL)


def journal_documents(state: Path) -> list[dict[str, Any]]:
    # Split on newlines only: JSON strings may hold U+2028, which str.splitlines() splits on.
    return [json.loads(line) for line in journal_path(state).read_bytes().split(b"\n") if line]


def kinds(requests: list[dict[str, Any]]) -> list[str]:
    return [next(iter(r)) for r in requests]


def test_run_stores_every_captured_document_with_flow_packing(tmp_path: Path) -> None:
    catalog = write_run_catalog(tmp_path)

    result = run(catalog, tmp_path / "state")

    assert result.code == 0, result.stderr
    stored = rows(tmp_path)
    assert sorted(stored) == [(1,), (2,), (3,), (4,)]
    assert [stored[(n,)]["name"] for n in range(1, 5)] == [f"user-{n}" for n in range(1, 5)]
    uuids = {doc["_meta"]["uuid"] for doc in stored.values()}
    assert len(uuids) == 4
    assert PLACEHOLDER not in uuids

    requests = recorded_requests(tmp_path, "materialize-requests.jsonl")
    validate = next(r["validate"] for r in requests if "validate" in r)
    (binding,) = validate["bindings"]
    assert binding["groupBy"] == ["id"]
    assert {p["field"] for p in binding["collection"]["projections"]} == {
        "id",
        "name",
        "flow_document",
        "flow_published_at",
    }
    opened = next(r["open"] for r in requests if "open" in r)
    (spec,) = opened["materialization"]["bindings"]
    assert spec["fieldSelection"] == {
        "keys": ["id"],
        "values": ["flow_published_at", "name"],
        "document": "flow_document",
    }
    assert spec["stateKey"] == "users"
    assert spec["journalReadSuffix"] == "materialize/acmeCo/fake-mat/users"

    stores = [r["store"] for r in requests if "store" in r]
    assert len(stores) == 4
    first = stores[0]
    assert unpack(base64.b64decode(first["keyPacked"])) == (1,)
    published_at, name = unpack(base64.b64decode(first["valuesPacked"]))
    assert name == "user-1"
    assert isinstance(published_at, str)
    assert published_at.endswith("Z")
    assert "exists" not in first
    assert "delete" not in first
    # A fresh materialization has stored nothing, so no key can exist: nothing is loaded.
    assert "load" not in kinds(requests)
    commit = [r["startCommit"] for r in requests if "startCommit" in r][-1]
    through = int(commit["runtimeCheckpoint"]["sources"][SOURCE]["readThrough"])
    assert through == journal_path(tmp_path / "state").stat().st_size
    assert kinds(requests)[-1] == "acknowledge"
    assert '"outcome":"finished"' in result.stderr


def test_a_second_run_continues_exactly_where_the_first_stopped(tmp_path: Path) -> None:
    catalog = write_run_catalog(tmp_path)
    state = tmp_path / "state"
    assert run(catalog, state).code == 0
    (tmp_path / "materialize-requests.jsonl").unlink()

    second = run(catalog, state)

    assert second.code == 0, second.stderr
    assert sorted(rows(tmp_path)) == [(n,) for n in range(1, 9)]
    requests = recorded_requests(tmp_path, "materialize-requests.jsonl")
    stores = [unpack(base64.b64decode(r["store"]["keyPacked"])) for r in requests if "store" in r]
    assert stores == [(5,), (6,), (7,), (8,)], "only the new documents are stored again"
    # Keys 5-8 are above every key stored so far, so none of them is loaded.
    assert "load" not in kinds(requests)
    opened_from = [json.loads(line) for line in second.stderr.splitlines() if '"resuming"' in line]
    assert opened_from[0]["fields"]["from"] == "the destination"


def test_materialization_crash_mid_transaction_reports_its_error_and_rerun_loses_nothing(
    tmp_path: Path,
) -> None:
    capture_env = {"FAKE_TXNS": "4", "FAKE_DOCS": "2"}
    catalog = write_run_catalog(
        tmp_path,
        capture_env=capture_env,
        materialize_env={"FAKE_MODE": "crash_in_store", "FAKE_CRASH_AT": "2"},
    )
    state = tmp_path / "state"

    crashed = run(catalog, state, "--txn-docs", "2")

    assert crashed.code == 1
    assert "lost the connection to the warehouse while storing" in crashed.error
    assert "materialization acmeCo/fake-mat" in crashed.error
    assert sorted(rows(tmp_path)) == [(1,), (2,)], "only the first transaction committed"

    catalog = write_run_catalog(tmp_path, capture_env=capture_env)
    (tmp_path / "materialize-requests.jsonl").unlink()
    rerun = run(catalog, state, "--txn-docs", "2")

    assert rerun.code == 0, rerun.stderr
    captured = journal_documents(state)
    ids = [d["id"] for d in captured]
    assert ids == list(range(1, len(ids) + 1)), "the capture lost or repeated nothing"
    stored = rows(tmp_path)
    assert sorted(stored) == [(n,) for n in ids]
    assert all(stored[(d["id"],)] == d for d in captured)
    requests = recorded_requests(tmp_path, "materialize-requests.jsonl")
    stored_again = [
        unpack(base64.b64decode(r["store"]["keyPacked"]))[0] for r in requests if "store" in r
    ]
    assert stored_again == ids[2:], "everything after the first transaction is stored once"


def test_flushed_before_acknowledged_is_a_protocol_error_in_flows_words(tmp_path: Path) -> None:
    catalog = write_run_catalog(
        tmp_path, materialize_env={"FAKE_MODE": "flushed_before_acknowledged"}
    )

    result = run(catalog, tmp_path / "state")

    assert result.code == 1
    assert result.error == (
        "materialization acmeCo/fake-mat: connector sent Flushed before Acknowledged"
    )
    assert fake_tables(tmp_path)["checkpoint"] is None


def test_a_response_during_the_store_phase_is_refused(tmp_path: Path) -> None:
    catalog = write_run_catalog(tmp_path, materialize_env={"FAKE_MODE": "response_during_store"})

    result = run(catalog, tmp_path / "state")

    assert result.code == 1
    # Which one depends on whether StartCommit was already sent when it arrived.
    assert (
        "connector sent Acknowledged during the Store phase, when no responses are allowed"
        in result.error
        or "connector protocol error (expected StartedCommit, got Acknowledged)" in result.error
    )
    record = StateDirectory(tmp_path / "state").materialization_record("acmeCo/fake-mat")
    assert record.checkpoint is None, "the runtime recorded nothing of the broken transaction"


def test_a_materialization_that_never_answers_is_stopped_by_the_connector_timeout(
    tmp_path: Path,
) -> None:
    catalog = write_run_catalog(tmp_path, materialize_env={"FAKE_MODE": "hang_at_flush"})

    result = run(catalog, tmp_path / "state", "--connector-timeout", "2s")

    assert result.code == 1
    assert result.error == (
        "materialization acmeCo/fake-mat: connector sent nothing for 2s while the runtime "
        "waited for Flushed; it may be stuck (raise --connector-timeout if it needs longer)"
    )
    assert fake_tables(tmp_path)["checkpoint"] is None


def test_a_document_violating_its_schema_commits_nothing_of_its_transaction(
    tmp_path: Path,
) -> None:
    catalog = write_run_catalog(tmp_path, capture_env={"FAKE_MODE": "schema_violation"})
    state = tmp_path / "state"

    result = run(catalog, state)

    assert result.code == 1
    assert "does not match the collection's schema at /id" in result.error
    assert "s3cr3t" not in result.stderr
    assert [d["id"] for d in journal_documents(state)] == [1, 2]
    assert set(rows(tmp_path)) <= {(1,), (2,)}
    record = json.loads((state / "captures" / "acmeCo%2Fsource-fake.json").read_text())
    assert record["connectorState"] == {"bindingStateV1": {"users": {"cursor": 2}}}


def test_a_required_field_the_connector_forbids_is_an_error_naming_binding_and_field(
    tmp_path: Path,
) -> None:
    catalog = write_run_catalog(
        tmp_path,
        materialize_env={"FAKE_MODE": "forbid_name"},
        fields={"recommended": True, "require": {"name": {}}},
    )

    result = run(catalog, tmp_path / "state")

    assert result.code == 1
    assert "materialization acmeCo/fake-mat binding 0 (collection acmeCo/users" in result.error
    assert (
        "conflict for field 'name': field is required by the binding's `fields.require` but "
        "field is forbidden by the connector (fake says field_forbidden)"
    ) in result.error


def test_a_recommended_field_the_connector_forbids_is_left_out(tmp_path: Path) -> None:
    catalog = write_run_catalog(tmp_path, materialize_env={"FAKE_MODE": "forbid_name"})

    result = run(catalog, tmp_path / "state")

    assert result.code == 0, result.stderr
    opened = next(
        r["open"] for r in recorded_requests(tmp_path, "materialize-requests.jsonl") if "open" in r
    )
    selection = opened["materialization"]["bindings"][0]["fieldSelection"]
    assert selection["values"] == ["flow_published_at"]


def test_a_deletion_reduces_into_a_store_with_delete(tmp_path: Path) -> None:
    schema = {
        **USERS_SCHEMA,
        "if": {"properties": {"_meta": {"properties": {"op": {"const": "d"}}}}},
        "then": {"reduce": {"strategy": "merge", "delete": True}},
    }
    # As with estuary-cdk's documents, every document says what it is: a document without
    # `_meta/op` passes the `if` and would count as a deletion.
    first = [
        {"id": 1, "name": "a", "_meta": {"op": "c"}},
        {"id": 2, "name": "b", "_meta": {"op": "c"}},
    ]
    script = tmp_path / "script.json"
    script.write_text(json.dumps([first]))
    catalog = write_run_catalog(
        tmp_path,
        capture_env={"FAKE_SCRIPT": str(script)},
        collections={"acmeCo/users": {"schema": schema, "key": ["/id"]}},
    )
    state = tmp_path / "state"
    assert run(catalog, state).code == 0
    second = [{"id": 1, "_meta": {"op": "d"}}, {"id": 2, "name": "c", "_meta": {"op": "u"}}]
    script.write_text(json.dumps([first, second]))

    result = run(catalog, state)

    assert result.code == 0, result.stderr
    assert {key: doc["name"] for key, doc in rows(tmp_path).items()} == {(2,): "c"}
    requests = recorded_requests(tmp_path, "materialize-requests.jsonl")
    stores = [r["store"] for r in requests if "store" in r]
    deletion = next(s for s in stores if s.get("delete"))
    assert unpack(base64.b64decode(deletion["keyPacked"])) == (1,)
    assert deletion["exists"] is True
    assert deletion["doc"]["name"] == "a", "the deletion is merged into the stored document"
    assert deletion["doc"]["_meta"]["op"] == "d"


def test_sigint_stops_at_a_transaction_boundary(tmp_path: Path) -> None:
    catalog = write_run_catalog(tmp_path, capture_env={"FAKE_LINGER": "1"})
    state = tmp_path / "state"
    stderr = tmp_path / "stderr"
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "connector_kit.cli",
                "run",
                "--source",
                str(catalog),
                "--state-dir",
                str(state),
            ],
            stderr=err,
            stdout=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 60
        while len(rows(tmp_path)) < 4:
            assert process.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, "the run never materialized the documents"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    logs = stderr.read_text()
    assert code == 0, logs
    assert "stopping every task at its next transaction boundary" in logs
    assert '"outcome":"stopped"' in logs
    assert sorted(rows(tmp_path)) == [(1,), (2,), (3,), (4,)]


def test_a_second_run_on_a_locked_state_directory_is_refused(tmp_path: Path) -> None:
    catalog = write_run_catalog(tmp_path, capture_env={"FAKE_LINGER": "1"})
    state = tmp_path / "state"
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connector_kit.cli",
            "run",
            "--source",
            str(catalog),
            "--state-dir",
            str(state),
        ],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not rows(tmp_path):
            assert time.monotonic() < deadline
            assert first.poll() is None
            time.sleep(0.1)
        second = run(catalog, state)
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    assert second.code == 1
    assert f"state directory {state} is in use by another `connector-kit run`" in second.error


def test_journaled_documents_are_the_captured_ones_with_a_uuid_whatever_their_shape(
    tmp_path: Path,
) -> None:
    documents = [
        {"id": 1, "name": "no meta"},
        {"_meta": {"op": "c"}, "id": 2, "name": "meta first"},
        {"_meta": {}, "id": 3},
        {"id": 4, "_meta": {"op": "u"}, "name": "meta last"},
        {"_meta": {"uuid": "set-by-the-connector", "op": "u"}, "id": 5},
        {"id": 6, "name": "ünïcödé ✓ \u2028", "nested": {"_meta": {"x": 1}}},
    ]
    script = tmp_path / "script.json"
    script.write_text(json.dumps([documents]))
    schema = {**USERS_SCHEMA, "properties": {"id": {"type": "integer"}}}
    catalog = write_run_catalog(
        tmp_path,
        capture_env={"FAKE_SCRIPT": str(script)},
        collections={"acmeCo/users": {"schema": schema, "key": ["/id"]}},
    )

    result = run(catalog, tmp_path / "state")

    assert result.code == 0, result.stderr
    journaled = journal_documents(tmp_path / "state")
    uuids = [doc["_meta"].pop("uuid") for doc in journaled]
    assert len(set(uuids)) == len(documents)
    assert "set-by-the-connector" not in uuids, "the runtime sets every document's UUID"
    expected = json.loads(json.dumps(documents))
    for doc in expected:
        doc.setdefault("_meta", {}).pop("uuid", None)
    assert journaled == expected
