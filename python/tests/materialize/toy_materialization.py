"""A small, complete materialization kept in memory: the framework's tests drive it in-process."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, Field

from connector_kit.materialize import (
    BindingToValidate,
    FaultPoints,
    Materialization,
    MaterializeConnector,
    OpenedTransactor,
    StoreBatch,
)
from connector_kit.protocol.base import JsonValue
from connector_kit.protocol.flow import RangeSpec
from connector_kit.protocol.materialize import Constraint, ConstraintType, ValidatedBinding
from connector_kit.tuple import TupleValue


class ToyConfig(BaseModel):
    name: str = "toy"


class ToyResource(BaseModel):
    table: str = Field(json_schema_extra={"x-collection-name": True})


@dataclass
class ToyStore:
    """The destination: committed documents per table and key, and the last checkpoint."""

    tables: dict[str, dict[tuple[TupleValue, ...], Any]] = field(default_factory=dict)
    checkpoint: JsonValue | None = None
    batches: list[StoreBatch] = field(default_factory=list)
    loads: list[tuple[int, list[tuple[TupleValue, ...]]]] = field(default_factory=list)


@dataclass
class ToyTransactor:
    store_: ToyStore
    tables: list[str]
    staged: list[StoreBatch] = field(default_factory=list)
    closed: bool = False

    def load(self, *, binding: int, keys: Sequence[tuple[TupleValue, ...]]) -> Iterable[str]:
        self.store_.loads.append((binding, list(keys)))
        table = self.store_.tables.get(self.tables[binding], {})
        return [orjson.dumps(table[k]).decode() for k in keys if k in table]

    def store(self, batch: StoreBatch) -> None:
        self.staged.append(batch)
        self.store_.batches.append(batch)

    def commit(self, *, runtime_checkpoint: JsonValue) -> None:
        for batch in self.staged:
            for row in batch.rows():
                table = self.store_.tables.setdefault(self.tables[row.binding], {})
                if row.delete:
                    table.pop(row.key, None)
                else:
                    table[row.key] = row.doc
        self.staged.clear()
        self.store_.checkpoint = runtime_checkpoint

    def close(self) -> None:
        self.closed = True


@dataclass
class ToyMaterializer:
    destination: ToyStore = field(default_factory=ToyStore)

    def validate(
        self, *, config: ToyConfig, bindings: Sequence[BindingToValidate[ToyResource]]
    ) -> list[ValidatedBinding]:
        return [
            ValidatedBinding(
                constraints={
                    p.field: Constraint(type=ConstraintType.FIELD_OPTIONAL, reason="any")
                    for p in b.collection.projections
                },
                resource_path=[b.resource.table],
            )
            for b in bindings
        ]

    def apply(
        self, *, config: ToyConfig, materialization: Materialization[ToyResource]
    ) -> list[str]:
        created = []
        for b in materialization.bindings:
            if b.resource.table not in self.destination.tables:
                self.destination.tables[b.resource.table] = {}
                created.append(f"created {b.resource.table}")
        return created

    def open(
        self,
        *,
        config: ToyConfig,
        materialization: Materialization[ToyResource],
        key_range: RangeSpec,
        faults: FaultPoints,
    ) -> OpenedTransactor:
        transactor = ToyTransactor(
            self.destination, [b.resource.table for b in materialization.bindings]
        )
        return OpenedTransactor(
            transactor=transactor, runtime_checkpoint=self.destination.checkpoint
        )


def toy_connector(
    *, store_batch_bytes: int = 1 << 20
) -> tuple[MaterializeConnector[ToyConfig, ToyResource], ToyStore]:
    """A connector over a fresh in-memory destination, and that destination."""
    materializer = ToyMaterializer()
    connector = MaterializeConnector(
        endpoint_config=ToyConfig,
        resource_config=ToyResource,
        materializer=materializer,
        store_batch_bytes=store_batch_bytes,
    )
    return connector, materializer.destination
