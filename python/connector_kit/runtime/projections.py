"""Projections of a collection: the named fields a collection spec offers connectors.

As in Flow, every location reachable through `properties` becomes a field named
by its JSON pointer without the leading slash (`/a/b` → `a/b`), the document
root is `flow_document`, `flow_published_at` projects `/_meta/uuid`, key
locations are primary keys, and the catalog's own `projections` add explicit
fields (and logical partitions). Each projection carries the types, string
format and existence inferred from the schema.
"""

from __future__ import annotations

from typing import Any

from connector_kit.protocol import flow
from connector_kit.runtime.catalog import Collection

DOCUMENT_FIELD = "flow_document"
PUBLISHED_AT_FIELD = "flow_published_at"
UUID_POINTER = "/_meta/uuid"

_MAX_DEPTH = 16


def escape_pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def collection_projections(collection: Collection) -> list[flow.Projection]:
    schema = collection.write_schema if isinstance(collection.write_schema, dict) else {}
    key = set(collection.key)
    by_field: dict[str, flow.Projection] = {}

    def add(
        field: str,
        ptr: str,
        inference: flow.Inference,
        *,
        explicit: bool = False,
        partition: bool = False,
    ) -> None:
        by_field[field] = flow.Projection(
            **_given(
                ptr=ptr or None,
                field=field,
                explicit=explicit or None,
                is_partition_key=partition or None,
                is_primary_key=(ptr in key) or None,
                inference=inference,
            )
        )

    resolver = _Resolver(schema)
    locations = dict(
        _walk(resolver.flatten(schema), ptr="", must_exist=True, depth=0, resolver=resolver)
    )
    for ptr, inference in locations.items():
        if ptr:
            add(ptr[1:], ptr, inference)
    for ptr in collection.key:
        if ptr not in locations:
            add(ptr[1:], ptr, flow.Inference(exists=flow.Exists.MAY))
    add(
        PUBLISHED_AT_FIELD,
        UUID_POINTER,
        flow.Inference(
            types=["string"],
            string=flow.StringInference(format="date-time"),
            description="Flow Publication Time",
            exists=flow.Exists.MUST,
        ),
    )
    add(DOCUMENT_FIELD, "", locations.get("", flow.Inference(types=["object"])))
    for field, projection in collection.spec.projections.items():
        inference = locations.get(projection.location, flow.Inference(exists=flow.Exists.MAY))
        add(
            field,
            projection.location,
            inference,
            explicit=True,
            partition=projection.partition,
        )
    return [by_field[name] for name in sorted(by_field)]


class _Resolver:
    """Folds local `$ref`s and `allOf` members into one schema object per location.

    Projections need each location's properties, required names and types; a schema
    that spreads them over `$defs` (as pydantic writes them) or `allOf` gets the same
    projections as one that writes them inline.
    """

    def __init__(self, root: Any) -> None:
        self._root = root

    def flatten(self, schema: Any, *, depth: int = 0) -> Any:
        if not isinstance(schema, dict) or depth > _MAX_DEPTH:
            return schema
        parts = [schema]
        reference = schema.get("$ref")
        if isinstance(reference, str) and reference.startswith("#"):
            target = self._resolve(reference[1:])
            if target is not None:
                parts.append(self.flatten(target, depth=depth + 1))
        for member in schema.get("allOf") or ():
            parts.append(self.flatten(member, depth=depth + 1))
        if len(parts) == 1:
            return schema
        merged: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        required: list[str] = []
        types: set[str] | None = None
        for part in parts:
            if not isinstance(part, dict):
                continue
            for key, value in part.items():
                if key not in ("properties", "required", "type", "$ref", "allOf"):
                    merged.setdefault(key, value)
            for name, child in (part.get("properties") or {}).items():
                properties.setdefault(name, child)
            required.extend(r for r in part.get("required") or () if r not in required)
            declared = part.get("type")
            if declared is not None:
                names = {declared} if isinstance(declared, str) else set(declared)
                types = names if types is None else types & names
        if properties:
            merged["properties"] = properties
        if required:
            merged["required"] = required
        if types is not None:
            merged["type"] = sorted(types)
        return merged

    def _resolve(self, pointer: str) -> Any:
        target = self._root
        for token in pointer.split("/")[1:] if pointer else []:
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or token not in target:
                return None
            target = target[token]
        return target


def _walk(
    schema: Any, *, ptr: str, must_exist: bool, depth: int, resolver: _Resolver | None = None
) -> list[tuple[str, flow.Inference]]:
    if not isinstance(schema, dict):
        return [(ptr, flow.Inference(exists=_exists(must_exist)))]
    found = [(ptr, _inference(schema, must_exist=must_exist))]
    properties = schema.get("properties")
    if depth >= _MAX_DEPTH or not isinstance(properties, dict):
        return found
    required = schema.get("required")
    required_names = set(required) if isinstance(required, list) else set()
    for name, child in properties.items():
        found.extend(
            _walk(
                resolver.flatten(child) if resolver is not None else child,
                ptr=f"{ptr}/{escape_pointer_token(name)}",
                must_exist=must_exist and name in required_names,
                depth=depth + 1,
                resolver=resolver,
            )
        )
    return found


def _exists(must_exist: bool) -> flow.Exists:
    return flow.Exists.MUST if must_exist else flow.Exists.MAY


def _inference(schema: dict[str, Any], *, must_exist: bool) -> flow.Inference:
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else list(declared or [])
    string = None
    if "string" in types and any(
        k in schema for k in ("format", "contentEncoding", "contentMediaType", "maxLength")
    ):
        string = flow.StringInference(
            **_given(
                format=schema.get("format"),
                content_encoding=schema.get("contentEncoding"),
                content_type=schema.get("contentMediaType"),
                max_length=schema.get("maxLength"),
            )
        )
    return flow.Inference(
        **_given(
            types=sorted(types) or None,
            string=string,
            title=schema.get("title"),
            description=schema.get("description"),
            default=schema.get("default"),
            secret=schema.get("secret"),
            exists=_exists(must_exist),
        )
    )


def _given(**fields: Any) -> dict[str, Any]:
    """Only the fields that have a value: messages leave unset fields out entirely."""
    return {name: value for name, value in fields.items() if value is not None}
