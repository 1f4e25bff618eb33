from __future__ import annotations

import pyarrow as pa
import pytest

from connector_kit.errors import ConfigError, ConnectorError, ProtocolError
from connector_kit.protocol import PROTOCOL_VERSION
from connector_kit.testing.session import Session, open_request

from .toy_source import ToyData, toy_connector

CONFIG = {"api_token": "tok-super-secret-123"}


def events(n: int, start: int = 1) -> list[dict[str, int]]:
    return [{"id": i, "v": i * 10} for i in range(start, start + n)]


async def test_spec_follows_a_probe_spec_in_the_same_process() -> None:
    out = await Session(
        toy_connector(ToyData()),
        [{"spec": {"connectorType": "IMAGE", "config": {}}}, {"spec": {"connectorType": "IMAGE"}}],
    ).run()
    assert out.error is None
    assert len(out.lines) == 2
    spec = out.lines[1]["spec"]
    assert spec["protocol"] == PROTOCOL_VERSION == 3032023
    assert spec["configSchema"]["properties"]["api_token"]["secret"] is True
    assert spec["resourcePathPointers"] == ["/name"]
    assert spec["resourceConfigSchema"]["required"] == ["name"]
    assert spec["documentationUrl"] == "https://example.com/toy"


async def test_discover_offers_every_resource_with_its_key_and_schema() -> None:
    out = await Session(toy_connector(ToyData()), [{"discover": {"config": CONFIG}}]).run()
    bindings = out.lines[0]["discovered"]["bindings"]
    assert [b["recommendedName"] for b in bindings] == ["events", "history", "table"]
    assert bindings[0]["key"] == ["/id"]
    assert bindings[0]["resourceConfig"] == {"name": "events", "interval": "PT1M"}
    assert bindings[0]["documentSchema"]["required"] == ["id", "v"]
    assert bindings[2]["disable"] is True
    assert "disable" not in bindings[0]
    table = bindings[2]["documentSchema"]
    assert table["properties"]["_meta"]["required"] == ["row_id"]
    assert table["else"] == {"required": ["name"]}


async def test_invalid_config_names_the_field() -> None:
    out = await Session(
        toy_connector(ToyData()), [{"discover": {"config": {"page_size": 0}}}]
    ).run()
    assert isinstance(out.error, ConfigError)
    assert "`api_token`: Field required" in str(out.error)
    assert "`page_size`" in str(out.error)
    assert out.lines == []


async def test_validate_returns_resource_paths_in_binding_order() -> None:
    request = {
        "validate": {
            "name": "acmeCo/toy",
            "config": CONFIG,
            "bindings": [
                {
                    "resourceConfig": {"name": "history"},
                    "collection": {"name": "a/h", "key": ["/id"]},
                },
                {
                    "resourceConfig": {"name": "events"},
                    "collection": {"name": "a/e", "key": ["/id"]},
                },
            ],
        }
    }
    out = await Session(toy_connector(ToyData()), [request]).run()
    assert out.lines == [
        {"validated": {"bindings": [{"resourcePath": ["history"]}, {"resourcePath": ["events"]}]}}
    ]


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ([{"name": "events"}, {"name": "events"}], "bindings 0 and 1 both capture"),
        ([{"name": "nope"}], "does not offer"),
        (
            [{"name": "events", "interval": "soon"}],
            "binding 0 resource config is invalid: `interval`",
        ),
    ],
)
async def test_validate_rejects_bad_bindings(resources: list[dict[str, str]], message: str) -> None:
    request = {
        "validate": {
            "config": CONFIG,
            "bindings": [
                {"resourceConfig": r, "collection": {"name": "a/x", "key": ["/id"]}}
                for r in resources
            ],
        }
    }
    out = await Session(toy_connector(ToyData()), [request]).run()
    assert isinstance(out.error, ConfigError)
    assert message in str(out.error)


async def test_malformed_request_line_names_the_line() -> None:
    out = await Session(toy_connector(ToyData()), [{"spec": {}}, {"bogus": 1}]).run()
    assert isinstance(out.error, ProtocolError)
    assert "line 2" in str(out.error)


