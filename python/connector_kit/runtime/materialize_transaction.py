"""One materialize transaction, from combined documents to StartCommit.

Given each binding's combined documents: Load the keys that may exist, Flush,
take the Loaded documents as prior state, Store every reduced document, and
StartCommit with the runtime checkpoint. The caller then awaits StartedCommit
(`MaterializeSession.started_commit`), free to prepare the next transaction while
the connector commits. Shared by `run` (documents read from journals) and
`preview --fixture` (documents from a fixture file).

Keys above a binding's greatest stored key are not loaded (Flow's load
optimization) unless the connector opted out. The greatest key is recorded
through `before_commit` before StartCommit is sent, so the record never trails
what the destination may have committed.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from connector_kit.protocol import flow
from connector_kit.runtime.combiner import BindingCombiner
from connector_kit.runtime.materialize_session import MaterializeSession
from connector_kit.runtime.packing import FieldPacker
from connector_kit.runtime.reductions import Reducer
from connector_kit.runtime.ser_policy import Truncation

STORE_WRITE_BYTES = 1 << 20
"""Store lines are written to the connector in chunks of about this size."""


@dataclass(frozen=True)
class MaterializedBinding:
    """A binding of the MaterializationSpec with what the runtime needs to feed it."""

    position: int
    """Its position in the spec's bindings: the `binding` of Load and Store."""
    spec: flow.MaterializationBinding
    keys: FieldPacker
    values: FieldPacker
    reducer: Reducer
    truncation: Truncation | None = None
    """What the connector's serialization policy cuts from documents and values."""

    @property
    def collection(self) -> str:
        return self.spec.collection.name

    def combiner(self) -> BindingCombiner:
        return BindingCombiner(
            binding=self.position,
            keys=self.keys,
            values=self.values,
            reducer=self.reducer,
            delta_updates=self.spec.delta_updates,
            with_document=bool(self.spec.field_selection.document),
            truncation=self.truncation,
        )


def materialized_bindings(
    spec: flow.MaterializationSpec, *, reducers: dict[str, Reducer]
) -> list[MaterializedBinding]:
    found = []
    for position, binding in enumerate(spec.bindings):
        policy = binding.ser_policy
        truncation = Truncation.of(policy if isinstance(policy, dict) else None)
        found.append(
            MaterializedBinding(
                position=position,
                spec=binding,
                keys=FieldPacker(binding.collection, binding.field_selection.keys),
                values=FieldPacker(
                    binding.collection, binding.field_selection.values, truncation=truncation
                ),
                reducer=reducers[binding.collection.name],
                truncation=truncation,
            )
        )
    return found


@dataclass
class Outcome:
    stored_documents: list[int]
    stored_bytes: list[int]
    loaded_documents: int
    max_keys: list[bytes | None]


async def send_transaction(
    session: MaterializeSession,
    combiners: Sequence[BindingCombiner],
    *,
    checkpoint: Any,
    max_keys: list[bytes | None],
    optimize_loads: bool,
    before_commit: Callable[[list[bytes | None]], Awaitable[None]] | None = None,
) -> Outcome:
    await session.load(
        b"".join(
            c.load_requests(stored_max=max_keys[i], optimize=optimize_loads)
            for i, c in enumerate(combiners)
        )
    )
    loaded = await session.flush()
    for item in loaded:
        combiners[item.binding].loaded(item.document)

    new_max = [
        _greater(current, c.max_key()) for current, c in zip(max_keys, combiners, strict=True)
    ]
    if before_commit is not None and new_max != max_keys:
        await before_commit(new_max)

    stored_documents = [0] * len(combiners)
    stored_bytes = [0] * len(combiners)
    chunk: list[bytes] = []
    chunk_size = 0
    for i, combiner in enumerate(combiners):
        for line, size in combiner.drain():
            chunk.append(line)
            chunk_size += len(line)
            stored_documents[i] += 1
            stored_bytes[i] += size
            if chunk_size >= STORE_WRITE_BYTES:
                await session.store(b"".join(chunk))
                chunk.clear()
                chunk_size = 0
    if chunk:
        await session.store(b"".join(chunk))
    await session.start_commit(checkpoint)
    return Outcome(
        stored_documents=stored_documents,
        stored_bytes=stored_bytes,
        loaded_documents=len(loaded),
        max_keys=new_max,
    )


def _greater(current: bytes | None, candidate: bytes | None) -> bytes | None:
    if candidate is None:
        return current
    if current is None:
        return candidate
    return max(current, candidate)


def encode_key(key: bytes | None) -> str | None:
    return None if key is None else base64.b64encode(key).decode()


def decode_key(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)
