"""Base classes that give every protocol message its JSON conventions.

Requests come from a runtime that may be newer than us, so they ignore fields
they do not know. Responses go to a strict decoder that rejects unknown fields,
so they forbid extras and serialize by alias with unset fields left out.
Raw-JSON fields (`config`, `doc`, schemas, `updated`, …) are typed `JsonValue`
and embedded as JSON values, never as strings.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Self

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel

JsonValue = Any
"""An embedded raw JSON value (object, array, string, number, bool or null)."""

PROTOCOL_VERSION = 3032023


def _decode_base64(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        # proto3 JSON writes standard base64 but decoders accept the URL-safe alphabet too.
        return base64.b64decode(value.translate(_URLSAFE_TO_STANDARD), validate=True)
    except binascii.Error as err:
        raise ValueError(f"not valid base64: {err}") from None


_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")

Base64Bytes = Annotated[
    bytes,
    BeforeValidator(_decode_base64),
    PlainSerializer(lambda b: base64.b64encode(b).decode("ascii"), when_used="json"),
]
"""A proto3 `bytes` field: standard base64 in JSON, raw bytes in Python."""


class RequestModel(BaseModel):
    """A message the runtime sends; unknown fields (newer runtimes add some) are ignored."""

    model_config = ConfigDict(
        extra="ignore",
        populate_by_name=True,
        alias_generator=to_camel,
    )

    def to_json_line(self) -> bytes:
        return _json_line(self)


class ResponseModel(BaseModel):
    """A message a connector sends; the runtime rejects unknown fields, so we forbid them."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
    )

    def to_json_line(self) -> bytes:
        return _json_line(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> Self:
        return cls.model_validate_json(data)


def _json_line(model: BaseModel) -> bytes:
    # Unset and None fields are left out, as proto3 JSON leaves out empty values; raw JSON
    # values keep their inner nulls (merge-patch deletions need them).
    return (
        model.__pydantic_serializer__.to_json(
            model, by_alias=True, exclude_unset=True, exclude_none=True
        )
        + b"\n"
    )


def dump_json(value: Any) -> bytes:
    """Serialize a plain JSON value the way every message body is serialized."""
    return orjson.dumps(value)
