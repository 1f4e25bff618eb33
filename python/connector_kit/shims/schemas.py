"""JSON-schema and key helpers both shims need: secrets, `_meta` fields and JSON pointers."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

ROW_ID_KEY = "/_meta/row_id"
_SECRET_MARKS = ("secret", "airbyte_secret", "writeOnly")


def escape_pointer_token(token: str) -> str:
    """One JSON-pointer reference token (RFC 6901): `~` → `~0`, `/` → `~1`."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer(path: Sequence[str]) -> str:
    return "".join("/" + escape_pointer_token(part) for part in path)


def value_at(doc: Mapping[str, Any], path: Sequence[str]) -> Any:
    """The value at `path` in `doc`, or None where the path is absent."""
    node: Any = doc
    for part in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def parse_pointer(ptr: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in ptr.split("/")[1:]]


def with_secret_marks(schema: Any) -> Any:
    """A copy of a config schema where every `airbyte_secret: true` also says `secret: true`."""
    schema = copy.deepcopy(schema)
    _mark(schema)
    return schema


def _mark(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("airbyte_secret") is True or node.get("writeOnly") is True:
            node.setdefault("secret", True)
        for child in node.values():
            _mark(child)
    elif isinstance(node, list):
        for child in node:
            _mark(child)


def with_bare_types_repaired(schema: Any) -> Any:
    """A copy of `schema` where a bare type name inside anyOf/oneOf/allOf becomes a schema.

    singer-sdk's `--about` settings write `"null"` where `{"type": "null"}` belongs,
    which JSON-schema validators (and so Flow) reject.
    """
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
                value = [{"type": v} if isinstance(v, str) else v for v in value]
            out[key] = with_bare_types_repaired(value)
        return out
    if isinstance(schema, list):
        return [with_bare_types_repaired(item) for item in schema]
    return schema


def secret_values(schema: Any, config: Any) -> set[str]:
    """The config values whose schema marks them secret, at any depth (oneOf/anyOf included)."""
    return set(_secrets(schema, config))


def _secrets(schema: Any, value: Any) -> Iterator[str]:
    if not isinstance(schema, Mapping):
        return
    if any(schema.get(mark) is True for mark in _SECRET_MARKS) and value is not None:
        yield str(value)
        return
    for branch in _branches(schema):
        yield from _secrets(branch, value)
    if isinstance(value, Mapping):
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            for name, child in properties.items():
                if name in value:
                    yield from _secrets(child, value[name])
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for item in value:
            yield from _secrets(schema["items"], item)


def _branches(schema: Mapping[str, Any]) -> Iterable[Any]:
    for keyword in ("oneOf", "anyOf", "allOf"):
        options = schema.get(keyword)
        if isinstance(options, list):
            yield from options


META_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "row_id": {
            "type": "integer",
            "description": "Position of the row within its sync, for streams without a key.",
        },
        "op": {
            "enum": ["c", "u", "d"],
            "description": "Create, update or delete; a `d` document removes its key.",
        },
        "version": {
            "type": "integer",
            "description": "The Singer table version the document was read in.",
        },
    },
}


def document_schema(source_schema: Any, *, keyed_by_row: bool) -> dict[str, Any]:
    """The delegate's stream schema plus the `_meta` fields the shim adds.

    A deletion document carries only the key and `_meta`, so the source's
    required fields apply to every document except deletions, which reduce
    their key away.
    """
    schema: dict[str, Any] = dict(source_schema) if isinstance(source_schema, Mapping) else {}
    schema.setdefault("type", "object")
    meta = copy.deepcopy(META_SCHEMA)
    if keyed_by_row:
        meta["required"] = ["row_id"]
    properties = dict(schema.get("properties") or {})
    properties["_meta"] = meta
    schema["properties"] = properties
    source_required = [r for r in schema.get("required") or [] if r != "_meta"]
    schema["required"] = ["_meta"] if keyed_by_row else []
    if not schema["required"]:
        del schema["required"]
    # `required` matters: without it a document lacking `_meta.op` would match `if`.
    schema["if"] = {
        "required": ["_meta"],
        "properties": {"_meta": {"required": ["op"], "properties": {"op": {"const": "d"}}}},
    }
    schema["then"] = {"reduce": {"strategy": "merge", "delete": True}}
    if source_required:
        schema["else"] = {"required": source_required}
    return schema


def source_schema(collection_schema: Any) -> Any:
    """A collection schema without what `document_schema` added: the stream's own schema."""
    if not isinstance(collection_schema, Mapping):
        return collection_schema
    schema = {k: v for k, v in collection_schema.items() if k not in ("if", "then", "else")}
    properties = schema.get("properties")
    if isinstance(properties, Mapping) and "_meta" in properties:
        schema["properties"] = {k: v for k, v in properties.items() if k != "_meta"}
    required = (collection_schema.get("else") or {}).get("required")
    if required:
        schema["required"] = required
    else:
        schema.pop("required", None)
    return schema