async def test_incremental_checkpoints_each_cursor_and_resumes_without_reemitting() -> None:
    data = ToyData(events=events(5))
    bindings = [{"resource": {"name": "events"}}]
    first = await Session(
        toy_connector(data), [open_request(config=CONFIG, bindings=bindings)]
    ).run()
    assert first.error is None
    assert first.lines[0] == {"opened": {}} or first.lines[0]["opened"] == {
        "explicitAcknowledgements": True
    }
    assert [d["id"] for d in first.documents] == [1, 2, 3, 4, 5]
    state = first.final_state()
    assert state == {"bindingStateV1": {"events": {"inc": {"cursor": 50}}}}
    # Each document is followed by the checkpoint that commits it.
    kinds = [next(iter(m)) for m in first.lines[1:]]
    assert kinds[:11] == ["sourcedSchema"] + ["captured", "checkpoint"] * 5
    # The immediate re-poll finds nothing new; its schema is committed at the same cursor.
    assert kinds[11:] == ["sourcedSchema", "checkpoint"]

    data.events += events(2, start=6)
    second = await Session(
        toy_connector(data), [open_request(config=CONFIG, bindings=bindings, state=state)]
    ).run()
    assert [d["id"] for d in second.documents] == [6, 7]


async def test_decreasing_cursor_is_an_error_naming_resource_and_values() -> None:
    data = ToyData(events=events(3), go_backwards=True)
    out = await Session(
        toy_connector(data),
        [open_request(config=CONFIG, bindings=[{"resource": {"name": "events"}}], state=None)],
    ).run()
    assert isinstance(out.error, ConnectorError)
    assert "resource 'events'" in str(out.error)
    assert "must strictly increase" in str(out.error)


async def test_failing_fetch_loses_no_data_and_checkpoints_nothing_past_it() -> None:
    data = ToyData(events=events(4), fail_after=2)
    out = await Session(
        toy_connector(data),
        [open_request(config=CONFIG, bindings=[{"resource": {"name": "events"}}])],
    ).run()
    assert isinstance(out.error, ConnectorError)
    assert "resource 'events' (binding 0) failed: RuntimeError: the source fell over" in str(
        out.error
    )
    assert out.final_state()["bindingStateV1"]["events"]["inc"]["cursor"] == 20
    assert [d["id"] for d in out.documents] == [1, 2]


async def test_backfill_resumes_from_its_watermark() -> None:
    data = ToyData(history=[{"id": i} for i in range(1, 8)])
    bindings = [{"resource": {"name": "history"}}]
    out = await Session(toy_connector(data), [open_request(config=CONFIG, bindings=bindings)]).run()
    crashed = out.through_checkpoint(1)
    assert [d["id"] for d in crashed.documents] == [1, 2, 3]
    state = crashed.final_state()
    assert state["bindingStateV1"]["history"]["backfill"] == {"page": 3}
    rest = await Session(
        toy_connector(data), [open_request(config=CONFIG, bindings=bindings, state=state)]
    ).run()
    assert rest.error is None
    assert [d["id"] for d in rest.documents] == [4, 5, 6, 7]
    assert rest.final_state(state)["bindingStateV1"]["history"]["backfill"] == {"done": True}


async def test_snapshot_adds_row_ids_and_deletes_vanished_rows() -> None:
    data = ToyData(table=[{"name": "a"}, {"name": "b"}, {"name": "c"}])
    bindings = [{"resource": {"name": "table"}, "key": ["/_meta/row_id"]}]
    first = await Session(
        toy_connector(data), [open_request(config=CONFIG, bindings=bindings)]
    ).run()
    assert first.documents == [
        {"name": "a", "_meta": {"row_id": 0}},
        {"name": "b", "_meta": {"row_id": 1}},
        {"name": "c", "_meta": {"row_id": 2}},
    ]
    state = first.final_state()
    state["bindingStateV1"]["table"]["snapshot"]["finished_at"] = "2000-01-01T00:00:00+00:00"
    data.table = [{"name": "a"}]
    second = await Session(
        toy_connector(data), [open_request(config=CONFIG, bindings=bindings, state=state)]
    ).run()
    assert second.documents == [
        {"name": "a", "_meta": {"row_id": 0}},
        {"_meta": {"row_id": 1, "op": "d"}},
        {"_meta": {"row_id": 2, "op": "d"}},
    ]


