"""One materialization of a `run`: collections read from journals, committed with checkpoints.

Validate, Apply, Open. The read position of every (binding, journal) pair comes
from the checkpoint the connector returns in Opened, when it keeps one (the
destination is authoritative), else from the state directory's record. Then,
transaction by transaction: read documents from the journals up to what the
captures have committed (bounded by documents and bytes), combine them per
binding, run Load/Flush/Store/StartCommit, and once StartedCommit arrives
record the runtime checkpoint (the new read positions) and the connector state,
then Acknowledge. While the connector commits, the next transaction is read.

The checkpoint is a gazette `consumer.Checkpoint`: one source per binding and
journal, `<journal>;<binding's read suffix>`, whose `readThrough` is the byte
offset just past the last document read.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

from connector_kit.errors import ConfigError
from connector_kit.protocol import materialize
from connector_kit.protocol.state import reduce_state
from connector_kit.runtime.catalog import Catalog, MaterializationTask
from connector_kit.runtime.combiner import BindingCombiner
from connector_kit.runtime.connector import ConnectorProcess
from connector_kit.runtime.journals import JournalHeads, JournalReader
from connector_kit.runtime.launch import materialization_command, unsealed_config
from connector_kit.runtime.materialize_session import MaterializeSession
from connector_kit.runtime.materialize_spec import (
    active_bindings,
    materialization_spec,
    spec_version,
    validate_request,
)
from connector_kit.runtime.materialize_transaction import (
    MaterializedBinding,
    decode_key,
    encode_key,
    materialized_bindings,
    send_transaction,
)
from connector_kit.runtime.reductions import Reducer
from connector_kit.runtime.run_options import RunOptions
from connector_kit.runtime.run_stats import BindingCounters, RunCounters
from connector_kit.runtime.runtime_checkpoint import read_positions
from connector_kit.runtime.source_filter import SourceFilter, source_filter
from connector_kit.runtime.state_dir import MaterializationRecord, StateDirectory
from connector_kit.runtime.unary import materialize_call

log = logging.getLogger(__name__)

LINES_PER_TURN = 1000
"""Documents taken from one journal before moving to the next, so bindings share a transaction."""


@dataclass
class _Source:
    """One binding's reading of its collection's journals."""

    binding: MaterializedBinding
    suffix: str
    counters: BindingCounters
    filter: SourceFilter | None
    """Which of the collection's documents the binding reads; None: all of them."""
    readers: dict[str, JournalReader] = field(default_factory=dict)


@dataclass
class _Transaction:
    combiners: list[BindingCombiner]
    documents: int
    size: int
    checkpoint: Any


