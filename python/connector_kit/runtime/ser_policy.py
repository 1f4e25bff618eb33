"""A connector's serialization policy: how long strings, arrays and nested objects may be.

A materialization may answer Validate with a `serPolicy` for a binding (Flow's SQL
warehouses do, to keep rows within their limits). The runtime then truncates what
it sends for that binding, as Flow's runtime does: the `doc` of a Store and the
packed values, never the keys (a truncated key would merge distinct rows).

* a string longer than `strTruncateAfter` UTF-8 bytes keeps its longest prefix that
  fits and ends on a character boundary;
* an array keeps its first `arrayTruncateAfter` items;
* an object keeps its first `nestedObjTruncateAfter` properties in sorted order, as
  Flow's sorted documents do, except the root object, which is never truncated;
* nothing below a depth of 126 is kept (Flow's serializer's limit).

A limit of zero, or none, means no limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from connector_kit.protocol import flow

MAX_DEPTH = 126


@dataclass(frozen=True, kw_only=True)
class Truncation:
    strings: int | None = None
    """UTF-8 bytes a string may have."""
    arrays: int | None = None
    nested_objects: int | None = None

    @classmethod
    def of(cls, policy: flow.SerPolicy | dict[str, Any] | None) -> Truncation | None:
        """The truncation a connector's policy (model or its JSON) asks for; None: none."""
        if policy is None:
            return None
        if isinstance(policy, dict):
            policy = flow.SerPolicy.model_validate(policy)
        found = cls(
            strings=policy.str_truncate_after or None,
            arrays=policy.array_truncate_after or None,
            nested_objects=policy.nested_obj_truncate_after or None,
        )
        return found if found != cls() else None

    def value(self, value: Any) -> Any:
        """A projected value, truncated (its own top level counts as the root)."""
        return self._apply(value, depth=0)[0]

    def document_json(self, json: bytes) -> bytes:
        """A document's JSON, truncated; the same bytes when nothing needed truncating."""
        truncated, changed = self._apply(orjson.loads(json), depth=0)
        return orjson.dumps(truncated) if changed else json

    def _apply(self, value: Any, *, depth: int) -> tuple[Any, bool]:
        kind = type(value)
        if kind is str:
            return self._string(value)
        if kind is list:
            limit = self.arrays if depth < MAX_DEPTH else 0
            changed = limit is not None and len(value) > limit
            items = value[:limit] if changed else value
            out = []
            for item in items:
                item, inner = self._apply(item, depth=depth + 1)
                out.append(item)
                changed = changed or inner
            return (out, True) if changed else (value, False)
        if kind is dict:
            limit = None if depth == 0 else self.nested_objects if depth < MAX_DEPTH else 0
            changed = limit is not None and len(value) > limit
            keys = sorted(value)[:limit] if changed else list(value)
            out_map = {}
            for key in keys:
                item, inner = self._apply(value[key], depth=depth + 1)
                out_map[key] = item
                changed = changed or inner
            return (out_map, True) if changed else (value, False)
        return value, False

    def _string(self, text: str) -> tuple[str, bool]:
        limit = self.strings
        if limit is None or len(text) * 4 <= limit:
            return text, False
        encoded = text.encode()
        if len(encoded) <= limit:
            return text, False
        return encoded[:limit].decode("utf-8", "ignore"), True
