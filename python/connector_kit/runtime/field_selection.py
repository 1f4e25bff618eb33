"""The fields a materialization binding selects, decided as Flow's control plane decides them.

Every reason to select a field (it is a group-by key, the user requires it, the
connector requires it or its location, it is a partition key, a user-defined
projection, core metadata, or within the `recommended` depth) and every reason
to reject it (the user excludes it, the connector forbids it or cannot hold it,
the collection or the connector omits it, its location is already covered by
another selected field, its folded name collides with one) is gathered per
field. The strongest reason on each side wins. Fields are then considered in
order of their strongest select reason, so keys and required fields claim their
locations before recommended ones. A select and a reject that cannot both give
way is a conflict, and conflicts are an error naming the binding and the field.

Without a live (previously published) spec, the local runtime treats a connector's
INCOMPATIBLE constraint as a rejection: the destination exists and cannot hold
the field, so selecting it would fail at Apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from connector_kit.errors import ConfigError
from connector_kit.protocol import flow
from connector_kit.protocol.materialize import Constraint, ConstraintType
from connector_kit.runtime.catalog_model import FieldsDef

PUBLISHED_AT_FIELD = "flow_published_at"
CORE_METADATA = frozenset({PUBLISHED_AT_FIELD, "_meta/op"})


class Select(IntEnum):
    """Why a field is selected, weakest first."""

    DESIRED_DEPTH = 1
    CORE_METADATA = 2
    CONNECTOR_REQUIRES_LOCATION = 3
    USER_DEFINED = 4
    PARTITION_KEY = 5
    CONNECTOR_REQUIRES = 6
    USER_REQUIRES = 7
    GROUP_BY_KEY = 8


class Reject(IntEnum):
    """Why a field is not selected, weakest first."""

    NOT_SELECTED = 1
    COVERED_LOCATION = 2
    EXCLUDED_PARENT = 3
    DUPLICATE_LOCATION = 4
    DUPLICATE_FOLD = 5
    CONNECTOR_OMITS = 6
    COLLECTION_OMITS = 7
    CONNECTOR_INCOMPATIBLE = 8
    CONNECTOR_FORBIDS = 9
    USER_EXCLUDES = 10


_SELECT_TEXT = {
    Select.DESIRED_DEPTH: "field is within the desired depth",
    Select.CORE_METADATA: "field is important metadata which is typically selected",
    Select.CONNECTOR_REQUIRES_LOCATION: "field's location is required by the connector",
    Select.USER_DEFINED: "field is a user-defined projection",
    Select.PARTITION_KEY: "field is a partition key of the collection",
    Select.CONNECTOR_REQUIRES: "field is required by the connector",
    Select.USER_REQUIRES: "field is required by the binding's `fields.require`",
    Select.GROUP_BY_KEY: "field is part of the materialization group-by key",
}
_REJECT_TEXT = {
    Reject.NOT_SELECTED: "field doesn't meet any selection criteria",
    Reject.COVERED_LOCATION: "field's location is underneath another selected field",
    Reject.EXCLUDED_PARENT: "field's parent location is excluded by the user's field selection",
    Reject.DUPLICATE_LOCATION: "field's location is already materialized by another field",
    Reject.DUPLICATE_FOLD: "field's name folds to the name of another selected field",
    Reject.CONNECTOR_OMITS: "connector didn't return a constraint for this field",
    Reject.COLLECTION_OMITS: "field does not exist within the source collection",
    Reject.CONNECTOR_INCOMPATIBLE: "connector cannot support this field without a back-fill",
    Reject.CONNECTOR_FORBIDS: "field is forbidden by the connector",
    Reject.USER_EXCLUDES: "field is excluded by the binding's `fields.exclude`",
}
# Select reasons that give way to any reject reason.
_YIELDING = frozenset(
    {Select.DESIRED_DEPTH, Select.CORE_METADATA, Select.USER_DEFINED, Select.PARTITION_KEY}
)


@dataclass(frozen=True)
class Conflict:
    field: str
    select: Select
    reject: Reject
    reason: str = ""
    """The connector's reason, when the select or reject came from its constraint."""

    def describe(self) -> str:
        detail = f" ({self.reason})" if self.reason else ""
        return (
            f"conflict for field {self.field!r}: {_SELECT_TEXT[self.select]} but "
            f"{_REJECT_TEXT[self.reject]}{detail}"
        )


