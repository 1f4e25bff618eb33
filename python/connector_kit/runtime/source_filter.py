"""Which of a collection's documents a materialization binding reads.

A binding's `source` may narrow its collection by logical partition (`partitions`:
`include` and `exclude` lists of values per partition field) and by publish time
(`notBefore`, `notAfter`: RFC 3339 times, both inclusive, compared with the time in
each document's UUID). A document outside them is skipped: the binding's read
position still moves past it, as Flow's does past journals it does not select.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from connector_kit.errors import ConfigError
from connector_kit.protocol import flow
from connector_kit.runtime.catalog_model import SourceDef
from connector_kit.runtime.publish_clock import ticks_of, uuid_ticks

DEFAULT_UUID_PTR = "/_meta/uuid"

Pointer = tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SourceFilter:
    include: tuple[tuple[Pointer, frozenset[bytes]], ...] = ()
    """Per partition field: the JSON of the values a document must have one of."""
    exclude: tuple[tuple[Pointer, frozenset[bytes]], ...] = ()
    """Per partition field: the JSON of the values a document must have none of."""
    not_before: int | None = None
    not_after: int | None = None
    """Publish-time bounds in UUID ticks, inclusive."""
    uuid: Pointer = ("_meta", "uuid")

    def admits(self, document: Any) -> bool:
        for pointer, values in self.include:
            if orjson.dumps(_at(document, pointer)) not in values:
                return False
        for pointer, values in self.exclude:
            if orjson.dumps(_at(document, pointer)) in values:
                return False
        if self.not_before is None and self.not_after is None:
            return True
        uuid = _at(document, self.uuid)
        ticks = uuid_ticks(uuid) if isinstance(uuid, str) else None
        if ticks is None:
            return True  # no publish time to compare: Flow stamps every document it reads
        if self.not_before is not None and ticks < self.not_before:
            return False
        return self.not_after is None or ticks <= self.not_after


def source_filter(
    source: SourceDef, collection: flow.CollectionSpec, *, where: str
) -> SourceFilter | None:
    """The filter a binding's `source` asks for, or None when it reads every document.

    A selector naming a field that is not a logical partition of the collection is a
    ConfigError naming `where`, as in Flow.
    """
    selector = source.partitions
    if selector is None and source.not_before is None and source.not_after is None:
        return None
    partitions = {p.field: p.ptr for p in collection.projections if p.is_partition_key and p.ptr}

    def values(
        by_field: dict[str, list[Any]], kind: str
    ) -> tuple[tuple[Pointer, frozenset[bytes]], ...]:
        found = []
        for field, listed in sorted(by_field.items()):
            ptr = partitions.get(field)
            if ptr is None:
                known = ", ".join(sorted(partitions)) or "none"
                raise ConfigError(
                    f"{where}: partition selector `{kind}` names field {field!r}, which is not "
                    f"a logical partition of collection {collection.name} (its partitions: "
                    f"{known}); declare it a projection with `partition: true`"
                )
            found.append((_tokens(ptr), frozenset(orjson.dumps(v) for v in listed)))
        return tuple(found)

    return SourceFilter(
        include=values(selector.include, "include") if selector else (),
        exclude=values(selector.exclude, "exclude") if selector else (),
        not_before=_ticks(source.not_before),
        not_after=_ticks(source.not_after),
        uuid=_tokens(collection.uuid_ptr or DEFAULT_UUID_PTR),
    )


def _ticks(text: str | None) -> int | None:
    return None if text is None else ticks_of(datetime.fromisoformat(text))


def _tokens(ptr: str) -> Pointer:
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in ptr.split("/")[1:])


def _at(document: Any, pointer: Pointer) -> Any:
    for token in pointer:
        if isinstance(document, dict):
            document = document.get(token)
        elif isinstance(document, list) and token.isdigit() and int(token) < len(document):
            document = document[int(token)]
        else:
            return None
        if document is None:
            return None
    return document
