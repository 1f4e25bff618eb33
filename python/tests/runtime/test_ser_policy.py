"""A connector's serialization policy truncates what the runtime sends it, as Flow's does."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from connector_kit.runtime.ser_policy import Truncation
from connector_kit.tuple import unpack

from .fake_catalog import connector_kit, fake_tables, recorded_requests, write_run_catalog

POLICY = Truncation(strings=5, arrays=2, nested_objects=1)


def test_strings_keep_whole_characters_within_the_byte_limit() -> None:
    assert POLICY.value("abcdefg") == "abcde"
    assert POLICY.value("éééé") == "éé", "é is two bytes: a third would pass the limit"
    assert POLICY.value("长长") == "长"
    assert POLICY.value("abc") == "abc"


def test_arrays_and_nested_objects_are_cut_but_never_the_root() -> None:
    document = {
        "z": 1,
        "y": 2,
        "x": {"c": 1, "b": {"q": 1, "p": [1, 2, 3]}},
        "w": [[1, 2, 3], 4, 5],
    }
    truncated = orjson.loads(POLICY.document_json(orjson.dumps(document)))
    assert truncated == {"z": 1, "y": 2, "x": {"b": {"p": [1, 2]}}, "w": [[1, 2], 4]}


def test_a_document_within_the_limits_keeps_its_exact_bytes() -> None:
    raw = b'{"b":"ok","a":[1.0,2],"n":{"k":1e2}}'
    assert POLICY.document_json(raw) is raw


def test_zero_or_missing_limits_mean_no_policy() -> None:
    assert Truncation.of(None) is None
    assert Truncation.of({"strTruncateAfter": 0}) is None
    assert Truncation.of({"arrayTruncateAfter": 3}) == Truncation(arrays=3)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=30,
)


def _within(value: Any, *, root: bool) -> bool:
    if isinstance(value, str):
        return len(value.encode()) <= 5
    if isinstance(value, list):
        return len(value) <= 2 and all(_within(v, root=False) for v in value)
    if isinstance(value, dict):
        return (root or len(value) <= 1) and all(_within(v, root=False) for v in value.values())
    return True


@given(document=st.dictionaries(st.text(max_size=4), json_values, max_size=6))
def test_every_truncated_document_is_within_the_policy_and_keeps_its_root(
    document: dict[str, Any],
) -> None:
    truncated = orjson.loads(POLICY.document_json(orjson.dumps(document)))
    assert _within(truncated, root=True)
    assert truncated.keys() == document.keys()


def test_run_truncates_stored_documents_and_values_but_never_packed_keys(tmp_path: Path) -> None:
    long_id = "an-identifier-longer-than-five-bytes"
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            [[{"id": long_id, "name": "éééé", "tags": [1, 2, 3], "extra": {"b": 1, "a": 2}}]]
        )
    )
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "tags": {"type": "array"},
            "extra": {"type": "object"},
        },
        "required": ["id"],
    }
    catalog = write_run_catalog(
        tmp_path,
        capture_env={"FAKE_SCRIPT": str(script)},
        materialize_env={
            "FAKE_SER_POLICY": json.dumps(
                {"strTruncateAfter": 5, "arrayTruncateAfter": 2, "nestedObjTruncateAfter": 1}
            )
        },
        collections={"acmeCo/users": {"schema": schema, "key": ["/id"]}},
    )
    result = connector_kit("run", "--source", catalog, "--state-dir", tmp_path / "state")
    assert result.code == 0, result.stderr

    ((key, doc),) = fake_tables(tmp_path)["rows"]["users"].items()
    assert unpack(base64.b64decode(key)) == (long_id,), "keys are never truncated"
    assert doc["id"] == "an-id", "the document's own strings are cut, its key field too"
    assert (doc["name"], doc["tags"], doc["extra"]) == ("éé", [1, 2], {"a": 2})
    (store,) = [
        r["store"]
        for r in recorded_requests(tmp_path, "materialize-requests.jsonl")
        if "store" in r
    ]
    opened = next(
        r["open"] for r in recorded_requests(tmp_path, "materialize-requests.jsonl") if "open" in r
    )
    values = opened["materialization"]["bindings"][0]["fieldSelection"]["values"]
    packed = dict(zip(values, unpack(base64.b64decode(store["valuesPacked"])), strict=True))
    assert packed["name"] == "éé"
    assert orjson.loads(packed["tags"]) == [1, 2]
