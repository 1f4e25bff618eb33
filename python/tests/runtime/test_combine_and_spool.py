"""Packing fields, combining a transaction's documents, and the journals and records of a run."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from connector_kit.errors import ConfigError, ProtocolError
from connector_kit.protocol import flow
from connector_kit.runtime.combiner import BindingCombiner
from connector_kit.runtime.journals import JournalReader, JournalWriter
from connector_kit.runtime.packing import FieldPacker
from connector_kit.runtime.publish_clock import PublishClock, published_at
from connector_kit.runtime.reductions import Reducer
from connector_kit.runtime.state_dir import CaptureRecord, JournalHead, StateDirectory
from connector_kit.tuple import unpack

COLLECTION = flow.CollectionSpec(
    name="acmeCo/things",
    key=["/id"],
    uuid_ptr="/_meta/uuid",
    projections=[
        flow.Projection(ptr="/id", field="id"),
        flow.Projection(ptr="/name", field="name"),
        flow.Projection(ptr="/address/city", field="address/city"),
        flow.Projection(ptr="/tags", field="tags"),
        flow.Projection(ptr="/_meta/uuid", field="flow_published_at"),
        flow.Projection(ptr="", field="flow_document"),
    ],
)
DELETES = {
    "type": "object",
    "if": {"properties": {"_meta": {"properties": {"op": {"const": "d"}}}}},
    "then": {"reduce": {"strategy": "merge", "delete": True}},
}


def combiner(*, schema: Any = True, delta: bool = False, binding: int = 0) -> BindingCombiner:
    return BindingCombiner(
        binding=binding,
        keys=FieldPacker(COLLECTION, ["id"]),
        values=FieldPacker(COLLECTION, ["name", "tags"]),
        reducer=Reducer(schema, collection=COLLECTION.name),
        delta_updates=delta,
        with_document=True,
    )


def add(target: BindingCombiner, document: dict[str, Any]) -> None:
    target.add(orjson.dumps(document), document)


def stores(target: BindingCombiner) -> list[dict[str, Any]]:
    return [json.loads(line)["store"] for line, _ in target.drain()]


def decoded(packed: str) -> tuple[Any, ...]:
    return unpack(base64.b64decode(packed))


def test_fields_pack_as_flow_packs_them() -> None:
    clock = PublishClock(producer="acmeCo/source-x")
    clock.begin_group()
    uuid = clock.next_uuid()
    packer = FieldPacker(COLLECTION, ["id", "name", "address/city", "tags", "flow_published_at"])
    document = {
        "id": 7,
        "address": {"city": "Porto"},
        "tags": ["a", {"b": 1}],
        "_meta": {"uuid": uuid},
    }

    values = unpack(packer.pack(document))

    assert values[:4] == (7, None, "Porto", b'["a",{"b":1}]')
    assert values[4] == published_at(uuid)


def test_publish_clock_uuids_are_unique_v1_uuids_with_increasing_times() -> None:
    clock = PublishClock(producer="acmeCo/source-x")
    clock.begin_group()
    first = [clock.next_uuid() for _ in range(3)]
    clock.begin_group()
    later = clock.next_uuid()
    assert len(set(first)) == 3
    assert all(u[14] == "1" for u in [*first, later])
    first_time, later_time = published_at(first[0]), published_at(later)
    assert first_time is not None
    assert later_time is not None
    assert first_time <= later_time
    assert published_at(first[1]) == first_time


def test_documents_of_one_key_combine_and_the_last_write_wins() -> None:
    target = combiner()
    add(target, {"id": 2, "name": "b"})
    add(target, {"id": 1, "name": "a"})
    add(target, {"id": 2, "name": "b2", "tags": [1]})

    stored = stores(target)

    assert [decoded(s["keyPacked"]) for s in stored] == [(1,), (2,)], "in key order"
    assert stored[1]["doc"] == {"id": 2, "name": "b2", "tags": [1]}
    assert decoded(stored[1]["valuesPacked"]) == ("b2", b"[1]")
    assert "binding" not in stored[0], "binding 0 is left out, as proto3 JSON does"


def test_load_requests_skip_keys_above_the_greatest_stored_key() -> None:
    target = combiner(binding=1)
    for n in (1, 5, 9):
        add(target, {"id": n})
    lines = target.load_requests(
        stored_max=FieldPacker(COLLECTION, ["id"]).pack({"id": 5}), optimize=True
    )
    loads = [json.loads(line)["load"] for line in lines.splitlines()]
    assert [decoded(load["keyPacked"]) for load in loads] == [(1,), (5,)]
    assert all(load["binding"] == 1 for load in loads)
    assert target.load_requests(stored_max=None, optimize=True) == b""
    assert len(target.load_requests(stored_max=None, optimize=False).splitlines()) == 3


def test_loaded_documents_are_the_prior_state_and_set_exists() -> None:
    schema = {"reduce": {"strategy": "merge"}, "properties": {"n": {"reduce": {"strategy": "sum"}}}}
    target = combiner(schema=schema)
    add(target, {"id": 1, "n": 2})
    add(target, {"id": 2, "n": 5})
    target.loaded({"id": 1, "n": 10, "name": "old"})

    stored = stores(target)

    assert stored[0]["doc"] == {"id": 1, "n": 12, "name": "old"}
    assert stored[0]["exists"] is True
    assert "exists" not in stored[1]


def test_a_loaded_key_that_was_not_requested_is_a_protocol_error() -> None:
    target = combiner()
    add(target, {"id": 1})
    with pytest.raises(ProtocolError, match="whose key was not loaded"):
        target.loaded({"id": 3})


def test_a_deletion_of_a_stored_document_is_stored_with_delete() -> None:
    target = combiner(schema=DELETES)
    add(target, {"id": 1, "_meta": {"op": "d"}})
    add(target, {"id": 2, "_meta": {"op": "d"}})
    target.loaded({"id": 1, "name": "a", "_meta": {"op": "c"}})

    stored = stores(target)

    assert len(stored) == 1, "a deletion of a document that does not exist is not stored"
    assert stored[0]["delete"] is True
    assert stored[0]["exists"] is True
    assert stored[0]["doc"] == {"id": 1, "name": "a", "_meta": {"op": "d"}}


def test_a_document_after_a_deletion_starts_afresh() -> None:
    target = combiner(schema=DELETES)
    add(target, {"id": 1, "_meta": {"op": "d"}})
    add(target, {"id": 1, "name": "new", "_meta": {"op": "c"}})
    target.loaded({"id": 1, "name": "old", "tags": [1], "_meta": {"op": "u"}})

    (stored,) = stores(target)

    assert stored["doc"] == {"id": 1, "name": "new", "_meta": {"op": "c"}}
    assert "delete" not in stored


def test_delta_updates_store_this_transactions_combination_without_exists() -> None:
    target = combiner(delta=True)
    add(target, {"id": 1, "name": "a"})
    assert target.load_requests(stored_max=None, optimize=False) == b""
    (stored,) = stores(target)
    assert "exists" not in stored


def test_a_journal_opened_again_drops_its_uncommitted_end(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    writer = JournalWriter(path, journal="j", committed=0, sync=True)
    writer.append([b'{"a":1}\n', b'{"a":2}\n'])
    committed = writer.commit()
    writer.append([b'{"a":3}\n'])
    writer.commit()
    writer.close()

    reopened = JournalWriter(path, journal="j", committed=committed, sync=True)
    reopened.close()

    assert path.read_bytes() == b'{"a":1}\n{"a":2}\n'
    reader = JournalReader(path, journal="j", offset=0)
    assert reader.take(head=committed) == b'{"a":1}'
    assert reader.offset == 8
    assert reader.take(head=committed) == b'{"a":2}'
    assert reader.take(head=committed) is None
    assert reader.offset == committed


def test_a_journal_shorter_than_its_committed_length_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b"{}\n")
    with pytest.raises(ConfigError, match="has 3 bytes but its capture committed 10"):
        JournalWriter(path, journal="j", committed=10, sync=False)


def test_records_are_replaced_whole_and_read_back(tmp_path: Path) -> None:
    state = StateDirectory(tmp_path / "state")
    with state.locked(catalog=tmp_path / "flow.yaml"):
        record = CaptureRecord(
            connector_state={"cursor": 3},
            journals={"acmeCo/x/capture=c": JournalHead(collection="acmeCo/x", length=42)},
        )
        state.write_capture_record("acmeCo/source-x", record)
        assert state.capture_record("acmeCo/source-x") == record
        assert state.committed_journals()["acmeCo/x/capture=c"].length == 42
        assert state.capture_record("acmeCo/other") == CaptureRecord()
        assert not list((tmp_path / "state" / "captures").glob(".*.tmp"))


def test_a_damaged_record_says_how_to_start_over(tmp_path: Path) -> None:
    state = StateDirectory(tmp_path / "state")
    with state.locked(catalog=tmp_path / "flow.yaml"):
        (tmp_path / "state" / "captures" / "acmeCo%2Fsource-x.json").write_text("{nope")
        with pytest.raises(ConfigError, match="is damaged"):
            state.capture_record("acmeCo/source-x")