def default_group_by(collection: flow.CollectionSpec) -> list[str]:
    """The collection key as fields: for each key pointer its canonical projection."""
    fields = []
    for pointer in collection.key:
        candidates = [p.field for p in collection.projections if p.ptr == pointer]
        canonical = pointer[1:]
        fields.append(canonical if canonical in candidates or not candidates else candidates[0])
    return fields


def select_fields(
    *,
    collection: flow.CollectionSpec,
    fields: FieldsDef,
    constraints: Mapping[str, Constraint],
    case_insensitive: bool,
    where: str,
) -> flow.FieldSelection:
    """The binding's field selection, or a ConfigError listing every conflict."""
    group_by = list(fields.group_by) or default_group_by(collection)
    selects, rejects, reasons = _reasons(collection, fields, group_by, constraints)
    document, outcomes, conflicts = _decide(
        collection=collection,
        selects=selects,
        rejects=rejects,
        reasons=reasons,
        constraints=constraints,
        case_insensitive=case_insensitive,
    )
    if conflicts:
        raise ConfigError(
            f"{where}: the field selection cannot be satisfied:\n"
            + "\n".join(f"  {c.describe()}" for c in conflicts)
            + "\nchange the binding's `fields` (require/exclude) or the destination"
        )
    values = sorted(
        field
        for field, selected in outcomes.items()
        if selected and field != document and field not in group_by
    )
    selection: dict[str, Any] = {"keys": group_by, "values": values}
    if document:
        selection["document"] = document
    if fields.require:
        selection["field_config"] = dict(fields.require)
    return flow.FieldSelection(**selection)


def _worse(why: Reject, current: Reject | None) -> Reject:
    return why if current is None else max(current, why)


def _depth(pointer: str) -> int:
    return len(pointer.split("/")) - 1 if pointer else 0


def _is_parent_of(parent: str, child: str) -> bool:
    return len(child) > len(parent) and child.startswith(parent + "/")


def _types(projection: flow.Projection) -> frozenset[str]:
    return frozenset(projection.inference.types if projection.inference else ())


def _reasons(
    collection: flow.CollectionSpec,
    fields: FieldsDef,
    group_by: Sequence[str],
    constraints: Mapping[str, Constraint],
) -> tuple[dict[str, Select], dict[str, Reject], dict[str, str]]:
    """The strongest select and reject reason of each field, and connector reasons."""
    selects: dict[str, Select] = {}
    rejects: dict[str, Reject] = {}
    reasons: dict[str, str] = {}

    def select(field: str, why: Select) -> None:
        selects[field] = max(selects.get(field, why), why)

    def reject(field: str, why: Reject) -> None:
        rejects[field] = max(rejects.get(field, why), why)

    recommended = fields.recommended
    desired_depth = (1 << 30) if recommended is True else int(recommended)
    for field in group_by:
        select(field, Select.GROUP_BY_KEY)
    for field in fields.require:
        select(field, Select.USER_REQUIRES)
    for field in fields.exclude:
        reject(field, Reject.USER_EXCLUDES)

    ordered = sorted(collection.projections, key=lambda p: p.ptr)
    for position, projection in enumerate(ordered):
        field, pointer = projection.field, projection.ptr
        if projection.is_partition_key:
            select(field, Select.PARTITION_KEY)
        if desired_depth > 0 and projection.explicit:
            select(field, Select.USER_DEFINED)
        if desired_depth > 0 and field in CORE_METADATA:
            select(field, Select.CORE_METADATA)
        depth = _depth(pointer)
        following = ordered[position + 1] if position + 1 < len(ordered) else None
        has_children = following is not None and _is_parent_of(pointer, following.ptr)
        if desired_depth == 0 or pointer.startswith("/_meta") or depth > desired_depth:
            desired = False
        elif depth == desired_depth:
            desired = True
        elif _types(projection) - {"null"} != {"object"}:
            desired = True  # below the depth and not an object
        else:
            # An object with no projected children is desired, except with
            # `recommended: true`, which keeps Flow's long-standing selection.
            desired = not has_children and recommended is not True
        if desired:
            select(field, Select.DESIRED_DEPTH)

    for field, constraint in constraints.items():
        kind = constraint.type
        if kind == ConstraintType.FIELD_REQUIRED:
            select(field, Select.CONNECTOR_REQUIRES)
        elif kind == ConstraintType.LOCATION_REQUIRED:
            select(field, Select.CONNECTOR_REQUIRES_LOCATION)
        elif kind == ConstraintType.FIELD_FORBIDDEN:
            reject(field, Reject.CONNECTOR_FORBIDS)
        elif kind in (ConstraintType.INCOMPATIBLE, ConstraintType.UNSATISFIABLE):
            reject(field, Reject.CONNECTOR_INCOMPATIBLE)
        else:
            continue
        if constraint.reason:
            reasons[field] = constraint.reason
    return selects, rejects, reasons


