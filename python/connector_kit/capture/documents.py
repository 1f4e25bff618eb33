"""Turning what a fetch function yields into protocol lines — the capture hot path.

Documents are serialized once, straight to the bytes of a `captured` line: dicts
with orjson, pydantic models with their compiled serializer, Arrow record batches
row by row. Nothing on this path is validated or copied more than once. The
serializer for a type of document is chosen once per binding, not per document.
"""

from __future__ import annotations

import base64
import decimal
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson
from pydantic import BaseModel


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"a document holds a {type(value).__name__}, which has no JSON form")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default)


Serializer = Callable[[Any], bytes]
"""Turns one document into its JSON bytes."""

CAPTURED_SUFFIX = b"}}\n"
"""Closes a `captured` line after the document's JSON."""


class DocumentSerializers(dict[type, Serializer | None]):
    """The serializer for each type of document a binding has yielded, found once per type.

    The capture loop looks up the exact type of every yielded item here instead of
    walking an isinstance chain per document (isinstance against pydantic's and
    `Mapping`'s ABC metaclasses is slow). None marks a type that is not a single
    document — a cursor, a record batch, a sourced schema — which takes the general path.
    """

    def __missing__(self, kind: type) -> Serializer | None:
        serializer = _serializer_for(kind)
        self[kind] = serializer
        return serializer


def _serializer_for(kind: type) -> Serializer | None:
    if issubclass(kind, dict):
        return dumps
    if issubclass(kind, BaseModel):
        to_json = kind.__pydantic_serializer__.to_json

        # A closure, not functools.partial: partial copies its keyword arguments per call.
        def model_json(doc: Any) -> bytes:
            return to_json(doc, by_alias=True)

        return model_json
    if issubclass(kind, Mapping):
        return lambda doc: dumps(dict(doc))
    return None


class LineEncoder:
    """Encodes one binding's documents as complete `captured` lines."""

    def __init__(self, binding: int) -> None:
        # A `captured` line is this prefix, the document's JSON, then CAPTURED_SUFFIX.
        self.prefix = b'{"captured":{"binding":%d,"doc":' % binding
        self.serializers = DocumentSerializers()
        self._schema_prefix = b'{"sourcedSchema":{"binding":%d,"documentSchema":' % binding

    def captured(self, doc: Any) -> Iterator[bytes]:
        """The lines for one yielded item: one for a document, one per row of a batch."""
        serialize = self.serializers[type(doc)]
        if serialize is not None:
            yield self.prefix + serialize(doc) + CAPTURED_SUFFIX
        elif _is_record_batch(doc):
            for row in doc.to_pylist():
                yield self.prefix + dumps(row) + CAPTURED_SUFFIX
        else:
            raise TypeError(
                f"expected a document (dict, pydantic model or pyarrow RecordBatch), "
                f"got {type(doc).__name__}"
            )

    def sourced_schema(self, schema: Mapping[str, Any]) -> bytes:
        return self._schema_prefix + orjson.dumps(schema) + b"}}\n"


def _is_record_batch(value: Any) -> bool:
    # pyarrow is optional: only a caller that has it can hand us a batch.
    return type(value).__name__ in ("RecordBatch", "Table") and hasattr(value, "to_pylist")


def checkpoint_line(updated: Mapping[str, Any], *, merge_patch: bool = True) -> bytes:
    return (
        b'{"checkpoint":{"state":{"updated":'
        + orjson.dumps(updated, default=_default)
        + (b',"mergePatch":true}}}\n' if merge_patch else b"}}}\n")
    )


def with_row_meta(doc: Any, row_id: int) -> dict[str, Any]:
    """A snapshot document with `_meta.row_id` set (a copy; the caller's object is untouched)."""
    if isinstance(doc, BaseModel):
        body: dict[str, Any] = doc.model_dump(mode="json", by_alias=True)
    elif isinstance(doc, Mapping):
        body = dict(doc)
    else:
        raise TypeError(f"a snapshot document must be a dict or pydantic model, got {type(doc)}")
    meta = dict(body.get("_meta") or {})
    meta["row_id"] = row_id
    body["_meta"] = meta
    return body
