"""Each Store line cut into its document and the fields around it, without parsing the line.

A materialization stores a document as the runtime sent it, byte for byte: the text
of the line's `doc` value. Flow's runtime writes every Store the same way,

    {"store":{"binding":1,"keyPacked":"…","valuesPacked":"…","doc":{…},"exists":true}}

(`binding` left out when it is 0, `exists` and `delete` when false), so a line is
framed by what surrounds its document: an opening that Arrow's RE2 matches exactly
(the packed fields are base64, which holds no quote or escape), and one of the
closings the runtime writes. Between them is the document, taken as a string-view
array that points into the lines' own buffer: nothing is copied.

Framing only finds the bounds: the engine that parses the documents checks them.
Opening and closing are exact, so a framed line is valid JSON exactly when its
document text is one valid JSON value; if it is not (a field unknown today after
`doc`, or a malformed line), the engine must parse those lines whole instead, and so
must it every line that is not framed (another field order, spaces).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DOC_KEY = '"doc":'
_BASE64 = "[A-Za-z0-9+/]*=*"
OPENING = (
    r'^\{"store":\{(?:"binding":(?:0|[1-9][0-9]*),)?'
    f'"keyPacked":"{_BASE64}","valuesPacked":"{_BASE64}",{DOC_KEY}'
)
"""Everything before the document, as the runtime writes it."""
_BINDING = r'^\{"store":\{"binding":(?P<binding>[0-9]+),'
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
    """Per Store line, null where the line is not framed: its document (JSON text, not yet
    checked) and its other Store fields. One chunk per chunk of the lines."""

    documents: pa.ChunkedArray
    bindings: pa.ChunkedArray
    """The `binding` as written ("0" where it is left out)."""
    exists: pa.ChunkedArray
    deletes: pa.ChunkedArray


def frame_stores(lines: pa.ChunkedArray) -> FramedStores:
    chunks = [_frame(chunk) for chunk in lines.chunks]
    columns = zip(*chunks, strict=True) if chunks else ([], [], [], [])
    documents, bindings, exists, deletes = (
        pa.chunked_array(arrays, kind)
        for arrays, kind in zip(
            columns, (JSON_TEXT, pa.string(), pa.bool_(), pa.bool_()), strict=True
        )
    )
    return FramedStores(documents=documents, bindings=bindings, exists=exists, deletes=deletes)


def _frame(lines: pa.StringArray) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    count = len(lines)
    opened = _numpy(pc.match_substring_regex(lines, OPENING), missing=False)
    # In a line whose opening matched, the first `"doc":` is the one that ends it.
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
    framed = opened & (closing > 0) & (lengths > 0)
    lengths[~framed] = 0
    starts[~framed] = 0
    data = lines.buffers()[2]
    bytes_ = np.frombuffer(data, dtype=np.uint8) if data else np.zeros(1, dtype=np.uint8)
    validity = pa.py_buffer(np.packbits(framed, bitorder="little"))
    texts = pa.Array.from_buffers(
        pa.string_view(),
        count,
        [validity, pa.py_buffer(_views(bytes_, starts, lengths)), data or pa.py_buffer(b"")],
    )
    unframed = pa.array(~framed)
    return (
        pa.ExtensionArray.from_storage(JSON_TEXT, texts),
        pc.if_else(unframed, pa.scalar(None, pa.string()), _bindings(lines)),
        pa.array(exists, mask=~framed),
        pa.array(deletes, mask=~framed),
    )


def _bindings(lines: pa.StringArray) -> pa.Array:
    if not pc.any(pc.starts_with(lines, '{"store":{"binding":')).as_py():
        return pa.repeat("0", len(lines))
    written = pc.struct_field(pc.extract_regex(lines, _BINDING), "binding")
    return pc.fill_null(written, "0")


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