def _decide(
    *,
    collection: flow.CollectionSpec,
    selects: dict[str, Select],
    rejects: dict[str, Reject],
    reasons: dict[str, str],
    constraints: Mapping[str, Constraint],
    case_insensitive: bool,
) -> tuple[str | None, dict[str, bool], list[Conflict]]:
    projections = {p.field: p for p in collection.projections}
    names = sorted(set(selects) | set(rejects) | set(projections) | set(constraints))
    # Strongest select first; fields without one last; names break ties (stable sort).
    names.sort(key=lambda f: -selects.get(f, 0))

    excluded_parents = [
        projections[f].ptr
        for f in names
        if rejects.get(f) == Reject.USER_EXCLUDES
        and f in projections
        and projections[f].ptr[1:] == f
        and projections[f].ptr
    ]
    document: str | None = None
    outcomes: dict[str, bool] = {}
    conflicts: list[Conflict] = []
    selected_folds: dict[str, str] = {}
    selected_ptrs: list[str] = []

    for field in names:
        select = selects.get(field)
        reject = rejects.get(field)
        constraint = constraints.get(field)
        folded = field
        if constraint is None:
            reject = _worse(Reject.CONNECTOR_OMITS, reject)
        elif constraint.folded_field:
            folded = constraint.folded_field
        if case_insensitive:
            folded = folded.lower()
        projection = projections.get(field)
        pointer = projection.ptr if projection is not None else ""
        if projection is None:
            reject = _worse(Reject.COLLECTION_OMITS, reject)
        if folded in selected_folds:
            reject = _worse(Reject.DUPLICATE_FOLD, reject)

        if projection is not None and pointer in selected_ptrs:
            if select in (
                None,
                Select.CORE_METADATA,
                Select.DESIRED_DEPTH,
                Select.CONNECTOR_REQUIRES_LOCATION,
            ):
                select = None
                reject = _worse(Reject.DUPLICATE_LOCATION, reject)
        elif any(_is_parent_of(p, pointer) for p in selected_ptrs):
            if select in (None, Select.DESIRED_DEPTH):
                select = None
                reject = _worse(Reject.COVERED_LOCATION, reject)
        elif any(_is_parent_of(p, pointer) for p in excluded_parents) and select in (
            None,
            Select.DESIRED_DEPTH,
        ):
            select = None
            reject = _worse(Reject.EXCLUDED_PARENT, reject)

        if select is None:
            outcomes[field] = False
            continue
        if reject is not None:
            if select in _YIELDING and reject != Reject.CONNECTOR_INCOMPATIBLE:
                outcomes[field] = False
                continue
            conflicts.append(
                Conflict(field=field, select=select, reject=reject, reason=reasons.get(field, ""))
            )
            outcomes[field] = False
            continue
        outcomes[field] = True
        if pointer:
            selected_ptrs.append(pointer)
        elif document is None:
            document = field
        selected_folds[folded] = field
    return document, outcomes, conflicts