class MaterializationRunner:
    def __init__(
        self,
        *,
        catalog: Catalog,
        task: MaterializationTask,
        state: StateDirectory,
        heads: JournalHeads,
        counters: RunCounters,
        options: RunOptions,
    ) -> None:
        self._catalog = catalog
        self._task = task
        self._state = state
        self._heads = heads
        self._options = options
        self._bindings = active_bindings(task, catalog)
        self._counters = [
            counters.add(
                kind="materialization",
                task=task.name,
                binding=b.index,
                collection=b.collection.name,
            )
            for b in self._bindings
        ]
        self._filters = [
            source_filter(b.definition.source, b.spec, where=b.describe(task))
            for b in self._bindings
        ]
        self._record = state.materialization_record(task.name)
        self._wake = heads.subscribe()
        self._sources: list[_Source] = []
        self._positions: dict[str, int] = {}

    @property
    def name(self) -> str:
        return self._task.name

    def counters(self) -> list[BindingCounters]:
        return self._counters

    async def run(self, stop: asyncio.Event) -> None:
        task = self._task
        unsealed = unsealed_config(task.config)
        command = materialization_command(
            task, catalog_dir=self._catalog.directory, secrets=unsealed.secrets
        )
        within = self._options.connector_timeout
        validated = await materialize_call(
            command,
            validate_request(
                task,
                config=unsealed.value,
                bindings=self._bindings,
                connector_type=command.connector_type,
            ),
            within=within,
        )
        assert validated.validated is not None
        spec = materialization_spec(
            task,
            config=unsealed.value,
            bindings=self._bindings,
            validated=validated.validated,
            connector_type=command.connector_type,
        )
        version = spec_version(spec)
        applied = await materialize_call(
            command,
            materialize.Request(apply=materialize.Apply(materialization=spec, version=version)),
            within=within,
        )
        if applied.applied is not None and applied.applied.action_description:
            log.info(
                "applied",
                extra={
                    "fields": {"task": command.task, "action": applied.applied.action_description}
                },
            )
        reducers = {
            b.collection.name: Reducer(b.collection.read_schema, collection=b.collection.name)
            for b in self._bindings
        }
        self._sources = [
            _Source(
                binding=binding,
                suffix=binding.spec.journal_read_suffix or f"materialize/{task.name}",
                counters=counters,
                filter=filter_,
            )
            for binding, counters, filter_ in zip(
                materialized_bindings(spec, reducers=reducers),
                self._counters,
                self._filters,
                strict=True,
            )
        ]
        async with ConnectorProcess.running(
            command, response_model=materialize.Response
        ) as connector:
            session = MaterializeSession(connector, spec=spec, within=within)
            try:
                opened = await session.open(version=version, state=self._record.connector_state)
                self._resume(opened)
                optimize = not opened.disable_load_optimization
                await self._transactions(session, optimize=optimize, stop=stop)
            finally:
                await session.stop()

    def _resume(self, opened: materialize.Opened) -> None:
        if opened.runtime_checkpoint is not None:
            checkpoint = opened.runtime_checkpoint
            origin = "the destination"
        else:
            checkpoint = self._record.checkpoint
            origin = f"the state directory {self._state.path}"
        self._positions = read_positions(checkpoint)
        for source, offset in self._positions.items():
            journal = source.split(";", 1)[0]
            committed = self._heads.length(journal)
            if offset > committed:
                raise ConfigError(
                    f"materialization {self.name}: {origin} says it has read journal "
                    f"{journal} through byte {offset}, but only {committed} bytes of it are "
                    f"committed in the state directory {self._state.path}: the destination "
                    "and the state directory do not belong together (was the state directory "
                    "removed?). Run with the state directory that wrote the destination, or "
                    "drop the destination's tables and checkpoint to start over"
                )
        log.info(
            "resuming",
            extra={"fields": {"task": self.name, "from": origin, "sources": len(self._positions)}},
        )

    async def _transactions(
        self, session: MaterializeSession, *, optimize: bool, stop: asyncio.Event
    ) -> None:
        max_keys = [
            decode_key(self._record.max_keys.get(source.binding.spec.state_key))
            for source in self._sources
        ]

        async def record_max_keys(keys: list[bytes | None]) -> None:
            await self._persist(max_keys=keys)

        await session.acknowledge()
        ready: _Transaction | None = None
        while not stop.is_set():
            self._wake.clear()
            captures_done = not self._heads.writing
            transaction = ready or self._read_transaction()
            ready = None
            if transaction is None:
                if captures_done:
                    break
                await _first_of(self._wake, stop)
                continue
            outcome = await send_transaction(
                session,
                transaction.combiners,
                checkpoint=transaction.checkpoint,
                max_keys=max_keys,
                optimize_loads=optimize,
                before_commit=record_max_keys,
            )
            if not stop.is_set():
                ready = self._read_transaction()  # overlaps with the connector's commit
            states = await session.started_commit()
            max_keys = outcome.max_keys
            await self._persist(checkpoint=transaction.checkpoint, states=states, max_keys=max_keys)
            for counters, documents, size in zip(
                self._counters, outcome.stored_documents, outcome.stored_bytes, strict=True
            ):
                counters.committed(documents=documents, size_bytes=size)
            await session.acknowledge()
        states = await session.close()
        if states:
            await self._persist(states=states)

    async def _persist(
        self,
        *,
        checkpoint: Any = None,
        states: list[Any] | None = None,
        max_keys: list[bytes | None] | None = None,
    ) -> None:
        record = self._record
        connector_state = record.connector_state
        for update in states or ():
            connector_state = reduce_state(
                connector_state, updated=update.updated, merge=bool(update.merge_patch)
            )
        keys = dict(record.max_keys)
        for source, key in zip(self._sources, max_keys or (), strict=False):
            encoded = encode_key(key)
            if encoded is not None:
                keys[source.binding.spec.state_key] = encoded
        updated = MaterializationRecord(
            checkpoint=checkpoint if checkpoint is not None else record.checkpoint,
            connector_state=connector_state,
            max_keys=keys,
        )
        await asyncio.to_thread(self._state.write_materialization_record, self.name, updated)
        self._record = updated

    def _read_transaction(self) -> _Transaction | None:
        """Up to a transaction's worth of committed documents, combined; None if none."""
        limit_documents = self._options.transaction_documents
        limit_bytes = self._options.transaction_bytes
        combiners = [source.binding.combiner() for source in self._sources]
        documents = size = 0
        loads = orjson.loads
        progressed, full = True, False
        while progressed and not full:
            progressed = False
            for source, combiner in zip(self._sources, combiners, strict=True):
                add = combiner.add
                admits = source.filter.admits if source.filter is not None else None
                for journal in self._heads.of_collection(source.binding.collection):
                    reader = self._reader(source, journal)
                    head = self._heads.length(journal)
                    for _ in range(min(LINES_PER_TURN, limit_documents - documents)):
                        line = reader.take(head=head)
                        if line is None:
                            break
                        document = loads(line)
                        if admits is None or admits(document):
                            add(line, document)
                        documents += 1
                        size += len(line)
                        progressed = True
                    full = documents >= limit_documents or size >= limit_bytes
                    if full:
                        break
                if full:
                    break
        if not documents:
            return None
        return _Transaction(
            combiners=combiners, documents=documents, size=size, checkpoint=self._checkpoint()
        )

    def _reader(self, source: _Source, journal: str) -> JournalReader:
        reader = source.readers.get(journal)
        if reader is None:
            reader = source.readers[journal] = JournalReader(
                self._state.journal_path(journal),
                journal=journal,
                offset=self._positions.get(f"{journal};{source.suffix}", 0),
            )
        return reader

    def _checkpoint(self) -> dict[str, Any]:
        sources = {}
        for source in self._sources:
            for journal, reader in source.readers.items():
                if reader.offset:
                    sources[f"{journal};{source.suffix}"] = {"readThrough": str(reader.offset)}
        return {"sources": sources}


async def _first_of(*events: asyncio.Event) -> None:
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
