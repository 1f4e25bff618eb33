"""Finding each Store line's document, and the Store fields around it, without parsing it."""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector_kit.materialize.framing import JSON_TEXT, FramedStores, frame_stores

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


def texts(framed: FramedStores) -> list[str | None]:
    return [text for chunk in framed.documents.chunks for text in chunk.storage.to_pylist()]


@given(
    st.lists(st.lists(STORES, min_size=1, max_size=5), min_size=1, max_size=3), st.integers(0, 2)
)
def test_each_line_as_the_runtime_writes_it_is_framed(
    chunks: list[list[tuple[dict[str, Any], int, bool, bool]]], skip: int
) -> None:
    lines = pa.chunked_array(
        [
            pa.array(
                ["padding"] * skip
                + [store_line(d, binding=b, exists=e, delete=x) for d, b, e, x in chunk]
            ).slice(skip)
            for chunk in chunks
        ]
    )
    framed = frame_stores(lines)
    assert framed.documents.type == JSON_TEXT
    assert [len(c) for c in framed.documents.chunks] == [len(c) for c in chunks]
    stores = [store for chunk in chunks for store in chunk]
    assert texts(framed) == [orjson.dumps(doc).decode() for doc, *_ in stores]
    assert framed.bindings.to_pylist() == [str(binding) for _, binding, _, _ in stores]
    assert framed.exists.to_pylist() == [exists for *_, exists, _ in stores]
    assert framed.deletes.to_pylist() == [delete for *_, delete in stores]


@pytest.mark.parametrize(
    "line",
    [
        '{"store":{"binding":0,"keyPacked":"FQE=","valuesPacked":"AgE="}}',  # no document
        '{"store":{"keyPacked":"FQE=","valuesPacked":"AgE=","doc":{"a":1},"later":true}',
        '{"store":{"doc":{"a":1},"keyPacked":"FQE=","valuesPacked":"AgE="}}',  # another order
        '{"store":{"keyPacked":"FQE=", "valuesPacked":"AgE=","doc":{"a":1}}}',  # a space
        '{"store":{"keyPacked":"FQE=","valuesPacked":"AgE=""doc":{"a":1}}}',  # no comma
        '{"store":{"binding":01,"keyPacked":"FQE=","valuesPacked":"AgE=","doc":{"a":1}}}',
        '{"store":{"keyPacked":"F\\"QE=","valuesPacked":"AgE=","doc":{"a":1}}}',  # an escape
        '{"store":{"x":{"doc":1},"keyPacked":"FQE=","valuesPacked":"AgE=","doc":{"a":1}}}',
        '{"store":{"keyPacked":"FQE=","valuesPacked":"AgE="},"doc":{"a":1}}}',
        '{"store":{"keyPacked":"FQE=","valuesPacked":"AgE=","doc":}}',  # an empty document
    ],
)
def test_a_line_laid_out_otherwise_is_not_framed(line: str) -> None:
    framed = frame_stores(pa.chunked_array([pa.array([line, store_line({"b": 2})])]))
    assert texts(framed) == [None, '{"b":2}']
    for column in (framed.bindings, framed.exists, framed.deletes):
        assert column.to_pylist()[0] is None


def test_a_document_is_framed_as_sent_whatever_it_holds() -> None:
    """The framing only bounds the document; checking it is one JSON value is the engine's."""
    doc = '{"é":"ü","n":1.10,"s":"\\"doc\\":}}"}'
    line = '{"store":{"keyPacked":"FQE=","valuesPacked":"AgE=","doc":' + doc + "}}"
    framed = frame_stores(pa.chunked_array([pa.array([line])]))
    assert texts(framed) == [doc]
