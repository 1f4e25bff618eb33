"""The materialize transaction state machine, driven in-process against an in-memory toy."""

from __future__ import annotations

import base64
import io
import re
import tempfile
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from connector_kit.errors import ConfigError, ProtocolError
from connector_kit.materialize import FaultPoints, MaterializeConnector
from connector_kit.materialize.config import resource_schema
from connector_kit.tuple import pack
from connector_kit.wire import ConnectorIO, LineWriter, SecretMask

from .toy_materialization import toy_connector


def collection() -> dict[str, Any]:
    return {
        "name": "acmeCo/things",
        "key": ["/id"],
        "projections": [
            {
                "ptr": "/id",
                "field": "id",
                "isPrimaryKey": True,
                "inference": {"types": ["integer"]},
            },
            {"ptr": "/name", "field": "name", "inference": {"types": ["string"]}},
            {"ptr": "", "field": "flow_document", "inference": {"types": ["object"]}},
        ],
    }


def spec(*, document: bool = True) -> dict[str, Any]:
    selection: dict[str, Any] = {"keys": ["id"], "values": ["name"]}
    if document:
        selection["document"] = "flow_document"
    return {
        "name": "acmeCo/mat",
        "config": {},
        "bindings": [
            {
                "resourceConfig": {"table": "things"},
                "collection": collection(),
                "fieldSelection": selection,
            },
            {
                "resourceConfig": {"table": "events"},
                "collection": collection(),
                "fieldSelection": {"keys": ["id"], "values": ["name"]},
                "deltaUpdates": True,
            },
        ],
    }


def b64(values: tuple[Any, ...]) -> str:
    return base64.b64encode(pack(values)).decode()


def store(
    i: int, *, binding: int = 0, exists: bool = False, delete: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "binding": binding,
        "keyPacked": b64((i,)),
        "valuesPacked": b64((f"n{i}",)),
    }
    if binding == 0:
        body["doc"] = {"id": i, "name": f"n{i}"}
    if exists:
        body["exists"] = True
    if delete:
        body["delete"] = True
    return {"store": body}


def serve(connector: MaterializeConnector[Any, Any], requests: list[Any]) -> list[dict[str, Any]]:
    stdin = io.BytesIO(
        b"".join(r if isinstance(r, bytes) else orjson.dumps(r) + b"\n" for r in requests)
    )
    with tempfile.TemporaryFile() as out:
        connector.serve(
            ConnectorIO(requests=stdin, responses=LineWriter(out.fileno()), secrets=SecretMask())
        )
        out.seek(0)
        return [orjson.loads(line) for line in out.read().splitlines()]


def names(responses: list[dict[str, Any]]) -> list[str]:
    return [next(iter(r)) for r in responses]


OPEN = {"open": {"materialization": spec()}}
COMMIT = {"startCommit": {"runtimeCheckpoint": {"sources": {"j": {"readThrough": "1"}}}}}


def test_opened_leaves_out_an_absent_checkpoint_and_returns_a_stored_one() -> None:
    connector, _destination = toy_connector()
    assert serve(connector, [OPEN]) == [{"opened": {}}]
    serve(connector, [OPEN, {"acknowledge": {}}, {"flush": {}}, store(1), COMMIT])
    assert serve(connector, [OPEN]) == [
        {"opened": {"runtimeCheckpoint": COMMIT["startCommit"]["runtimeCheckpoint"]}}
    ]


def test_a_transaction_answers_in_protocol_order() -> None:
    connector, destination = toy_connector()
    serve(connector, [OPEN, {"acknowledge": {}}, {"flush": {}}, store(1), store(2), COMMIT])
    load = {"load": {"binding": 0, "keyPacked": b64((1,))}}
    missing = {"load": {"binding": 0, "keyPacked": b64((9,))}}
    responses = serve(
        connector,
        [
            OPEN,
            {"acknowledge": {}},
            load,
            missing,
            load,
            {"flush": {}},
            store(1, exists=True),
            store(3, binding=1),
            COMMIT,
            {"acknowledge": {}},
        ],
    )
    assert names(responses) == [
        "opened",
        "acknowledged",
        "loaded",
        "flushed",
        "startedCommit",
        "acknowledged",
    ]
    assert responses[2] == {"loaded": {"binding": 0, "doc": {"id": 1, "name": "n1"}}}
    assert destination.loads[-1] == (0, [(1,), (9,)]), "keys are deduplicated and loaded at once"


