"""One capture of a `run`: its connector's transactions, committed into journals and state.

Validate once; then for each session Apply and Open from the recorded connector
state, and commit each batch of checkpoints the connector writes: append the
documents (with real UUIDs, validated against their collection schema) to the
collections' journals, sync them, then atomically record the reduced connector
state with the journals' new lengths. Only then are the new lengths published
to materializations and the checkpoints acknowledged to the connector. A crash
anywhere before the record is replaced loses nothing: the journal tails are cut
off at the next start, and the connector resumes from the recorded state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from connector_kit.protocol import capture
from connector_kit.protocol.state import reduce_state
from connector_kit.runtime.capture_session import CapturedBatch, CaptureSession, SessionEnded
from connector_kit.runtime.capture_spec import (
    ActiveBinding,
    active_bindings,
    capture_spec,
    spec_version,
    validate_request,
)
from connector_kit.runtime.catalog import CaptureTask, Catalog
from connector_kit.runtime.connector import ConnectorProcess
from connector_kit.runtime.document_schema import DocumentValidator
from connector_kit.runtime.journals import JournalHeads, JournalWriter
from connector_kit.runtime.launch import capture_command, unsealed_config
from connector_kit.runtime.publish_clock import PublishClock
from connector_kit.runtime.run_options import RunOptions
from connector_kit.runtime.run_stats import BindingCounters, RunCounters
from connector_kit.runtime.state_dir import CaptureRecord, JournalHead, StateDirectory, journal_name
from connector_kit.runtime.unary import capture_call

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Target:
    """Where one binding's documents go."""

    collection: str
    journal: str
    counters: BindingCounters


class CaptureRunner:
    def __init__(
        self,
        *,
        catalog: Catalog,
        task: CaptureTask,
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
        self._bindings: list[ActiveBinding] = active_bindings(task, catalog)
        self._targets = [
            _Target(
                collection=b.collection.name,
                journal=journal_name(collection=b.collection.name, capture=task.name),
                counters=counters.add(
                    kind="capture", task=task.name, binding=b.index, collection=b.collection.name
                ),
            )
            for b in self._bindings
        ]
        self._record = state.capture_record(task.name)
        self._writers: dict[str, JournalWriter] = {}

    @property
    def name(self) -> str:
        return self._task.name

    def counters(self) -> list[BindingCounters]:
        return [t.counters for t in self._targets]

    async def run(self, stop: asyncio.Event) -> None:
        try:
            self._open_journals()
            await self._run(stop)
        finally:
            for writer in self._writers.values():
                writer.close()
            self._heads.writer_finished()

    def _open_journals(self) -> None:
        for target in self._targets:
            if target.journal in self._writers:
                continue
            head = self._record.journals.get(target.journal)
            self._writers[target.journal] = JournalWriter(
                self._state.journal_path(target.journal),
                journal=target.journal,
                committed=head.length if head is not None else 0,
                sync=self._options.sync,
            )

    async def _run(self, stop: asyncio.Event) -> None:
        task = self._task
        unsealed = unsealed_config(task.config)
        command = capture_command(
            task, catalog_dir=self._catalog.directory, secrets=unsealed.secrets
        )
        validators = [DocumentValidator(b.collection) for b in self._bindings]
        validated = await capture_call(
            command,
            validate_request(
                task,
                config=unsealed.value,
                bindings=self._bindings,
                connector_type=command.connector_type,
            ),
            within=self._options.connector_timeout,
        )
        assert validated.validated is not None
        spec = capture_spec(
            task,
            config=unsealed.value,
            bindings=self._bindings,
            validated=validated.validated,
            connector_type=command.connector_type,
        )
        version = spec_version(spec)
        clock = PublishClock(producer=task.name)
        for number, target in enumerate(self._options.sessions):
            if stop.is_set():
                return
            applied = await capture_call(
                command,
                capture.Request(apply=capture.Apply(capture=spec, version=version)),
                within=self._options.connector_timeout,
            )
            if applied.applied is not None and applied.applied.action_description:
                log.info(
                    "applied",
                    extra={
                        "fields": {
                            "task": command.task,
                            "action": applied.applied.action_description,
                        }
                    },
                )
            async with ConnectorProcess.running(
                command, response_model=capture.Response
            ) as connector:
                session = CaptureSession(
                    connector,
                    spec=spec,
                    validators=validators,
                    uuids=clock.next_uuid,
                    begin_group=clock.begin_group,
                )
                await session.open(
                    version=version,
                    state=self._record.connector_state,
                    within=self._options.connector_timeout,
                )
                ended = await self._session(session, target=target, stop=stop)
                log.info(
                    "capture session ended",
                    extra={"fields": {"task": command.task, "session": number, "why": ended}},
                )
                await connector.stop(graceful=False)

    async def _session(self, session: CaptureSession, *, target: int, stop: asyncio.Event) -> str:
        committed = 0
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while target < 0 or committed < target:
                reading = asyncio.ensure_future(
                    session.next_batch(
                        idle_within=self._options.idle_timeout,
                        max_documents=self._options.transaction_documents,
                        max_bytes=self._options.transaction_bytes,
                    )
                )
                await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not reading.done():
                    # Stopping: what the connector wrote after its last checkpoint is dropped,
                    # and it writes it again from the recorded state next time.
                    reading.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reading
                    return "stopped"
                result = reading.result()
                if isinstance(result, SessionEnded):
                    if result.discarded_documents:
                        log.warning(
                            "%d documents after the last checkpoint were not committed",
                            result.discarded_documents,
                            extra={"fields": {"task": session.task}},
                        )
                    return result.why
                await self._commit(result)
                await session.acknowledge(result.checkpoints)
                committed += 1
            return "target transactions reached"
        finally:
            stopping.cancel()

    async def _commit(self, batch: CapturedBatch) -> None:
        state = self._record.connector_state
        for update in batch.states:
            state = reduce_state(state, updated=update.updated, merge=bool(update.merge_patch))
        by_journal: dict[str, list[bytes]] = {}
        for target, lines in zip(self._targets, batch.lines, strict=True):
            if lines:
                by_journal.setdefault(target.journal, []).extend(lines)
        journals = dict(self._record.journals)
        for target in self._targets:
            writer = self._writers[target.journal]
            writer.append(by_journal.pop(target.journal, ()))
            journals[target.journal] = JournalHead(
                collection=target.collection, length=writer.length
            )
        record = CaptureRecord(connector_state=state, journals=journals)
        await asyncio.to_thread(self._persist, record)
        self._record = record
        for journal, head in journals.items():
            self._heads.set(journal, collection=head.collection, length=head.length)
        for target, lines, size in zip(self._targets, batch.lines, batch.sizes, strict=True):
            target.counters.committed(documents=len(lines), size_bytes=size)

    def _persist(self, record: CaptureRecord) -> None:
        for writer in self._writers.values():
            writer.commit()
        self._state.write_capture_record(self._task.name, record)

    def committed_heads(self) -> dict[str, tuple[str, int]]:
        """Journal → (collection, committed length), as recorded when the run started."""
        return {
            t.journal: (
                t.collection,
                self._record.journals[t.journal].length
                if t.journal in self._record.journals
                else 0,
            )
            for t in self._targets
        }
