"""The capture requests the Flow runtime would build for a catalog capture.

Validate carries each enabled binding's resource config, backfill counter and
collection spec; the CaptureSpec of Apply and Open adds what only Validated
tells (each binding's resource path) and what the runtime derives from it (the
`stateKey`), plus `intervalSeconds` and the full key range. Disabled bindings
are left out, so binding numbers count enabled bindings only, as in Flow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from connector_kit.errors import ProtocolError
from connector_kit.protocol import capture, flow
from connector_kit.protocol.state import encode_state_key
from connector_kit.runtime.catalog import CaptureTask, Catalog, Collection
from connector_kit.runtime.projections import UUID_POINTER, collection_projections


@dataclass(frozen=True)
class ActiveBinding:
    """An enabled catalog binding and the collection it captures into."""

    index: int
    """Its position among the capture's catalog bindings (for messages)."""
    resource: dict[str, Any]
    backfill: int
    collection: Collection


def active_bindings(task: CaptureTask, catalog: Catalog) -> list[ActiveBinding]:
    found = []
    for index, binding in enumerate(task.spec.bindings):
        if binding.disable:
            continue
        collection = catalog.collection(
            binding.target,
            file=task.file,
            location=["captures", task.name, "bindings", index, "target"],
        )
        found.append(
            ActiveBinding(
                index=index,
                resource=binding.resource,
                backfill=binding.backfill,
                collection=collection,
            )
        )
    return found


def collection_spec(collection: Collection) -> flow.CollectionSpec:
    fields: dict[str, Any] = {
        "name": collection.name,
        "write_schema": collection.write_schema,
        "key": collection.key,
        "uuid_ptr": UUID_POINTER,
        "projections": collection_projections(collection),
    }
    if collection.read_schema is not collection.write_schema:
        fields["read_schema"] = collection.read_schema
    partitions = sorted(f for f, p in collection.spec.projections.items() if p.partition)
    if partitions:
        fields["partition_fields"] = partitions
    return flow.CollectionSpec(**fields)


def validate_request(
    task: CaptureTask, *, config: dict[str, Any], bindings: list[ActiveBinding], connector_type: str
) -> capture.Request:
    return capture.Request(
        validate=capture.Validate(
            name=task.name,
            connector_type=connector_type,
            config=config,
            bindings=[
                capture.ValidateBinding(
                    resource_config=b.resource,
                    collection=collection_spec(b.collection),
                    **({"backfill": b.backfill} if b.backfill else {}),
                )
                for b in bindings
            ],
        )
    )


def capture_spec(
    task: CaptureTask,
    *,
    config: dict[str, Any],
    bindings: list[ActiveBinding],
    validated: capture.Validated,
    connector_type: str,
) -> flow.CaptureSpec:
    if len(validated.bindings) != len(bindings):
        raise ProtocolError(
            f"capture {task.name}: connector validated {len(validated.bindings)} bindings, "
            f"but {len(bindings)} were requested; Validated must answer each binding in order"
        )
    seen: dict[tuple[str, ...], int] = {}
    spec_bindings = []
    for position, (binding, answer) in enumerate(zip(bindings, validated.bindings, strict=True)):
        path = tuple(answer.resource_path)
        if path in seen:
            raise ProtocolError(
                f"capture {task.name}: connector gave bindings {seen[path]} and {position} the "
                f"same resource path {list(path)}; each binding's path must be unique"
            )
        seen[path] = position
        fields: dict[str, Any] = {
            "resource_config": binding.resource,
            "resource_path": list(path),
            "collection": collection_spec(binding.collection),
            "state_key": encode_state_key(list(path), binding.backfill),
        }
        if binding.backfill:
            # proto3 JSON leaves zero values out, and so does the Flow runtime.
            fields["backfill"] = binding.backfill
        spec_bindings.append(flow.CaptureBinding(**fields))
    return flow.CaptureSpec(
        name=task.name,
        connector_type=connector_type,
        config=config,
        bindings=spec_bindings,
        interval_seconds=round(task.spec.interval),
    )


def spec_version(spec: flow.CaptureSpec) -> str:
    """A version that changes whenever the spec does, as a build id would."""
    body = spec.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