async def test_merge_patch_checkpoints_never_wipe_other_bindings() -> None:
    data = ToyData(events=events(2), history=[{"id": 1}])
    bindings = [{"resource": {"name": "events"}}, {"resource": {"name": "history"}}]
    out = await Session(toy_connector(data), [open_request(config=CONFIG, bindings=bindings)]).run()
    assert all(cp.get("mergePatch") is True for cp in out.checkpoints)
    state = out.final_state()
    assert set(state["bindingStateV1"]) == {"events", "history"}
    assert {d["id"] for d in out.documents_of(1)} == {1}


async def test_bumped_backfill_counter_restarts_only_that_binding() -> None:
    data = ToyData(events=events(3), history=[{"id": 1}, {"id": 2}])
    bindings = [{"resource": {"name": "events"}}, {"resource": {"name": "history"}}]
    first = await Session(
        toy_connector(data), [open_request(config=CONFIG, bindings=bindings)]
    ).run()
    state = first.final_state()
    bumped = [{"resource": {"name": "events"}, "backfill": 1}, {"resource": {"name": "history"}}]
    second = await Session(
        toy_connector(data), [open_request(config=CONFIG, bindings=bumped, state=state)]
    ).run()
    assert [d["id"] for d in second.documents_of(0)] == [1, 2, 3]
    assert second.documents_of(1) == []
    final = second.final_state(state)["bindingStateV1"]
    assert "events" not in final
    assert final["events.v1"] == {"inc": {"cursor": 30}}
    assert final["history"] == {"backfill": {"done": True}}


async def test_explicit_acknowledgements_reach_the_resource() -> None:
    data = ToyData(events=events(3))
    out = await Session(
        toy_connector(data),
        [open_request(config=CONFIG, bindings=[{"resource": {"name": "events"}}])],
        acks=True,
    ).run()
    assert out.lines[0] == {"opened": {"explicitAcknowledgements": True}}
    assert out.error is None
    # One call per checkpoint, in order; the re-poll's schema checkpoint stays at 30.
    assert data.acknowledged == [10, 20, 30, 30]


async def test_pydantic_documents_are_serialized_by_alias() -> None:
    data = ToyData(events=[{"id": 1, "v": 5, "extra": "kept"}], yield_models=True)
    out = await Session(
        toy_connector(data),
        [open_request(config=CONFIG, bindings=[{"resource": {"name": "events"}}])],
    ).run()
    assert out.documents == [{"id": 1, "v": 5, "extra": "kept"}]


async def test_unknown_binding_resource_is_a_config_error() -> None:
    out = await Session(
        toy_connector(ToyData()),
        [open_request(config=CONFIG, bindings=[{"resource": {"name": "gone"}}])],
    ).run()
    assert isinstance(out.error, ConfigError)
    assert "binding 0 names resource 'gone'" in str(out.error)
    assert out.lines == []


async def test_record_batches_are_captured_row_by_row() -> None:
    from connector_kit.capture.documents import LineEncoder

    batch = pa.RecordBatch.from_pylist([{"id": 1, "tags": ["x"]}, {"id": 2, "tags": []}])
    lines = list(LineEncoder(4).captured(batch))
    assert lines == [
        b'{"captured":{"binding":4,"doc":{"id":1,"tags":["x"]}}}\n',
        b'{"captured":{"binding":4,"doc":{"id":2,"tags":[]}}}\n',
    ]


async def test_only_documents_marked_deleted_reduce_as_deletions() -> None:
    import jsonschema

    out = await Session(toy_connector(ToyData()), [{"discover": {"config": CONFIG}}]).run()
    schema = out.lines[0]["discovered"]["bindings"][2]["documentSchema"]
    is_deletion = jsonschema.Draft202012Validator(schema["if"]).is_valid
    assert not is_deletion({"name": "a", "_meta": {"row_id": 0}})
    assert not is_deletion({"name": "a"})
    assert is_deletion({"_meta": {"row_id": 3, "op": "d"}})
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"_meta": {"row_id": 3, "op": "d"}})
    assert not validator.is_valid({"_meta": {"row_id": 3}}), "a live row still needs its fields"
