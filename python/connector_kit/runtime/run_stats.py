"""Per-binding counters of a `run`: what each binding has committed so far.

One `BindingCounters` per enabled binding of every task: documents and bytes
committed (captured into a collection, or stored into a destination), failures
attributed to the binding, and when its last document was committed. They only
ever grow, and they change only when a transaction has committed, so anything
reading them (progress lines, a metrics endpoint) sees committed data only.
`RunCounters` holds them all, in the order the tasks and bindings were set up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal, Protocol

TaskKind = Literal["capture", "materialization"]


class CommitSink(Protocol):
    """Something else that counts a binding's commits, e.g. its Prometheus series."""

    def committed(self, *, documents: int, size_bytes: int) -> None: ...
    def error(self) -> None: ...


class SinkFactory(Protocol):
    def __call__(
        self, *, kind: TaskKind, task: str, binding: int, collection: str
    ) -> CommitSink: ...


@dataclass
class BindingCounters:
    kind: TaskKind
    task: str
    binding: int
    """The binding's position in the task's `bindings` list in the catalog (disabled ones count)."""
    collection: str
    documents: int = 0
    bytes: int = 0
    errors: int = 0
    last_document_at: float | None = None
    """Wall-clock time (`time.time()`) of the last commit that held documents of this binding."""
    sink: CommitSink | None = None

    def committed(self, *, documents: int, size_bytes: int) -> None:
        if documents:
            self.documents += documents
            self.bytes += size_bytes
            self.last_document_at = time.time()
            if self.sink is not None:
                self.sink.committed(documents=documents, size_bytes=size_bytes)

    def failed(self) -> None:
        self.errors += 1
        if self.sink is not None:
            self.sink.error()


@dataclass
class RunCounters:
    started_at: float = field(default_factory=time.monotonic)
    bindings: list[BindingCounters] = field(default_factory=list)
    sinks: SinkFactory | None = None
    """Builds a second counter per binding (the metrics endpoint's), if any."""

    def add(self, *, kind: TaskKind, task: str, binding: int, collection: str) -> BindingCounters:
        sink = (
            self.sinks(kind=kind, task=task, binding=binding, collection=collection)
            if self.sinks is not None
            else None
        )
        counters = BindingCounters(
            kind=kind, task=task, binding=binding, collection=collection, sink=sink
        )
        self.bindings.append(counters)
        return counters
