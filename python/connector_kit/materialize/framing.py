"""Each Store line cut into its document and what comes before and after it, unparsed.

A materialization stores a document as the runtime sent it, byte for byte: the text
of the line's `doc` value. Flow's runtime writes every Store the same way,

    {"store":{"binding":1,"keyPacked":"…","valuesPacked":"…","doc":{…},"exists":true}}

(`binding` left out when it is 0, `exists` and `delete` when false), so a line is
cut at its first `"doc":` and before one of the closings the runtime writes after
the document. Both parts are string views into the lines' own buffer: nothing is
copied, and nothing is parsed here.

The cut is only a candidate; the engine that parses the documents decides. A line
is valid JSON, and its cut text is the Store's document, exactly when

* the opening (everything up to and with the first `"doc":`) followed by `0}}` is
  valid JSON whose `store` holds `"doc": 0` (so the key is the Store's own), and
* the document text is one valid JSON value (so the closing was the real one).

A line with the opening valid brings its other Store fields in it (`binding`, and
`exists` or `delete` if written before `doc`); the closing brings the rest. A line
cut wrongly (a field unknown today after `doc`) or not at all (no `"doc":`, another
closing) is for the engine to parse whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DOC_KEY = '"doc":'
STAND_IN = "0"
"""The document an opening is completed with: a value JSON readers keep (unlike `null`)."""
OPENING_END = STAND_IN + "}}"
"""What makes an opening a whole Store, when the cut is right."""
_CLOSINGS = {
    # The closings the runtime writes after `doc`, as (exists, delete); each ends the line.
    ',"exists":true,"delete":true}}': (True, True),
    ',"delete":true}}': (False, True),
    ',"exists":true}}': (True, False),
    "}}": (False, False),
}
_INLINE = 12
"""A string-view element holds strings up to this many bytes itself, longer ones by reference."""
JSON_TEXT = pa.json_(pa.string_view())
"""Arrow's JSON type over string views: engines that know it (DuckDB) take it as JSON."""


@dataclass(frozen=True)
class FramedStores:
    """Per Store line, null where the line was not cut: its document (JSON text, unchecked),
    its opening and the flags its closing carries. One chunk per chunk of the lines."""

    documents: pa.ChunkedArray
    openings: pa.ChunkedArray
    """The line up to and with its first `"doc":` (see `OPENING_END`)."""
    exists: pa.ChunkedArray
    deletes: pa.ChunkedArray


def frame_stores(lines: pa.ChunkedArray) -> FramedStores:
    chunks = [_frame(chunk) for chunk in lines.chunks]
    columns = zip(*chunks, strict=True) if chunks else ([], [], [], [])
    documents, openings, exists, deletes = (
        pa.chunked_array(arrays, kind)
        for arrays, kind in zip(
            columns, (JSON_TEXT, pa.string_view(), pa.bool_(), pa.bool_()), strict=True
        )
    )
    return FramedStores(documents=documents, openings=openings, exists=exists, deletes=deletes)


def _frame(lines: pa.StringArray) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    count = len(lines)
    # RE2 finds the key in half the time of Arrow's plain substring search.
    key_at = _numpy(pc.find_substring_regex(lines, DOC_KEY), missing=-1).astype(np.int64)
    closing = np.zeros(count, dtype=np.int64)
    exists = np.zeros(count, dtype=bool)
    deletes = np.zeros(count, dtype=bool)
    for text, (exist, delete) in reversed(_CLOSINGS.items()):
        ends = _numpy(pc.ends_with(lines, text), missing=False)  # the longest written last wins
        closing[ends] = len(text)
        exists[ends] = exist
        deletes[ends] = delete
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
        lines.offset : lines.offset + count + 1
    ].astype(np.int64)
    starts = offsets[:-1] + key_at + len(DOC_KEY)
    lengths = offsets[1:] - closing - starts
    cut = (key_at >= 0) & (closing > 0) & (lengths > 0)
    lengths[~cut] = 0
    starts[~cut] = 0
    opening_lengths = np.where(cut, key_at + len(DOC_KEY), 0)
    data = lines.buffers()[2] or pa.py_buffer(b"")
    bytes_ = np.frombuffer(data, dtype=np.uint8) if data.size else np.zeros(1, dtype=np.uint8)
    validity = pa.py_buffer(np.packbits(cut, bitorder="little"))
    documents, openings = (
        pa.Array.from_buffers(
            pa.string_view(), count, [validity, pa.py_buffer(_views(bytes_, at, size)), data]
        )
        for at, size in ((starts, lengths), (np.where(cut, offsets[:-1], 0), opening_lengths))
    )
    return (
        pa.ExtensionArray.from_storage(JSON_TEXT, documents),
        openings,
        pa.array(exists, mask=~cut),
        pa.array(deletes, mask=~cut),
    )


def _numpy(values: pa.Array, *, missing: object) -> np.ndarray:
    return np.asarray(pc.fill_null(values, missing).to_numpy(zero_copy_only=False))


def _views(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Arrow's 16-byte view of each string: its length, then either its bytes (up to 12) or
    its first 4 bytes, buffer 0 and its offset."""
    count = len(starts)
    views = np.zeros((count, 4), dtype="<i4")
    views[:, 0] = lengths
    long = lengths > _INLINE
    at = starts[long]
    prefix = np.zeros(len(at), dtype="<u4")
    for byte in range(4):
        prefix |= data[at + byte].astype("<u4") << (8 * byte)
    views[long, 1] = prefix.view("<i4")
    views[long, 3] = at
    short = np.flatnonzero(~long & (lengths > 0))
    if short.size:
        positions = np.minimum(starts[short, None] + np.arange(_INLINE), len(data) - 1)
        inline = data[positions]
        inline[np.arange(_INLINE) >= lengths[short, None]] = 0
        views.view(np.uint8).reshape(count, 16)[short, 4:16] = inline
    return views
