"""The Singer shim against scripted tap executables: catalogs, state, versions and batches."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from .driver import open_request, run_shim, singer_shim_argv
from .scenario import Scenario

SECRET = "tap-password-98765"
CONFIG = {"password": SECRET, "path": "/data"}
ABOUT = {
    "name": "tap-fake",
    "settings": {
        "type": "object",
        "properties": {"password": {"type": "string", "secret": True}, "path": {"type": "string"}},
    },
}
CATALOG = {
    "streams": [
        {
            "tap_stream_id": "people",
            "stream": "people",
            "key_properties": ["id"],
            "schema": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "replication_key": "updated",
            "metadata": [
                {
                    "breadcrumb": [],
                    "metadata": {
                        "inclusion": "available",
                        "selected-by-default": True,
                        "valid-replication-keys": ["updated"],
                        "table-key-properties": ["id"],
                    },
                },
                {"breadcrumb": ["properties", "id"], "metadata": {"inclusion": "automatic"}},
                {"breadcrumb": ["properties", "name"], "metadata": {"inclusion": "available"}},
                {"breadcrumb": ["properties", "blob"], "metadata": {"inclusion": "unsupported"}},
            ],
        },
        {
            "tap_stream_id": "lines",
            "schema": {"type": "object", "properties": {"text": {"type": "string"}}},
            "metadata": [{"breadcrumb": [], "metadata": {"selected-by-default": False}}],
        },
        {
            "tap_stream_id": "pk/odd",
            "key_properties": ["/already/pointer", "a/b"],
            "schema": {"type": "object"},
            "metadata": [],
        },
        {
            "tap_stream_id": "views",
            "schema": {},
            "metadata": [{"breadcrumb": [], "metadata": {"inclusion": "unsupported"}}],
        },
    ]
}
PEOPLE = {
    "resource": {
        "stream": "people",
        "replicationMethod": "INCREMENTAL",
        "replicationKey": "updated",
    }
}
LINES = {"resource": {"stream": "lines"}, "key": ["/_meta/row_id"]}


def rec(stream: str, record: dict[str, Any], version: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": record}
    if version is not None:
        message["version"] = version
    return message


def state(bookmarks: dict[str, Any], **rest: Any) -> dict[str, Any]:
    return {"type": "STATE", "value": {"bookmarks": bookmarks, **rest}}


def activate(stream: str, version: int) -> dict[str, Any]:
    return {"type": "ACTIVATE_VERSION", "stream": stream, "version": version}


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    s = Scenario(tmp_path)
    s.on("about", ABOUT)
    s.on("discover", CATALOG)
    return s


def sync(scenario: Scenario, *bindings: dict[str, Any], state: Any = None) -> Any:
    request = open_request(config=CONFIG, bindings=bindings, path_keys=["stream"], state=state)
    return run_shim(singer_shim_argv(*scenario.singer_command()), [request], env=scenario.env)


def test_spec_takes_the_config_schema_from_about_with_secrets_marked(scenario: Scenario) -> None:
    run = run_shim(
        singer_shim_argv(*scenario.singer_command()),
        [{"spec": {"connectorType": "IMAGE"}}],
        env=scenario.env,
        keep_stdin_open=False,
    )
    assert run.code == 0, run.stderr
    spec = run.of("spec")[0]
    assert spec["configSchema"] == ABOUT["settings"]
    assert spec["resourcePathPointers"] == ["/stream"]


def test_spec_of_a_tap_without_about_accepts_any_config(scenario: Scenario) -> None:
    scenario.on("about", "usage: tap [-h] -c CONFIG", exit=2)
    run = run_shim(
        singer_shim_argv(*scenario.singer_command()),
        [{"spec": {"connectorType": "IMAGE"}}],
        env=scenario.env,
        keep_stdin_open=False,
    )
    assert run.code == 0, run.stderr
    assert run.of("spec")[0]["configSchema"]["type"] == "object"


def test_discover_maps_key_properties_replication_and_selection(scenario: Scenario) -> None:
    run = run_shim(
        singer_shim_argv(*scenario.singer_command()),
        [{"discover": {"config": CONFIG}}],
        env=scenario.env,
        keep_stdin_open=False,
    )
    assert run.code == 0, run.stderr
    people, lines, odd = run.of("discovered")[0]["bindings"]
    assert people["key"] == ["/id"]
    assert people["resourceConfig"] == PEOPLE["resource"]
    assert "disable" not in people
    assert lines["key"] == ["/_meta/row_id"]
    assert lines["resourceConfig"] == {"stream": "lines", "replicationMethod": "FULL_TABLE"}
    assert lines["disable"] is True, "streams not selected by default start disabled"
    assert odd["key"] == ["/already/pointer", "/a~1b"]
    assert odd["recommendedName"] == "pk/odd"
    assert scenario.calls("discover")[0]["config"] == CONFIG


def test_sync_selects_exactly_the_bound_streams_and_their_fields(scenario: Scenario) -> None:
    scenario.on("sync")
    run = sync(scenario, PEOPLE)
    assert run.code == 0, run.stderr
    call = scenario.calls("sync")[0]
    assert "state" not in call, "a first run passes no --state"
    people, lines, *_ = call["catalog"]["streams"]
    stream_md = {tuple(m["breadcrumb"]): m["metadata"] for m in people["metadata"]}
    assert stream_md[()]["selected"] is True
    assert stream_md[()]["replication-method"] == "INCREMENTAL"
    assert stream_md[()]["replication-key"] == "updated"
    assert stream_md[("properties", "name")]["selected"] is True
    assert "selected" not in stream_md[("properties", "blob")]
    assert lines["metadata"][0]["metadata"]["selected"] is False


def test_state_bookmarks_are_split_per_binding_and_only_changes_are_patched(
    scenario: Scenario,
) -> None:
    scenario.on(
        "sync",
        rec("people", {"id": 1}),
        state({"people": {"updated": "2024-01-02"}, "other": {"x": 1}}, currently_syncing="people"),
        state({"people": {"updated": "2024-01-02"}}, currently_syncing="people"),
        rec("lines", {"text": "hi"}),
        state({"people": {"updated": "2024-01-02"}, "lines": {"n": 1}}),
    )
    before = {"bindingStateV1": {"lines": {"rowId": 0, "snapshotRows": 0}}}
    run = sync(scenario, PEOPLE, LINES, state=before)
    assert run.code == 0, run.stderr
    assert [cp["updated"] for cp in run.checkpoints] == [
        {
            "bindingStateV1": {"people": {"singerBookmark": '{"updated":"2024-01-02"}'}},
            "singerState": '{"currently_syncing":"people"}',
        },
        {
            "bindingStateV1": {
                "lines": {"singerBookmark": '{"n":1}', "rowId": 1, "snapshotRows": 0}
            },
            "singerState": None,
        },
        {"bindingStateV1": {"lines": {"rowId": 0, "snapshotRows": 1}}},
    ]
    assert any("bookmark for stream 'other'" in m for m in run.messages("warn"))
    scenario.on("sync")
    sync(scenario, PEOPLE, LINES, state=run.final_state(before))
    assert scenario.calls("sync")[1]["state"] == {
        "bookmarks": {"people": {"updated": "2024-01-02"}, "lines": {"n": 1}}
    }


def test_activate_version_deletes_rows_past_a_keyless_versions_end(scenario: Scenario) -> None:
    scenario.on(
        "sync", *(rec("lines", {"text": t}, version=1) for t in "abc"), activate("lines", 1)
    )
    first = sync(scenario, LINES)
    assert [d["_meta"] for d in first.documents] == [
        {"version": 1, "row_id": 0},
        {"version": 1, "row_id": 1},
        {"version": 1, "row_id": 2},
    ]
    scenario.on("sync", rec("lines", {"text": "z"}, version=2), activate("lines", 2))
    second = sync(scenario, LINES, state=first.final_state())
    assert second.documents == [
        {"text": "z", "_meta": {"version": 2, "row_id": 0}},
        {"_meta": {"row_id": 1, "op": "d"}},
        {"_meta": {"row_id": 2, "op": "d"}},
    ]


def test_activate_version_deletes_keys_the_superseded_version_had(scenario: Scenario) -> None:
    scenario.on(
        "sync",
        activate("people", 1),
        *(rec("people", {"id": i}, version=1) for i in (1, 2, 3)),
        activate("people", 1),
    )
    first = sync(scenario, PEOPLE)
    assert first.code == 0, first.stderr
    assert all(d["_meta"] == {"version": 1} for d in first.documents)
    scenario.on(
        "sync",
        *(rec("people", {"id": i}, version=2) for i in (1, 3)),
        activate("people", 2),
    )
    second = sync(scenario, PEOPLE, state=first.final_state())
    assert second.documents[-1] == {"id": 2, "_meta": {"op": "d", "version": 2}}
    assert len(second.documents) == 3


def test_activating_a_version_not_read_whole_keeps_rows_and_says_so(scenario: Scenario) -> None:
    scenario.on("sync", rec("people", {"id": 1}, version=5), activate("people", 5))
    state = {"bindingStateV1": {"people": {"version": 5, "versionKeys": "[[1],[2]]"}}}
    run = sync(scenario, PEOPLE, state=state)
    assert run.code == 0, run.stderr
    assert run.documents == [{"id": 1, "_meta": {"version": 5}}]
    assert any("superseded version had is unknown" in m for m in run.messages("warn"))


def test_batch_messages_are_read_from_their_files(scenario: Scenario, tmp_path: Path) -> None:
    batch = tmp_path / "batch-1.jsonl.gz"
    with gzip.open(batch, "wt") as f:
        f.write(json.dumps({"id": 10}) + "\n" + json.dumps({"id": 11}) + "\n")
    message = {
        "type": "BATCH",
        "stream": "people",
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "manifest": [batch.as_uri()],
    }
    scenario.on("sync", message, state({"people": {"updated": "b"}}))
    run = sync(scenario, PEOPLE)
    assert run.code == 0, run.stderr
    assert run.committed_documents() == [{"id": 10}, {"id": 11}]


def test_a_tap_that_crashes_leaves_its_last_records_uncommitted(scenario: Scenario) -> None:
    scenario.on(
        "sync",
        rec("people", {"id": 1}),
        state({"people": {"updated": "a"}}),
        rec("people", {"id": 2}),
        stderr=["CRITICAL connection reset by peer"],
        exit=1,
    )
    run = sync(scenario, PEOPLE)
    assert run.code == 1
    assert "connection reset by peer" in run.last_error
    assert run.committed_documents() == [{"id": 1}]


def test_records_of_unselected_streams_and_stray_text_are_skipped(scenario: Scenario) -> None:
    scenario.on(
        "sync",
        "INFO starting up",
        rec("lines", {"text": "automatic stream"}),
        rec("people", {"id": 1}),
        state({"people": {"updated": "a"}}),
    )
    run = sync(scenario, PEOPLE)
    assert run.code == 0, run.stderr
    assert run.documents == [{"id": 1}]
    warnings = run.messages("warn")
    assert any("record for stream 'lines'" in m for m in warnings)
    assert any("not a protocol message" in m for m in warnings)
    assert SECRET not in run.stderr
