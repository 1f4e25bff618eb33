"""The fields a binding materializes, in the order Flow packs them.

`keyPacked` holds `fieldSelection.keys` in order and `valuesPacked` holds
`fieldSelection.values` in order; the document field, when selected, arrives as
`doc`. A `SelectedField` pairs each selected field with its projection, so a
connector maps fields to columns without searching the collection spec again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from connector_kit.errors import ConfigError
from connector_kit.protocol.flow import (
    CollectionSpec,
    Exists,
    FieldSelection,
    Inference,
    Projection,
)


class FieldRole(Enum):
    KEY = "key"
    VALUE = "value"
    DOCUMENT = "document"


@dataclass(frozen=True, kw_only=True)
class SelectedField:
    field: str
    role: FieldRole
    position: int
    """Index within `keys` or `values` (the packed tuple), 0 for the document."""
    projection: Projection

    @property
    def ptr(self) -> str:
        return self.projection.ptr

    @property
    def inference(self) -> Inference:
        return self.projection.inference or Inference()

    @property
    def types(self) -> frozenset[str]:
        return frozenset(self.inference.types)

    @property
    def must_exist(self) -> bool:
        """The field is always present and never null in a document of the collection."""
        return self.inference.exists == Exists.MUST and "null" not in self.inference.types


def selected_fields(
    collection: CollectionSpec, selection: FieldSelection, *, where: str
) -> tuple[SelectedField, ...]:
    """Keys, then values, then the document field, each with its projection."""
    by_field = {p.field: p for p in collection.projections}

    def projection(field: str) -> Projection:
        found = by_field.get(field)
        if found is None:
            raise ConfigError(
                f"{where}: selected field {field!r} is not a projection of collection "
                f"{collection.name!r}; the materialization spec is inconsistent, re-publish it"
            )
        return found

    fields = [
        SelectedField(field=f, role=FieldRole.KEY, position=i, projection=projection(f))
        for i, f in enumerate(selection.keys)
    ]
    fields += [
        SelectedField(field=f, role=FieldRole.VALUE, position=i, projection=projection(f))
        for i, f in enumerate(selection.values)
    ]
    if selection.document:
        document = by_field.get(selection.document) or Projection(
            ptr="", field=selection.document, inference=Inference(types=["object"])
        )
        fields.append(
            SelectedField(
                field=selection.document, role=FieldRole.DOCUMENT, position=0, projection=document
            )
        )
    return tuple(fields)