def test_store_batches_carry_the_lines_and_parse_into_rows() -> None:
    connector, destination = toy_connector()
    requests = [
        OPEN,
        {"acknowledge": {}},
        {"flush": {}},
        store(1, exists=True),
        store(2, delete=True),
    ]
    serve(connector, [*requests, store(5, binding=1), COMMIT])
    (batch,) = destination.batches
    assert [orjson.loads(line) for line in batch.lines.to_pylist()] == [
        store(1, exists=True),
        store(2, delete=True),
        store(5, binding=1),
    ]
    assert list(batch.line_numbers) == [4, 5, 6]
    things, deleted, event = batch.rows()
    assert (things.binding, things.key, things.values, things.doc) == (
        0,
        (1,),
        ("n1",),
        {"id": 1, "name": "n1"},
    )
    assert things.exists
    assert deleted.delete
    assert (event.binding, event.key, event.doc) == (1, (5,), None)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"store":[1]}\n', "request line 4: expected a `store` request"),
        (b'{"store":{"binding":0}\n', "request line 4 is not valid JSON"),
        (b'{"store":{"binding":3,"keyPacked":"FQ=="}}\n', "names binding 3"),
        (b'{"store":{"binding":0,"keyPacked":"FQ=="}}\n', "has no `doc`"),
        (b'{"store":{"binding":1,"keyPacked":"!"}}\n', "store `keyPacked`"),
        (b'{"store":{"binding":1,"keyPacked":"FQ==","exists":1}}\n', "must be booleans"),
    ],
)
def test_a_bad_store_line_is_named_when_its_batch_is_parsed(line: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=re.escape(message)):
        serve(toy_connector()[0], [OPEN, {"acknowledge": {}}, {"flush": {}}, line, COMMIT])


def test_rows_beyond_the_batch_size_are_handed_over_in_order_in_several_batches() -> None:
    connector, destination = toy_connector(store_batch_bytes=200)
    serve(
        connector,
        [OPEN, {"acknowledge": {}}, {"flush": {}}, *[store(i) for i in range(40)], COMMIT],
    )
    batches = destination.batches
    assert len(batches) > 3
    assert [k for b in batches for row in b.rows() for (k,) in [row.key]] == list(range(40))
    assert destination.tables["things"].keys() == {(i,) for i in range(40)}


def test_unary_requests_answer_spec_validate_and_apply() -> None:
    connector, _destination = toy_connector()
    responses = serve(
        connector,
        [
            {"spec": {"connectorType": "LOCAL", "config": {}}},
            {
                "validate": {
                    "name": "acmeCo/mat",
                    "config": {},
                    "bindings": [{"resourceConfig": {"table": "t"}, "collection": collection()}],
                }
            },
            {"apply": {"materialization": spec()}},
            {"apply": {"materialization": spec()}},
        ],
    )
    assert responses[0]["spec"]["protocol"] == 3032023
    assert (
        responses[0]["spec"]["resourceConfigSchema"]["properties"]["table"]["x-collection-name"]
        is True
    )
    assert responses[1]["validated"]["bindings"][0]["resourcePath"] == ["t"]
    assert responses[2] == {"applied": {"actionDescription": "created things\ncreated events"}}
    assert responses[3] == {"applied": {"actionDescription": ""}}


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ([OPEN, {"flush": {}}], "request line 2: `flush` is out of order: expected `acknowledge`"),
        (
            [OPEN, {"acknowledge": {}}, store(1)],
            "request line 3: `store` is out of order: expected `load` or `flush`",
        ),
        (
            [OPEN, {"acknowledge": {}}, {"flush": {}}, store(1), {"flush": {}}],
            "request line 5: `flush` is out of order",
        ),
        (
            [OPEN, {"acknowledge": {}}, {"load": {"binding": 1, "keyPacked": b64((1,))}}],
            "uses delta updates",
        ),
        (
            [OPEN, {"acknowledge": {}}, {"flush": {}}, store(1)],
            "ended in the middle of a transaction",
        ),
        ([{"flush": {}}], "no materialization is open"),
    ],
)
def test_out_of_order_and_malformed_requests_are_protocol_errors(
    requests: list[Any], message: str
) -> None:
    with pytest.raises(
        ProtocolError, match=message.replace("`", ".").replace("(", ".").replace(")", ".")
    ):
        serve(toy_connector()[0], requests)


