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
from typing import Literal

TaskKind = Literal["capture", "materialization"]


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

    def committed(self, *, documents: int, size_bytes: int) -> None:
        if documents:
            self.documents += documents
            self.bytes += size_bytes
            self.last_document_at = time.time()

    def failed(self) -> None:
        self.errors += 1


@dataclass
class RunCounters:
    started_at: float = field(default_factory=time.monotonic)
    bindings: list[BindingCounters] = field(default_factory=list)

    def add(self, *, kind: TaskKind, task: str, binding: int, collection: str) -> BindingCounters:
        counters = BindingCounters(kind=kind, task=task, binding=binding, collection=collection)
        self.bindings.append(counters)
        return counters

    def of_task(self, task: str) -> list[BindingCounters]:
        return [c for c in self.bindings if c.task == task]
