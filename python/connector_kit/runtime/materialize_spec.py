"""The materialize requests the Flow runtime would build for a catalog materialization.

Validate carries each enabled binding's resource config, collection spec (with
its projections), field config, backfill counter and group-by key. From the
connector's Validated answer the runtime builds the MaterializationSpec of Apply
and Open: each binding's resource path, field selection (chosen as Flow's control
plane chooses it, see `field_selection`), delta-updates flag, `stateKey` and
journal read suffix. Disabled bindings are left out, so binding numbers count
enabled bindings only, as in Flow.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from connector_kit.errors import ProtocolError
from connector_kit.protocol import flow, materialize
from connector_kit.protocol.state import encode_state_key
from connector_kit.runtime.capture_spec import collection_spec
from connector_kit.runtime.catalog import Catalog, Collection, MaterializationTask
from connector_kit.runtime.catalog_model import MaterializationBindingDef
from connector_kit.runtime.field_selection import default_group_by, select_fields


@dataclass(frozen=True)
class SourcedBinding:
    """An enabled materialization binding and the collection it reads."""

    index: int
    """Its position among the materialization's catalog bindings (for messages)."""
    definition: MaterializationBindingDef
    collection: Collection
    spec: flow.CollectionSpec

    def describe(self, task: MaterializationTask) -> str:
        resource = orjson.dumps(self.definition.resource).decode()
        return (
            f"materialization {task.name} binding {self.index} "
            f"(collection {self.collection.name}, resource {resource})"
        )


def active_bindings(task: MaterializationTask, catalog: Catalog) -> list[SourcedBinding]:
    found = []
    for index, binding in enumerate(task.spec.bindings):
        if binding.disable:
            continue
        collection = catalog.collection(
            binding.source.name,
            file=task.file,
            location=["materializations", task.name, "bindings", index, "source"],
        )
        found.append(
            SourcedBinding(
                index=index,
                definition=binding,
                collection=collection,
                spec=collection_spec(collection),
            )
        )
    return found


def validate_request(
    task: MaterializationTask,
    *,
    config: dict[str, Any],
    bindings: list[SourcedBinding],
    connector_type: str,
) -> materialize.Request:
    requested = []
    for binding in bindings:
        fields = binding.definition.fields
        entry: dict[str, Any] = {
            "resource_config": binding.definition.resource,
            "collection": binding.spec,
            "group_by": list(fields.group_by) or default_group_by(binding.spec),
        }
        if fields.require:
            entry["field_config"] = dict(fields.require)
        if binding.definition.backfill:
            entry["backfill"] = binding.definition.backfill
        requested.append(materialize.ValidateBinding(**entry))
    return materialize.Request(
        validate=materialize.Validate(
            name=task.name,
            connector_type=connector_type,
            config=config,
            bindings=requested,
        )
    )


def materialization_spec(
    task: MaterializationTask,
    *,
    config: dict[str, Any],
    bindings: list[SourcedBinding],
    validated: materialize.Validated,
    connector_type: str,
) -> flow.MaterializationSpec:
    if len(validated.bindings) != len(bindings):
        raise ProtocolError(
            f"materialization {task.name}: connector validated {len(validated.bindings)} "
            f"bindings, but {len(bindings)} were requested; Validated must answer each binding "
            "in order"
        )
    seen: dict[tuple[str, ...], int] = {}
    spec_bindings = []
    for position, (binding, answer) in enumerate(zip(bindings, validated.bindings, strict=True)):
        path = tuple(answer.resource_path)
        if not path:
            raise ProtocolError(
                f"{binding.describe(task)}: connector validated it without a resource path"
            )
        if path in seen:
            raise ProtocolError(
                f"materialization {task.name}: connector gave bindings {seen[path]} and "
                f"{position} the same resource path {list(path)}; each binding's path must "
                "be unique"
            )
        seen[path] = position
        selection = select_fields(
            collection=binding.spec,
            fields=binding.definition.fields,
            constraints=answer.constraints,
            case_insensitive=bool(answer.case_insensitive_fields),
            where=binding.describe(task),
        )
        state_key = encode_state_key(list(path), binding.definition.backfill)
        fields: dict[str, Any] = {
            "resource_config": binding.definition.resource,
            "resource_path": list(path),
            "collection": binding.spec,
            "field_selection": selection,
            "delta_updates": bool(answer.delta_updates),
            "journal_read_suffix": f"materialize/{task.name}/{state_key}",
            "state_key": state_key,
        }
        if binding.definition.priority:
            fields["priority"] = binding.definition.priority
        if binding.definition.backfill:
            fields["backfill"] = binding.definition.backfill
        source = binding.definition.source
        if source.not_before is not None:
            fields["not_before"] = source.not_before
        if source.not_after is not None:
            fields["not_after"] = source.not_after
        if answer.ser_policy is not None:
            fields["ser_policy"] = answer.ser_policy.model_dump(by_alias=True, exclude_none=True)
        spec_bindings.append(flow.MaterializationBinding(**fields))
    return flow.MaterializationSpec(
        name=task.name,
        connector_type=connector_type,
        config=config,
        bindings=spec_bindings,
    )


def spec_version(spec: flow.MaterializationSpec) -> str:
    """A version that changes whenever the spec does, as a build id would."""
    body = spec.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
