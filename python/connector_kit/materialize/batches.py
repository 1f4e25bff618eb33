"""Store requests collected as raw lines, handed to a transactor as Arrow-backed batches.

Store lines are nearly every line a busy materialization reads, so the framework
does not parse them: it takes whole runs of lines that begin as a Store does
(`leading_lines`, split and checked in Arrow's C++) and keeps them as Arrow string
arrays. A connector with an engine that reads JSON (DuckDB, Arrow) parses the
lines there; any other connector calls `StoreBatch.rows()`. Either way a line
that is not a valid Store is reported by `rows()`, which names it.
"""

from __future__ import annotations

import base64
import binascii
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from orjson import JSONDecodeError, loads

from connector_kit.errors import ProtocolError
from connector_kit.materialize.framing import FramedStores, frame_stores
from connector_kit.tuple import TupleValue, unpack
from connector_kit.wire import snippet


@dataclass(frozen=True)
class StoreRules:
    """What a Store must look like for this materialization's bindings."""

    document_fields: tuple[str | None, ...]
    """Per binding, the selected document field (whose value arrives as `doc`), or None."""

    @property
    def stores_documents(self) -> bool:
        return any(field is not None for field in self.document_fields)


@dataclass(frozen=True, kw_only=True)
class StoreRow:
    line: int
    binding: int
    key: tuple[TupleValue, ...]
    values: tuple[TupleValue, ...]
    doc: Any
    """The parsed document; None when the binding selects no document field."""
    exists: bool
    delete: bool


@dataclass(frozen=True, kw_only=True)
class StoreBatch:
    """Consecutive Store requests, as the JSON lines the runtime sent."""

    lines: pa.ChunkedArray
    """`{"store":{...}}` request lines (strings), as they came, without their newlines: one
    chunk per run of lines read at once, so nothing is copied to make one array of them."""
    line_numbers: array[int]
    rules: StoreRules
    framed: FramedStores | None
    """Each line cut at its document, unchecked (see `framing`); None when no binding stores
    documents."""

    def __len__(self) -> int:
        return len(self.line_numbers)

    def rows(self) -> list[StoreRow]:
        """Every row parsed and checked, or a ProtocolError naming the first bad line."""
        return [
            parse_store(line, number, self.rules)
            for line, number in zip(self.lines.to_pylist(), self.line_numbers, strict=True)
        ]


def parse_store(line: str | bytes, number: int, rules: StoreRules) -> StoreRow:
    raw = line.encode() if isinstance(line, str) else line
    try:
        message = loads(raw)
    except JSONDecodeError as err:
        raise ProtocolError(
            f"request line {number} is not valid JSON: {err} (line starts: {snippet(raw)!r})"
        ) from None
    store = message.get("store") if type(message) is dict and len(message) == 1 else None
    if type(store) is not dict:
        raise ProtocolError(
            f"request line {number}: expected a `store` request, one JSON object with a single "
            f'`"store": {{...}}` field (line starts: {snippet(raw)!r})'
        )
    binding = store.get("binding", 0)
    if type(binding) is not int or not 0 <= binding < len(rules.document_fields):
        raise ProtocolError(
            f"request line {number}: `store` names binding {binding!r}, but the "
            f"materialization has {len(rules.document_fields)} binding(s), numbered from 0"
        )
    exists, delete = store.get("exists", False), store.get("delete", False)
    if type(exists) is not bool or type(delete) is not bool:
        raise ProtocolError(f"request line {number}: store `exists` and `delete` must be booleans")
    document_field = rules.document_fields[binding]
    doc = store.get("doc")
    if document_field is not None and doc is None:
        raise ProtocolError(
            f"request line {number}: `store` for binding {binding} has no `doc`, but the "
            f"binding selects the document field {document_field!r}"
        )
    return StoreRow(
        line=number,
        binding=binding,
        key=_unpack_field(store, "keyPacked", number, required=True),
        values=_unpack_field(store, "valuesPacked", number, required=False),
        doc=doc if document_field is not None else None,
        exists=exists,
        delete=delete,
    )


def _unpack_field(
    store: dict[str, Any], name: str, number: int, *, required: bool
) -> tuple[TupleValue, ...]:
    text = store.get(name, "")
    if type(text) is not str or (required and not text):
        raise ProtocolError(
            f"request line {number}: store `{name}` must be base64 text of a packed tuple; "
            f"got {text!r}"
        )
    try:
        return unpack(base64.b64decode(text, validate=True))
    except (binascii.Error, ProtocolError) as err:
        raise ProtocolError(f"request line {number}: store `{name}`: {err}") from None


