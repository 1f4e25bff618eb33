"""Cutting each Store line at its document, without parsing it."""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector_kit.materialize.framing import DOC_KEY, JSON_TEXT, frame_stores

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
DOCUMENTS = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4)
STORES = st.tuples(DOCUMENTS, st.integers(0, 12), st.booleans(), st.booleans())


def store_line(doc: Any, *, binding: int = 0, exists: bool = False, delete: bool = False) -> str:
    """A Store as Flow's runtime writes it (proto3 JSON leaves out defaults)."""
    store: dict[str, Any] = {"binding": binding} if binding else {}
    store |= {"keyPacked": "FQE=", "valuesPacked": "AgE+/w==", "doc": doc}
    if exists:
        store["exists"] = True
    if delete:
        store["delete"] = True
    return orjson.dumps({"store": store}).decode()


def texts(column: pa.ChunkedArray) -> list[str | None]:
    return [
        text
        for chunk in column.chunks
        for text in (chunk.storage if column.type == JSON_TEXT else chunk).to_pylist()
    ]


@given(
    st.lists(st.lists(STORES, min_size=1, max_size=5), min_size=1, max_size=3), st.integers(0, 2)
)
def test_each_line_as_the_runtime_writes_it_is_cut_at_its_document(
    chunks: list[list[tuple[dict[str, Any], int, bool, bool]]], skip: int
) -> None:
    lines = [[store_line(d, binding=b, exists=e, delete=x) for d, b, e, x in c] for c in chunks]
    framed = frame_stores(
        pa.chunked_array([pa.array(["padding"] * skip + chunk).slice(skip) for chunk in lines])
    )
    assert framed.documents.type == JSON_TEXT
    assert [len(c) for c in framed.documents.chunks] == [len(c) for c in chunks]
    stores = [store for chunk in chunks for store in chunk]
    every_line = [line for chunk in lines for line in chunk]
    assert texts(framed.documents) == [orjson.dumps(doc).decode() for doc, *_ in stores]
    assert texts(framed.openings) == [
        line[: line.index(DOC_KEY) + len(DOC_KEY)] for line in every_line
    ]
    assert framed.exists.to_pylist() == [exists for *_, exists, _ in stores]
    assert framed.deletes.to_pylist() == [delete for *_, delete in stores]


@pytest.mark.parametrize(
    "line",
    [
        '{"store":{"binding":0,"keyPacked":"FQE=","valuesPacked":"AgE="}}',  # no document
        '{"store":{"keyPacked":"FQE=","valuesPacked":"AgE=","doc":{"a":1},"later":true}',
        '{"store":{"keyPacked":"FQE=","valuesPacked":"AgE=","doc":}}',  # an empty document
        '{"store":{"keyPacked":"FQE=","valuesPacked":"AgE=","doc" :{"a":1}}}',
    ],
)
def test_a_line_without_a_document_key_or_a_closing_the_runtime_writes_is_not_cut(
    line: str,
) -> None:
    framed = frame_stores(pa.chunked_array([pa.array([line, store_line({"b": 2})])]))
    assert texts(framed.documents) == [None, '{"b":2}']
    for column in (framed.openings, framed.exists, framed.deletes):
        assert column.to_pylist()[0] is None


def test_the_cut_is_at_the_first_document_key_and_checking_it_is_the_engines() -> None:
    """Framing only cuts: whether the cut is right (see the module) is the engine's to check."""
    line = '{"store":{"x":{"doc":1},"keyPacked":"FQE=","valuesPacked":"AgE=","doc":{"a":1}}}'
    framed = frame_stores(pa.chunked_array([pa.array([line])]))
    assert texts(framed.openings) == ['{"store":{"x":{"doc":']
    assert texts(framed.documents) == ['1},"keyPacked":"FQE=","valuesPacked":"AgE=","doc":{"a":1}']


def test_a_document_is_cut_as_sent_whatever_it_holds() -> None:
    doc = '{"é":"ü","n":1.10,"s":"\\"doc\\":}}"}'
    line = '{"store":{"keyPacked":"FQE=","valuesPacked":"AgE=","doc":' + doc + "}}"
    framed = frame_stores(pa.chunked_array([pa.array([line])]))
    assert texts(framed.documents) == [doc]
