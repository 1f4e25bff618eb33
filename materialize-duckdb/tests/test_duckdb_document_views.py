"""Finding each Store line's document without parsing the line."""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from materialize_duckdb.document_views import document_views

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
DOCUMENTS = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4)


def store_line(doc: Any, *, binding: int = 0, exists: bool = False, delete: bool = False) -> str:
    store: dict[str, Any] = {"binding": binding} if binding else {}
    store |= {"keyPacked": "FQE=", "valuesPacked": "AgE=", "doc": doc}
    if exists:
        store["exists"] = True
    if delete:
        store["delete"] = True
    return orjson.dumps({"store": store}).decode()


@given(
    st.lists(
        st.tuples(DOCUMENTS, st.integers(0, 3), st.booleans(), st.booleans()),
        min_size=1,
        max_size=8,
    ),
    st.integers(0, 2),
)
def test_each_view_is_the_document_as_sent(
    stores: list[tuple[dict[str, Any], int, bool, bool]], skip: int
) -> None:
    lines = pa.array(
        ["padding"] * skip + [store_line(d, binding=b, exists=e, delete=x) for d, b, e, x in stores]
    ).slice(skip)
    texts, keys_at = document_views(lines)
    for (doc, *_), line, text, key_at in zip(
        stores, lines.to_pylist(), texts.to_pylist(), keys_at.to_pylist(), strict=True
    ):
        assert text == orjson.dumps(doc).decode()
        assert line.encode()[key_at : key_at + 6] == b'"doc":'


def test_lines_without_a_document_or_a_known_ending_have_none() -> None:
    lines = pa.array(
        [
            '{"store":{"binding":0,"keyPacked":"FQE="}}',
            '{"store":{"doc":{"a":1},"later":true}',
            '{"store":{"doc":{"é":"ü"}}}',
        ]
    )
    texts, keys_at = document_views(lines)
    assert keys_at.to_pylist()[0] == -1
    assert texts.to_pylist() == [None, None, '{"é":"ü"}']
