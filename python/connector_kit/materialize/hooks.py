"""The typed hooks a materialization implements; the framework drives them in protocol order.

Two small objects, not one large one:

* a `Materializer` answers the session-level requests (validate, apply, open) and is
  stateless; `open` returns an `OpenedTransactor`;
* a `Transactor` owns one opened session's connection and fence and sees the
  transactions: `load` all keys of a binding at once, `store` batches of Store
  lines, `commit` them with the runtime checkpoint.

Spec is not a hook: it is derived from the endpoint and resource config models.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from connector_kit.materialize.batches import StoreBatch
from connector_kit.materialize.faults import FaultPoints
from connector_kit.materialize.fields import SelectedField
from connector_kit.protocol.base import JsonValue
from connector_kit.protocol.flow import CollectionSpec, MaterializationBinding, RangeSpec
from connector_kit.protocol.materialize import ValidatedBinding
from connector_kit.tuple import TupleValue

ConfigT = TypeVar("ConfigT", bound=BaseModel)
ResourceT = TypeVar("ResourceT", bound=BaseModel)
ConfigT_contra = TypeVar("ConfigT_contra", bound=BaseModel, contravariant=True)
ResourceT_contra = TypeVar("ResourceT_contra", bound=BaseModel, contravariant=True)
ResourceT_co = TypeVar("ResourceT_co", bound=BaseModel, covariant=True)


@dataclass(frozen=True, kw_only=True)
class BindingToValidate(Generic[ResourceT_co]):
    """One binding of a Validate request, its resource config already parsed."""

    index: int
    resource: ResourceT_co
    collection: CollectionSpec
    field_config: dict[str, Any] = field(default_factory=dict)
    backfill: int = 0


@dataclass(frozen=True, kw_only=True)
class Binding(Generic[ResourceT_co]):
    """One binding of an applied or opened materialization, with its selected fields."""

    index: int
    resource: ResourceT_co
    spec: MaterializationBinding
    fields: tuple[SelectedField, ...]

    @property
    def collection(self) -> CollectionSpec:
        return self.spec.collection

    @property
    def delta_updates(self) -> bool:
        return self.spec.delta_updates

    @property
    def document_field(self) -> str | None:
        return self.spec.field_selection.document or None


@dataclass(frozen=True, kw_only=True)
class Materialization(Generic[ResourceT_co]):
    """What Apply and Open describe: the task's name and its parsed bindings."""

    name: str
    bindings: tuple[Binding[ResourceT_co], ...]


class Transactor(Protocol):
    def load(
        self, *, binding: int, keys: Sequence[tuple[TupleValue, ...]]
    ) -> Iterable[str | bytes]:
        """The stored documents (JSON text) of those `keys` that exist; missing keys are skipped.

        Called once per binding per transaction, at Flush, with every key the
        transaction loads for that binding.
        """
        ...

    def store(self, batch: StoreBatch) -> None:
        """Stage a batch of Store lines: parse them in bulk, or call `batch.rows()`.

        Runs on the framework's store thread, one batch at a time, while the next batch
        is read; a line that is not a valid Store must end in the ProtocolError that
        `batch.rows()` raises for it.
        """
        ...

    def commit(self, *, runtime_checkpoint: JsonValue) -> None:
        """Durably apply every staged row together with `runtime_checkpoint`, or raise."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class OpenedTransactor:
    transactor: Transactor
    runtime_checkpoint: JsonValue | None
    """The checkpoint the destination committed last; None leaves it out of `opened`."""


class Materializer(Protocol[ConfigT_contra, ResourceT_contra]):
    def validate(
        self, *, config: ConfigT_contra, bindings: Sequence[BindingToValidate[ResourceT_contra]]
    ) -> list[ValidatedBinding]:
        """One ValidatedBinding (constraints per projection, resource path) per binding."""
        ...

    def apply(
        self, *, config: ConfigT_contra, materialization: Materialization[ResourceT_contra]
    ) -> list[str]:
        """Bring the destination in line with the spec, idempotently; return the actions taken."""
        ...

    def open(
        self,
        *,
        config: ConfigT_contra,
        materialization: Materialization[ResourceT_contra],
        key_range: RangeSpec,
        faults: FaultPoints,
    ) -> OpenedTransactor:
        """Fence off older instances of this range and recover the last committed checkpoint."""
        ...
