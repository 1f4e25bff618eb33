"""The Airbyte shim against scripted Airbyte source executables: mapping, state and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from .driver import airbyte_shim_argv, open_request, run_shim
from .scenario import Scenario

SECRET = "sk-live-0123456789"
CONFIG = {"api_key": SECRET, "count": 3}
SPEC = {
    "type": "SPEC",
    "spec": {
        "documentationUrl": "https://example.com/source",
        "connectionSpecification": {
            "type": "object",
            "properties": {
                "api_key": {"type": "string", "airbyte_secret": True},
                "count": {"type": "integer"},
            },
        },
    },
}
USERS = {"resource": {"stream": "users", "syncMode": "incremental", "cursorField": ["n"]}}
ORDERS = {"resource": {"stream": "orders", "syncMode": "incremental", "cursorField": ["n"]}}
TAGS = {"resource": {"stream": "tags", "syncMode": "full_refresh"}, "key": ["/_meta/row_id"]}


def record(stream: str, data: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"stream": stream, "data": data, "emitted_at": 1}
    if namespace:
        body["namespace"] = namespace
    return {"type": "RECORD", "record": body}


def stream_state(stream: str, value: Any, count: int | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": stream}, "stream_state": value},
    }
    if count is not None:
        state["sourceStats"] = {"recordCount": float(count)}
    return {"type": "STATE", "state": state}


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    s = Scenario(tmp_path)
    s.on("spec", {"type": "LOG", "log": {"level": "INFO", "message": "hello"}}, SPEC)
    return s


def capture(scenario: Scenario, *bindings: dict[str, Any], state: Any = None) -> Any:
    request = open_request(
        config=CONFIG, bindings=bindings, path_keys=["namespace", "stream"], state=state
    )
    return run_shim(airbyte_shim_argv(*scenario.airbyte_command()), [request], env=scenario.env)


def test_spec_marks_airbyte_secrets_secret_and_names_resource_path_pointers(
    scenario: Scenario,
) -> None:
    run = run_shim(
        airbyte_shim_argv(*scenario.airbyte_command()),
        [{"spec": {"connectorType": "IMAGE", "config": {}}}, {"spec": {"connectorType": "IMAGE"}}],
        env=scenario.env,
        keep_stdin_open=False,
    )
    assert run.code == 0, run.stderr
    first, second = run.of("spec")
    assert first == second
    assert first["protocol"] == 3032023
    assert first["configSchema"]["properties"]["api_key"]["secret"] is True
    assert first["documentationUrl"] == "https://example.com/source"
    assert first["resourcePathPointers"] == ["/namespace", "/stream"]
    assert first["resourceConfigSchema"]["required"] == ["stream", "syncMode"]
    assert len(scenario.calls("spec")) == 1, "the source's spec is asked once per process"


def test_discover_maps_primary_keys_to_escaped_pointers_and_keyless_streams_to_row_ids(
    scenario: Scenario,
) -> None:
    schema = {"type": "object", "properties": {"a/b": {"type": "object"}}, "required": ["e"]}
    streams = [
        {
            "name": "users",
            "namespace": "crm",
            "json_schema": schema,
            "supported_sync_modes": ["full_refresh", "incremental"],
            "source_defined_cursor": True,
            "default_cursor_field": ["updated_at"],
            "source_defined_primary_key": [["a/b", "c~d"], ["e"]],
        },
        {"name": "tags", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
        {
            "name": "events",
            "json_schema": {},
            "supported_sync_modes": ["incremental"],
            "default_cursor_field": ["ts"],
        },
    ]
    scenario.on("discover", {"type": "CATALOG", "catalog": {"streams": streams}})
    run = run_shim(
        airbyte_shim_argv(*scenario.airbyte_command()),
        [{"discover": {"config": CONFIG}}],
        env=scenario.env,
        keep_stdin_open=False,
    )
    assert run.code == 0, run.stderr
    users, tags, events = run.of("discovered")[0]["bindings"]
    assert users["key"] == ["/a~1b/c~0d", "/e"]
    assert users["recommendedName"] == "users"
    assert users["resourceConfig"] == {
        "stream": "users",
        "syncMode": "incremental",
        "namespace": "crm",
        "cursorField": ["updated_at"],
    }
    assert tags["key"] == ["/_meta/row_id"]
    assert tags["resourceConfig"] == {"stream": "tags", "syncMode": "full_refresh"}
    assert events["key"] == ["/_meta/row_id"], "keyless incremental streams append by row id"
    assert scenario.calls("discover")[0]["config"] == CONFIG
    validator = jsonschema.Draft202012Validator(users["documentSchema"])
    assert not validator.is_valid({"a/b": {}}), "a normal document still needs required fields"
    assert validator.is_valid({"_meta": {"op": "d"}, "a/b": {}}), "a deletion needs only its key"
    row_schema = jsonschema.Draft202012Validator(tags["documentSchema"])
    assert not row_schema.is_valid({"x": 1}), "a keyless document must carry its row id"
    assert row_schema.is_valid({"_meta": {"row_id": 0}})


def test_validate_runs_check_and_refuses_a_failed_check_with_its_message(
    scenario: Scenario,
) -> None:
    scenario.on(
        "check",
        {
            "type": "CONNECTION_STATUS",
            "connectionStatus": {"status": "FAILED", "message": "bad key"},
        },
    )
    request = {
        "validate": {
            "config": CONFIG,
            "bindings": [{"resourceConfig": USERS["resource"], "collection": {"name": "a/u"}}],
        }
    }
    run = run_shim(
        airbyte_shim_argv(*scenario.airbyte_command()),
        [request],
        env=scenario.env,
        keep_stdin_open=False,
    )
    assert run.code == 1
    assert run.lines == []
    assert "refused the config: bad key" in run.last_error


def test_validate_returns_namespace_and_stream_as_resource_path(scenario: Scenario) -> None:
    scenario.on("check", {"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}})
    catalog = {
        "streams": [
            {"name": "users", "namespace": "crm", "supported_sync_modes": ["incremental"]},
            {"name": "tags", "supported_sync_modes": ["full_refresh"]},
        ]
    }
    scenario.on("discover", {"type": "CATALOG", "catalog": catalog})
    bindings = [
        {"stream": "users", "namespace": "crm", "syncMode": "incremental"},
        {"stream": "tags", "syncMode": "full_refresh"},
    ]
    request = {
        "validate": {
            "config": CONFIG,
            "bindings": [{"resourceConfig": b, "collection": {"name": "a/x"}} for b in bindings],
        }
    }
    run = run_shim(
        airbyte_shim_argv(*scenario.airbyte_command()),
        [request],
        env=scenario.env,
        keep_stdin_open=False,
    )
    assert run.code == 0, run.stderr
    assert run.of("validated") == [
        {"bindings": [{"resourcePath": ["crm", "users"]}, {"resourcePath": ["tags"]}]}
    ]


def test_open_reads_with_a_configured_catalog_and_each_bindings_stored_state(
    scenario: Scenario,
) -> None:
    scenario.on("read")
    state = {
        "bindingStateV1": {
            "users": {"airbyteState": '{"n":7,"gone":null}'},
            "orders": {"airbyteState": '{"n":3}'},
        }
    }
    run = capture(scenario, USERS, ORDERS, TAGS, state=state)
    assert run.code == 0, run.stderr
    call = scenario.calls("read")[0]
    assert call["config"] == CONFIG
    assert call["state"] == [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": n}, "stream_state": s}}
        for n, s in (("users", {"n": 7, "gone": None}), ("orders", {"n": 3}))
    ]
    streams = call["catalog"]["streams"]
    assert [s["stream"]["name"] for s in streams] == ["users", "orders", "tags"]
    assert [s["sync_mode"] for s in streams] == ["incremental", "incremental", "full_refresh"]
    assert streams[0]["cursor_field"] == ["n"]
    assert {s["destination_sync_mode"] for s in streams} == {"append"}


def test_stream_state_checkpoints_merge_patch_only_the_binding_it_covers(
    scenario: Scenario,
) -> None:
    scenario.on(
        "read",
        record("users", {"id": 1, "n": 8}),
        stream_state("users", {"n": 8}, count=1),
        record("orders", {"id": 5, "n": 4}),
        stream_state("orders", {"n": 4}, count=1),
    )
    before = {"bindingStateV1": {"users": {"airbyteState": '{"n":7}'}, "tags": {"rowId": 2}}}
    run = capture(scenario, USERS, ORDERS, TAGS, state=before)
    assert run.code == 0, run.stderr
    assert run.checkpoints == [
        {"updated": {"bindingStateV1": {"users": {"airbyteState": '{"n":8}'}}}, "mergePatch": True},
        {
            "updated": {"bindingStateV1": {"orders": {"airbyteState": '{"n":4}'}}},
            "mergePatch": True,
        },
        {
            "updated": {
                "bindingStateV1": {"tags": {"airbyteState": None, "rowId": 0, "snapshotRows": 2}}
            },
            "mergePatch": True,
        },
    ]
    assert run.final_state(before)["bindingStateV1"]["users"] == {"airbyteState": '{"n":8}'}
    assert run.lines[1] == {"captured": {"binding": 0, "doc": {"id": 1, "n": 8}}}


def test_global_state_patches_its_streams_and_is_restored_as_global(scenario: Scenario) -> None:
    message = {
        "type": "STATE",
        "state": {
            "type": "GLOBAL",
            "global": {
                "shared_state": {"lsn": 42},
                "stream_states": [
                    {"stream_descriptor": {"name": "users"}, "stream_state": {"n": 1}},
                    {"stream_descriptor": {"name": "unbound"}, "stream_state": {"n": 9}},
                ],
            },
        },
    }
    scenario.on("read", record("users", {"id": 1}), message)
    first = capture(scenario, USERS, ORDERS)
    assert first.code == 0, first.stderr
    assert first.checkpoints[0]["updated"] == {
        "bindingStateV1": {"users": {"airbyteState": '{"n":1}'}},
        "airbyteGlobal": '{"shared_state":{"lsn":42}}',
    }
    scenario.on("read")
    capture(scenario, USERS, ORDERS, state=first.final_state())
    assert scenario.calls("read")[1]["state"] == [
        {
            "type": "GLOBAL",
            "global": {
                "shared_state": {"lsn": 42},
                "stream_states": [
                    {"stream_descriptor": {"name": "users"}, "stream_state": {"n": 1}}
                ],
            },
        }
    ]


def test_legacy_state_is_kept_whole_and_restored_as_legacy(scenario: Scenario) -> None:
    scenario.on("read", record("users", {"id": 1}), {"type": "STATE", "state": {"data": {"u": 1}}})
    first = capture(scenario, USERS)
    assert first.checkpoints[0]["updated"] == {"airbyteLegacy": '{"u":1}'}
    scenario.on("read")
    capture(scenario, USERS, state=first.final_state())
    assert scenario.calls("read")[1]["state"] == [{"type": "LEGACY", "data": {"u": 1}}]


def test_trace_error_fails_the_capture_and_commits_nothing_after_it(scenario: Scenario) -> None:
    error = {
        "type": "TRACE",
        "trace": {
            "type": "ERROR",
            "emitted_at": 1.0,
            "error": {"message": "quota exhausted", "internal_message": "HTTP 429"},
        },
    }
    scenario.on(
        "read",
        record("users", {"id": 1}),
        stream_state("users", {"n": 1}, count=1),
        record("users", {"id": 2}),
        error,
        exit=1,
    )
    run = capture(scenario, USERS)
    assert run.code == 1
    assert "quota exhausted" in run.last_error
    assert run.committed_documents() == [{"id": 1}]
    assert len(run.checkpoints) == 1


def test_a_source_that_crashes_mid_stream_leaves_its_last_records_uncommitted(
    scenario: Scenario,
) -> None:
    scenario.on(
        "read",
        record("users", {"id": 1}),
        stream_state("users", {"n": 1}),
        record("users", {"id": 2}),
        stderr=["Traceback (most recent call last):", "RuntimeError: disk on fire"],
        exit=3,
    )
    run = capture(scenario, USERS)
    assert run.code == 1
    assert "exited with code 3: RuntimeError: disk on fire" in run.last_error
    assert run.committed_documents() == [{"id": 1}]
    assert run.final_state() == {"bindingStateV1": {"users": {"airbyteState": '{"n":1}'}}}


def test_stray_text_on_the_sources_stdout_is_logged_and_skipped(scenario: Scenario) -> None:
    scenario.on(
        "read",
        "Downloading dataset... done",
        record("users", {"id": 1}),
        stream_state("users", {"n": 1}, count=1),
    )
    run = capture(scenario, USERS)
    assert run.code == 0, run.stderr
    assert run.committed_documents() == [{"id": 1}]
    assert any("not a protocol message" in m for m in run.messages("warn"))


def test_a_message_cut_short_on_stdout_is_an_error_not_a_silent_loss(scenario: Scenario) -> None:
    scenario.on(
        "read",
        record("users", {"id": 1}),
        '{"type": "RECORD", "record": {"stream": "users", "da',
        stream_state("users", {"n": 2}, count=2),
    )
    run = capture(scenario, USERS)
    assert run.code == 1
    assert "starts like a message but is not valid JSON" in run.last_error
    assert run.checkpoints == []


def test_a_state_claiming_more_records_than_arrived_is_refused(scenario: Scenario) -> None:
    scenario.on("read", record("users", {"id": 1}), stream_state("users", {"n": 2}, count=2))
    run = capture(scenario, USERS)
    assert run.code == 1
    assert "covering 2 records, but 1 arrived" in run.last_error
    assert run.checkpoints == []


def test_records_and_state_of_unbound_streams_are_skipped_with_a_log(scenario: Scenario) -> None:
    scenario.on(
        "read",
        record("secrets", {"id": 1}),
        stream_state("secrets", {"n": 1}, count=1),
        record("users", {"id": 2}),
        stream_state("users", {"n": 2}, count=1),
    )
    run = capture(scenario, USERS)
    assert run.code == 0, run.stderr
    assert run.documents == [{"id": 2}]
    assert [list(cp["updated"]["bindingStateV1"]) for cp in run.checkpoints] == [["users"]]
    warnings = run.messages("warn")
    assert any("record for stream 'secrets'" in m for m in warnings)
    assert any("state for stream 'secrets'" in m for m in warnings)


def test_full_refresh_without_a_key_deletes_rows_a_shorter_snapshot_lacks(
    scenario: Scenario,
) -> None:
    scenario.on(
        "read", *(record("tags", {"t": t}) for t in "abc"), stream_state("tags", {"page": 9})
    )
    first = capture(scenario, TAGS)
    assert [d["_meta"]["row_id"] for d in first.documents] == [0, 1, 2]
    scenario.on("read", record("tags", {"t": "z"}))
    second = capture(scenario, TAGS, state=first.final_state())
    assert second.documents == [
        {"t": "z", "_meta": {"row_id": 0}},
        {"_meta": {"row_id": 1, "op": "d"}},
        {"_meta": {"row_id": 2, "op": "d"}},
    ]
    assert second.final_state(first.final_state()) == {
        "bindingStateV1": {"tags": {"rowId": 0, "snapshotRows": 1}}
    }
    assert "state" not in scenario.calls("read")[1], "a completed refresh starts over"


def test_control_config_updates_are_reported_and_their_secrets_masked(scenario: Scenario) -> None:
    rotated = "rotated-token-abcdef"
    control = {
        "type": "CONTROL",
        "control": {
            "type": "CONNECTOR_CONFIG",
            "emitted_at": 1.0,
            "connectorConfig": {"config": {**CONFIG, "api_key": rotated}},
        },
    }
    scenario.on(
        "read",
        control,
        {"type": "LOG", "log": {"level": "INFO", "message": f"using {rotated} and {SECRET}"}},
    )
    run = capture(scenario, USERS)
    assert run.code == 0, run.stderr
    report = next(log for log in run.logs if "updated config" in log["msg"])
    assert report["level"] == "warn"
    assert report["fields"]["changedFields"] == ["api_key"]
    assert rotated not in run.stderr
    assert SECRET not in run.stderr


def test_state_of_removed_bindings_is_dropped(scenario: Scenario) -> None:
    scenario.on("read")
    state = {"bindingStateV1": {"users": {"airbyteState": "{}"}, "old": {"airbyteState": "{}"}}}
    run = capture(scenario, USERS, state=state)
    assert run.checkpoints[0] == {
        "updated": {"bindingStateV1": {"old": None}},
        "mergePatch": True,
    }
    assert run.final_state(state) == {"bindingStateV1": {"users": {"airbyteState": "{}"}}}


def test_closing_stdin_stops_the_capture_at_a_checkpoint(scenario: Scenario) -> None:
    messages: list[Any] = []
    for n in range(50):
        messages += [record("users", {"id": n}), stream_state("users", {"n": n}, count=1)]
    scenario.on("read", *messages, record("users", {"id": 99}))
    request = open_request(config=CONFIG, bindings=[USERS], path_keys=["stream"])
    run = run_shim(
        airbyte_shim_argv(*scenario.airbyte_command()),
        [request],
        env=scenario.env,
        keep_stdin_open=False,
    )
    assert run.code == 0, run.stderr
    assert run.lines[-1].keys() == {"checkpoint"}, "the shim stops only at a checkpoint"
    assert {"id": 99} not in run.documents


def test_a_binding_the_shim_cannot_serve_fails_the_open_before_opened(scenario: Scenario) -> None:
    scenario.on("read")
    run = capture(scenario, USERS, {"resource": {"stream": "orders"}})
    assert run.code != 0
    assert "binding 1 resource config is invalid: `syncMode`: Field required" in run.last_error
    assert run.lines == [], "nothing is answered: the Open failed"
    assert scenario.calls("read") == []