def test_a_resource_config_without_a_collection_name_annotation_cannot_be_specified() -> None:
    class Unannotated(BaseModel):
        table: str

    with pytest.raises(ConfigError, match="x-collection-name"):
        resource_schema(Unannotated)


@pytest.mark.parametrize("value", ["store:0", ":3", "store:x"])
def test_a_malformed_fault_point_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CONNECTOR_KIT_FAULT_POINT", value)
    with pytest.raises(ConfigError, match="CONNECTOR_KIT_FAULT_POINT"):
        FaultPoints.from_env()


def test_an_unarmed_or_other_fault_point_lets_execution_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CONNECTOR_KIT_FAULT_POINT", raising=False)
    assert not FaultPoints.from_env().armed
    monkeypatch.setenv("CONNECTOR_KIT_FAULT_POINT", "commit.inserted:2")
    faults = FaultPoints.from_env()
    assert faults.armed
    faults.reached("store")
    faults.reached("commit.inserted")  # the first of two: the process lives on, so we get here


def test_a_run_of_stores_ends_at_the_first_other_line_which_is_then_served() -> None:
    """Store lines are taken in bulk; the line after them is still read as its own request."""
    connector, destination = toy_connector()
    stores = [store(i) for i in range(500)]
    responses = serve(
        connector,
        [OPEN, {"acknowledge": {}}, {"flush": {}}, *stores, COMMIT, {"acknowledge": {}}],
    )
    assert names(responses)[-2:] == ["startedCommit", "acknowledged"]
    (batch,) = destination.batches
    assert list(batch.line_numbers) == list(range(4, 504))
    assert [orjson.loads(line) for line in batch.lines.to_pylist()] == stores
    assert destination.tables["things"].keys() == {(i,) for i in range(500)}


def test_an_out_of_order_request_inside_a_run_of_stores_is_named() -> None:
    requests = [OPEN, {"acknowledge": {}}, {"flush": {}}, *[store(i) for i in range(50)]]
    with pytest.raises(ProtocolError, match="request line 54: `load` is out of order"):
        serve(toy_connector()[0], [*requests, {"load": {"keyPacked": "FQ=="}}, COMMIT])


def test_a_store_line_that_is_not_utf8_is_named_even_inside_a_run() -> None:
    bad = orjson.dumps(store(7)).replace(b'"n7"', b'"n\xff"') + b"\n"
    requests = [OPEN, {"acknowledge": {}}, {"flush": {}}, store(1), store(2), bad, store(3)]
    with pytest.raises(ProtocolError, match="request line 6 is not valid UTF-8"):
        serve(toy_connector()[0], [*requests, COMMIT])


def test_a_store_written_with_spaces_is_still_a_store() -> None:
    spaced = b'{ "store": ' + orjson.dumps(store(3)["store"]) + b" }\n"
    connector, destination = toy_connector()
    serve(connector, [OPEN, {"acknowledge": {}}, {"flush": {}}, store(1), spaced, store(2), COMMIT])
    assert destination.tables["things"].keys() == {(1,), (2,), (3,)}
