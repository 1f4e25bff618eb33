"""Reading a binding's selected fields out of documents and packing them as Flow does.

`keyPacked` holds the values of `fieldSelection.keys` and `valuesPacked` those of
`fieldSelection.values`, in order, as one FoundationDB tuple each: null, booleans,
integers, doubles and strings as themselves; objects and arrays as bytes holding
their JSON. A field that is absent from a document packs as null. A field that
projects the collection's UUID location (`flow_published_at`) packs the UUID's
timestamp as RFC 3339 text, as Flow's extractor does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from connector_kit.errors import ConfigError
from connector_kit.protocol import flow
from connector_kit.runtime.publish_clock import PublishedAtCache
from connector_kit.tuple import pack

Getter = Callable[[Any], Any]


def pointer_getter(pointer: str) -> Getter:
    """A function returning the value at `pointer` in a document, or None when absent."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    if not tokens:
        return lambda document: document
    if len(tokens) == 1:
        (token,) = tokens

        def top(document: Any) -> Any:
            return document.get(token) if type(document) is dict else None

        return top

    def nested(document: Any) -> Any:
        value = document
        for token in tokens:
            if type(value) is dict:
                value = value.get(token)
            elif type(value) is list and token.isdigit() and int(token) < len(value):
                value = value[int(token)]
            else:
                return None
        return value

    return nested


def _as_element(value: Any) -> Any:
    if type(value) is dict or type(value) is list:
        return orjson.dumps(value)
    return value


class FieldPacker:
    """Packs the named fields of one collection's documents into a tuple."""

    def __init__(self, collection: flow.CollectionSpec, fields: Sequence[str]) -> None:
        by_field = {p.field: p for p in collection.projections}
        uuid_pointer = collection.uuid_ptr or "/_meta/uuid"
        getters: list[Getter] = []
        for name in fields:
            projection = by_field.get(name)
            if projection is None:
                raise ConfigError(
                    f"field {name!r} is not a projection of collection {collection.name}"
                )
            getter = pointer_getter(projection.ptr)
            if projection.ptr == uuid_pointer:
                getter = _published_at(getter)
            getters.append(getter)
        self.fields = tuple(fields)
        self._getters = tuple(getters)

    def values(self, document: Any) -> tuple[Any, ...]:
        return tuple([_as_element(get(document)) for get in self._getters])

    def pack(self, document: Any) -> bytes:
        return pack([_as_element(get(document)) for get in self._getters])


def _published_at(get_uuid: Getter) -> Getter:
    times = PublishedAtCache()
    return lambda document: times(get_uuid(document))