def unpack_column(
    texts: Sequence[str | None], lines: Sequence[int], *, what: str
) -> list[tuple[TupleValue, ...]]:
    """Decode base64 packed tuples (e.g. `keyPacked` an engine extracted), naming bad lines."""
    decoded = []
    for text, number in zip(texts, lines, strict=True):
        try:
            decoded.append(unpack(base64.b64decode(text or "", validate=True)))
        except (binascii.Error, ProtocolError) as err:
            raise ProtocolError(f"request line {number}: store `{what}`: {err}") from None
    return decoded


def leading_lines(
    block: bytes | memoryview, prefix: bytes, *, first: int
) -> tuple[pa.StringArray, int]:
    """The lines at the start of `block` that begin with `prefix`, and the bytes they span.

    `block` holds whole lines, each ending in a newline, numbered from `first`. The
    lines come back without their newlines, as an Arrow string array built in bulk
    (no Python per line); the run stops at the first line that does not begin with
    `prefix`. A line that is not UTF-8 is a ProtocolError naming it.
    """
    data = pa.py_buffer(block)  # no copy: the split below copies what it keeps
    offsets = pa.array([0, len(data)], pa.int32()).buffers()[1]
    whole = pa.Array.from_buffers(pa.binary(), 1, [None, offsets, data])
    split = pc.split_pattern(whole, pattern=b"\n").flatten()
    del whole, data  # nothing refers to `block` any more: its owner may reuse it
    lines = split.slice(0, len(split) - 1)  # what follows the last newline is empty
    other = pc.index(pc.starts_with(lines, pattern=prefix.decode()), value=False).as_py()
    count = len(lines) if other < 0 else other
    taken = lines.slice(0, count)
    size = (pc.sum(pc.binary_length(taken)).as_py() or 0) + count
    try:
        return taken.cast(pa.string()), size  # the cast checks UTF-8, in C++
    except pa.ArrowInvalid:
        for index, line in enumerate(taken.to_pylist()):
            try:
                line.decode()
            except UnicodeDecodeError as err:
                raise ProtocolError(
                    f"request line {first + index} is not valid UTF-8: "
                    f"{err.reason} at byte {err.start}"
                ) from None
        raise


class StoreBuffer:
    """The Store lines received since the last batch, as Arrow strings without newlines."""

    __slots__ = ("_chunks", "_ends", "_lines", "_nbytes", "_numbers", "rules")

    def __init__(self, rules: StoreRules) -> None:
        self.rules = rules
        self._reset()

    def _reset(self) -> None:
        self._chunks: list[pa.StringArray] = []
        self._nbytes = 0
        self._lines = bytearray()
        self._ends = array("i", [0])
        self._numbers = array("q")

    @property
    def nbytes(self) -> int:
        return self._nbytes + len(self._lines)

    def __len__(self) -> int:
        return len(self._numbers)

    def add(self, number: int, line: bytes) -> None:
        """One line (its newline, if any, is dropped)."""
        self._lines += line[:-1] if line.endswith(b"\n") else line
        self._ends.append(len(self._lines))
        self._numbers.append(number)

    def add_run(self, first: int, lines: pa.StringArray) -> None:
        """Lines numbered from `first` on, already split (see `leading_lines`)."""
        self._seal()
        self._chunks.append(lines)
        self._nbytes += lines.nbytes
        self._numbers.extend(range(first, first + len(lines)))

    def _seal(self) -> None:
        """The lines added one by one become a chunk of their own."""
        count = len(self._ends) - 1
        if not count:
            return
        # The buffers become the array's memory; new ones take their place.
        chunk = pa.Array.from_buffers(
            pa.string(), count, [None, pa.py_buffer(self._ends), pa.py_buffer(self._lines)]
        )
        try:
            chunk.validate(full=True)  # UTF-8, checked in C++ before any engine reads it
        except pa.ArrowInvalid:
            self._raise_invalid_utf8(len(self._numbers) - count)
        self._chunks.append(chunk)
        self._nbytes += len(self._lines)
        self._lines = bytearray()
        self._ends = array("i", [0])

    def take(self) -> StoreBatch:
        """The buffered lines as a batch; the buffer starts over empty."""
        self._seal()
        lines = pa.chunked_array(self._chunks, pa.string())
        # Called on the reading thread: framing is done there, while the engine stages the
        # batch before this one.
        framed = frame_stores(lines) if self.rules.stores_documents else None
        batch = StoreBatch(lines=lines, line_numbers=self._numbers, rules=self.rules, framed=framed)
        self._reset()
        return batch

    def _raise_invalid_utf8(self, first: int) -> None:
        start = 0
        for index, end in enumerate(self._ends[1:]):
            try:
                self._lines[start:end].decode()
            except UnicodeDecodeError as err:
                raise ProtocolError(
                    f"request line {self._numbers[first + index]} is not valid UTF-8: "
                    f"{err.reason} at byte {err.start}"
                ) from None
            start = end
