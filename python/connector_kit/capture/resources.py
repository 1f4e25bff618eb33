"""What a connector author declares: resource configs, resources and their fetch contracts.

A resource is read by one of three contracts, each an async generator:

* **Incremental** — `fetch(cursor)` yields documents, then a new cursor. Each cursor
  closes a transaction: the documents before it and the cursor are checkpointed
  together. Cursors must strictly increase; documents yielded after the last
  cursor are an error (they could never be checkpointed). The generator must not
  block forever: return when caught up and the framework calls it again after the
  resource's `interval`.
* **Backfill** — `fetch(page, cutoff)` pages through history: it yields documents,
  then the watermark (`page`) to resume from. `page` is None on the first call;
  the backfill ends when the generator returns. `cutoff` is the incremental
  resource's start cursor (None without one), so the two never overlap.
* **Snapshot** — `fetch()` yields the whole resource every `interval`. Documents
  get `_meta.row_id`; rows that disappear are emitted as deletions
  (`_meta.op = "d"`) when the resource is keyed by `/_meta/row_id`.

Any of them may also yield `SourcedSchema` to publish the schema it reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from connector_kit.errors import ConfigError

Cursor = datetime | int | float | str | tuple[Any, ...]
"""A position in a source: anything ordered that is not a document."""

C = TypeVar("C", bound=Cursor)
P = TypeVar("P")

Document = Mapping[str, Any] | BaseModel | Any
"""A dict, a pydantic model, or a pyarrow RecordBatch (each row a document)."""

ROW_ID_KEY = "/_meta/row_id"


@dataclass(frozen=True)
class SourcedSchema:
    """Yield this from a fetch function to tell the runtime the schema the source reports."""

    schema: Mapping[str, Any]


class ResourceConfig(BaseModel):
    """A binding's resource: which stream of the source, and how often to poll it."""

    model_config = ConfigDict(extra="forbid", title="Resource")

    PATH_POINTERS: ClassVar[list[str]] = ["/name"]

    name: str = Field(description="Name of the resource in the source.", min_length=1)
    interval: timedelta = Field(
        default=timedelta(minutes=5),
        description="How long to wait between polls once the resource is caught up.",
    )

    def path(self) -> list[str]:
        return [self.name]


@dataclass(frozen=True, kw_only=True)
class Incremental(Generic[C]):
    fetch: Callable[[C], AsyncIterator[Any]]
    start: C


@dataclass(frozen=True, kw_only=True)
class Backfill(Generic[P]):
    fetch: Callable[[P | None, Any], AsyncIterator[Any]]


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    fetch: Callable[[], AsyncIterator[Any]]


@dataclass(frozen=True, kw_only=True)
class Resource:
    """One stream of the source, offered by discovery and read by one or two contracts."""

    name: str
    key: Sequence[str]
    document: type[BaseModel] | Mapping[str, Any]
    incremental: Incremental[Any] | None = None
    backfill: Backfill[Any] | None = None
    snapshot: Snapshot | None = None
    disable: bool = False
    interval: timedelta = timedelta(minutes=5)
    acknowledged: Callable[[Any], Awaitable[None]] | None = None
    """Called with the cursor or page of each checkpoint once the runtime has committed it."""
    extra_resource_config: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.snapshot is not None and (self.incremental or self.backfill):
            raise ConfigError(
                f"resource {self.name!r} declares a snapshot together with an incremental or "
                "backfill fetch; a snapshot re-reads everything, so declare it alone"
            )
        if self.snapshot is None and self.incremental is None and self.backfill is None:
            raise ConfigError(
                f"resource {self.name!r} declares no fetch: give it incremental=, backfill= "
                "or snapshot="
            )
        if not self.key:
            raise ConfigError(f"resource {self.name!r} needs a key (JSON pointers, e.g. ['/id'])")
        bad = [k for k in self.key if not k.startswith("/")]
        if bad:
            raise ConfigError(
                f"resource {self.name!r} key {bad} is not a JSON pointer; write '/{bad[0]}'"
            )

    def document_schema(self) -> dict[str, Any]:
        if isinstance(self.document, Mapping):
            schema = dict(self.document)
        else:
            schema = self.document.model_json_schema(by_alias=True, mode="serialization")
        if self.snapshot is not None:
            schema = _with_meta_properties(schema)
        return schema


def _with_meta_properties(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the `_meta` fields the framework adds to snapshot documents.

    A deletion document carries only `_meta`, so the source's required fields are
    required of every document except deletions, which reduce the row away.
    """
    props = dict(schema.get("properties") or {})
    props["_meta"] = {
        "type": "object",
        "properties": {
            "row_id": {"type": "integer", "description": "Row position within the snapshot."},
            "op": {"enum": ["c", "u", "d"], "description": "Create, update or delete."},
        },
        "required": ["row_id"],
    }
    source_required = [r for r in schema.get("required") or [] if r != "_meta"]
    out = {**schema, "properties": props, "required": ["_meta"]}
    # `required` matters: without it a document lacking `_meta.op` would pass the `if`.
    out["if"] = {
        "properties": {"_meta": {"properties": {"op": {"const": "d"}}, "required": ["op"]}},
        "required": ["_meta"],
    }
    out["then"] = {"reduce": {"strategy": "merge", "delete": True}}
    if source_required:
        out["else"] = {"required": source_required}
    return out
