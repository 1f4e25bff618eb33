"""Reducing documents by a collection schema's `reduce` annotations."""

from __future__ import annotations

from typing import Any

import pytest

from connector_kit.errors import ConfigError
from connector_kit.runtime.reductions import Reducer, ReductionError

DELETES = {
    "type": "object",
    "if": {"properties": {"_meta": {"properties": {"op": {"const": "d"}}}}},
    "then": {"reduce": {"strategy": "merge", "delete": True}},
}


def reduce_all(schema: Any, *documents: Any) -> Any:
    reducer = Reducer(schema, collection="acmeCo/things")
    result = documents[0]
    for document in documents[1:]:
        result = reducer.reduce(result, document)
    return result


def test_without_annotations_the_last_write_wins() -> None:
    reducer = Reducer({"type": "object"}, collection="acmeCo/things")
    assert reducer.trivial
    assert reducer.reduce({"a": 1, "b": 2}, {"a": 3}) == {"a": 3}
    assert not reducer.is_deletion({"_meta": {"op": "d"}})


def test_merge_reduces_each_property_by_its_own_strategy() -> None:
    schema = {
        "type": "object",
        "reduce": {"strategy": "merge"},
        "properties": {
            "count": {"reduce": {"strategy": "sum"}},
            "first": {"reduce": {"strategy": "firstWriteWins"}},
            "low": {"reduce": {"strategy": "minimize"}},
            "high": {"reduce": {"strategy": "maximize"}},
            "log": {"reduce": {"strategy": "append"}},
            "nested": {"type": "object", "reduce": {"strategy": "merge"}},
        },
    }
    result = reduce_all(
        schema,
        {"count": 1, "first": "a", "low": 5, "high": 5, "log": [1], "nested": {"x": 1}, "o": 1},
        {"count": 2, "first": "b", "low": 3, "high": 3, "log": [2], "nested": {"y": 2}},
        {"count": 4, "first": "c", "low": 9, "high": 9, "log": [3], "nested": {"x": 9}, "o": 2},
    )
    assert result == {
        "count": 7,
        "first": "a",
        "low": 3,
        "high": 9,
        "log": [1, 2, 3],
        "nested": {"x": 9, "y": 2},
        "o": 2,
    }


def test_arrays_merge_by_index_or_as_sorted_arrays_on_a_key() -> None:
    by_index = {"reduce": {"strategy": "merge"}}
    assert reduce_all(by_index, [1, 2, 3], [9]) == [9, 2, 3]
    by_key = {
        "reduce": {"strategy": "merge", "key": ["/k"]},
        "items": {
            "reduce": {"strategy": "merge"},
            "properties": {"n": {"reduce": {"strategy": "sum"}}},
        },
    }
    left = [{"k": 1, "n": 1}, {"k": 3, "n": 1}]
    right = [{"k": 2, "n": 5}, {"k": 3, "n": 2}]
    assert reduce_all(by_key, left, right) == [{"k": 1, "n": 1}, {"k": 2, "n": 5}, {"k": 3, "n": 3}]


def test_a_conditional_branch_overrides_the_locations_default() -> None:
    schema = {
        "reduce": {"strategy": "lastWriteWins"},
        "if": {"required": ["partial"]},
        "then": {"reduce": {"strategy": "merge"}},
    }
    assert reduce_all(schema, {"a": 1}, {"b": 2, "partial": True}) == {
        "a": 1,
        "b": 2,
        "partial": True,
    }
    assert reduce_all(schema, {"a": 1}, {"b": 2}) == {"b": 2}


def test_delete_under_op_d_marks_the_merged_document_as_a_deletion() -> None:
    reducer = Reducer(DELETES, collection="acmeCo/things")
    update = {"id": 1, "name": "a", "_meta": {"op": "u"}}
    deletion = {"id": 1, "_meta": {"op": "d"}}
    assert not reducer.is_deletion(update)
    assert reducer.is_deletion(deletion)
    assert reducer.reduce(update, deletion) == {"id": 1, "name": "a", "_meta": {"op": "d"}}


def test_local_references_carry_their_annotations() -> None:
    schema = {
        "$defs": {"counter": {"reduce": {"strategy": "sum"}}},
        "reduce": {"strategy": "merge"},
        "properties": {"n": {"$ref": "#/$defs/counter"}},
    }
    assert reduce_all(schema, {"n": 1}, {"n": 2}) == {"n": 3}


def test_a_strategy_applied_to_the_wrong_type_names_the_location() -> None:
    schema = {"reduce": {"strategy": "merge"}, "properties": {"n": {"reduce": {"strategy": "sum"}}}}
    with pytest.raises(
        ReductionError,
        match=r"collection acmeCo/things: 'sum' strategy expects numbers, while reducing '/n'",
    ):
        reduce_all(schema, {"n": 1}, {"n": "two"})


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"reduce": {"strategy": "set"}}, "reduction strategy 'set' is not supported"),
        ({"reduce": {"strategy": "sum", "delete": True}}, "`delete: true` goes with"),
        (
            {"properties": {"a": {"reduce": {"strategy": "merge", "delete": True}}}},
            "below the document root is not supported",
        ),
        ({"reduce": "merge"}, "`reduce` must be an object with a `strategy`"),
    ],
)
def test_annotations_it_cannot_honour_are_refused_up_front(
    schema: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError, match="the schema of collection acmeCo/things") as caught:
        Reducer(schema, collection="acmeCo/things")
    assert problem in str(caught.value)
