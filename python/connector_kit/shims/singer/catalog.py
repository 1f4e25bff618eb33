"""Singer catalogs: discovered streams as Flow bindings, and the catalog a sync selects by.

Selection follows the Singer metadata rules: a stream is read when its
stream-level metadata (breadcrumb `[]`) says `selected: true`; within it, every
field that is not `inclusion: unsupported` is selected too. Streams no binding
names are marked `selected: false` (a tap may still send `automatic` ones, which
the read then skips).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, get_args

from connector_kit.protocol import capture
from connector_kit.shims.schemas import ROW_ID_KEY, document_schema, escape_pointer_token
from connector_kit.shims.singer.resource import ReplicationMethod, SingerResource

METHODS = set(get_args(ReplicationMethod))


def stream_id(entry: Mapping[str, Any]) -> str:
    return str(entry.get("tap_stream_id") or entry.get("stream") or "")


def stream_metadata(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The stream-level metadata (breadcrumb `[]`) of a catalog entry."""
    for item in entry.get("metadata") or []:
        if isinstance(item, Mapping) and list(item.get("breadcrumb") or []) == []:
            return dict(item.get("metadata") or {})
    return {}


def key_properties(entry: Mapping[str, Any]) -> list[str]:
    metadata = stream_metadata(entry)
    return list(
        metadata.get("table-key-properties")
        or metadata.get("view-key-properties")
        or entry.get("key_properties")
        or []
    )


def key_pointer(prop: str) -> str:
    """A Singer key property as a JSON pointer (one that already is a pointer is kept)."""
    return prop if prop.startswith("/") else "/" + escape_pointer_token(prop)


def default_resource(entry: Mapping[str, Any]) -> SingerResource:
    metadata = stream_metadata(entry)
    valid_keys = metadata.get("valid-replication-keys") or []
    replication_key = (
        metadata.get("replication-key")
        or entry.get("replication_key")
        or (valid_keys[0] if valid_keys else None)
    )
    method = (
        metadata.get("forced-replication-method")
        or metadata.get("replication-method")
        or entry.get("replication_method")
    )
    if method not in METHODS or (method == "INCREMENTAL" and not replication_key):
        method = "INCREMENTAL" if replication_key else "FULL_TABLE"
    return SingerResource(
        stream=stream_id(entry),
        replication_method=method,
        replication_key=replication_key if method == "INCREMENTAL" else None,
    )


def discovered_binding(entry: Mapping[str, Any]) -> capture.DiscoveredBinding | None:
    """A catalog entry as a Flow binding; None for streams the tap cannot sync."""
    metadata = stream_metadata(entry)
    if metadata.get("inclusion") == "unsupported" or not stream_id(entry):
        return None
    keys = key_properties(entry)
    binding = capture.DiscoveredBinding(
        recommended_name=str(entry.get("stream") or stream_id(entry)),
        resource_config=default_resource(entry).as_config(),
        document_schema=document_schema(entry.get("schema"), keyed_by_row=not keys),
        key=[key_pointer(k) for k in keys] or [ROW_ID_KEY],
    )
    chosen = metadata.get("selected")
    if chosen is False or (chosen is None and metadata.get("selected-by-default") is False):
        binding.disable = True
    return binding


def selected_catalog(
    catalog: Mapping[str, Any], resources: Mapping[str, SingerResource]
) -> dict[str, Any]:
    """The discovered catalog with exactly the bound streams selected, as their resources say."""
    streams = []
    for entry in catalog.get("streams") or []:
        entry = copy.deepcopy(dict(entry))
        resource = resources.get(stream_id(entry))
        metadata = [dict(m) for m in entry.get("metadata") or [] if isinstance(m, Mapping)]
        if not any(list(m.get("breadcrumb") or []) == [] for m in metadata):
            metadata.insert(0, {"breadcrumb": [], "metadata": {}})
        for item in metadata:
            body = item["metadata"] = dict(item.get("metadata") or {})
            if list(item.get("breadcrumb") or []) == []:
                body["selected"] = resource is not None
                if resource is not None:
                    body["replication-method"] = resource.replication_method
                    if resource.replication_key:
                        body["replication-key"] = resource.replication_key
            elif resource is not None and body.get("inclusion") != "unsupported":
                body["selected"] = True
        entry["metadata"] = metadata
        if resource is not None:
            entry["replication_method"] = resource.replication_method
            if resource.replication_key:
                entry["replication_key"] = resource.replication_key
        streams.append(entry)
    return {**catalog, "streams": streams}
