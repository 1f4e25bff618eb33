"""Reading a binding's selected fields out of documents and packing them as Flow does.

`keyPacked` holds the values of `fieldSelection.keys` and `valuesPacked` those of
`fieldSelection.values`, in order, as one FoundationDB tuple each: null, booleans,
integers, doubles and strings as themselves; objects and arrays as bytes holding
their JSON. A field that is absent from a document packs as null. A field that
projects the collection's UUID location (`flow_published_at`) packs the UUID's
timestamp as RFC 3339 text, as Flow's extractor does. Values (never keys) follow the
connector's serialization policy (`ser_policy`).

This runs twice per document of every transaction, so each packer is compiled to
one Python function that reads its fields with direct dictionary lookups (sharing
the parents of nested fields) and packs them in one call, as the standard library's
dataclasses compile their methods. Names reach the generated code only as `repr`
literals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from connector_kit.errors import ConfigError
from connector_kit.protocol import flow
from connector_kit.runtime.publish_clock import PublishedAtCache
from connector_kit.runtime.ser_policy import Truncation
from connector_kit.tuple import pack

Getter = Callable[[Any], Any]


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def pointer_getter(pointer: str) -> Getter:
    """A function returning the value at `pointer` in a document, or None when absent."""
    tokens = _tokens(pointer)

    def get(document: Any) -> Any:
        value = document
        for token in tokens:
            if type(value) is dict:
                value = value.get(token)
            elif type(value) is list and token.isdigit() and int(token) < len(value):
                value = value[int(token)]
            else:
                return None
        return value

    return get


class FieldPacker:
    """Packs the named fields of one collection's documents into a tuple."""

    def __init__(
        self,
        collection: flow.CollectionSpec,
        fields: Sequence[str],
        *,
        truncation: Truncation | None = None,
    ) -> None:
        by_field = {p.field: p for p in collection.projections}
        uuid_pointer = collection.uuid_ptr or "/_meta/uuid"
        pointers = []
        for name in fields:
            projection = by_field.get(name)
            if projection is None:
                raise ConfigError(
                    f"field {name!r} is not a projection of collection {collection.name}"
                )
            pointers.append(projection.ptr)
        self.fields = tuple(fields)
        self.pack: Callable[[Any], bytes] = _compile(
            pointers, uuid_pointer=uuid_pointer, truncation=truncation
        )
        """The document's fields, packed as one tuple."""


def _compile(
    pointers: Sequence[str], *, uuid_pointer: str, truncation: Truncation | None
) -> Callable[[Any], bytes]:
    """A function packing the values at `pointers` of a document."""
    namespace: dict[str, Any] = {
        "_dumps": orjson.dumps,
        "_pack": pack,
        "_published_at": PublishedAtCache(),
        "_truncate": truncation.value if truncation is not None else None,
    }
    lines: list[str] = []
    parents: dict[tuple[str, ...], str] = {(): "d"}

    def parent(path: tuple[str, ...]) -> str:
        """The variable holding the object at `path` (None when it is not an object)."""
        found = parents.get(path)
        if found is not None:
            return found
        above = parent(path[:-1])
        name = f"p{len(parents)}"
        lines.append(f"    {name} = {above}.get({path[-1]!r}) if type({above}) is dict else None")
        parents[path] = name
        return name

    for index, pointer in enumerate(pointers):
        tokens = _tokens(pointer)
        variable = f"v{index}"
        if any(token.isdigit() for token in tokens):
            # Array positions: rare in projections, so read by the general getter.
            namespace[f"_get{index}"] = pointer_getter(pointer)
            lines.append(f"    {variable} = _get{index}(d)")
        elif not tokens:
            lines.append(f"    {variable} = d")
        else:
            above = parent(tuple(tokens[:-1]))
            lines.append(
                f"    {variable} = {above}.get({tokens[-1]!r}) if type({above}) is dict else None"
            )
        if pointer == uuid_pointer:
            lines.append(f"    {variable} = _published_at({variable})")
        else:
            if truncation is not None:
                lines.append(f"    {variable} = _truncate({variable})")
            lines.append(
                f"    if type({variable}) is dict or type({variable}) is list: "
                f"{variable} = _dumps({variable})"
            )
    elements = "".join(f"v{i}, " for i in range(len(pointers)))
    source = "\n".join(["def packed(d):", *lines, f"    return _pack(({elements}))"])
    exec(compile(source, "<field packer>", "exec"), namespace)  # noqa: S102 - see module docstring
    packed: Callable[[Any], bytes] = namespace["packed"]
    return packed
