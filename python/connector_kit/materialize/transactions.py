"""The materialize transaction state machine, implemented once for every connector.

After `opened`, each transaction is

    acknowledge → acknowledged          (exactly once, before flushed)
    load*       → (nothing yet)
    flush       → loaded* flushed       (one `Transactor.load` per binding)
    store*      → (no output allowed)   (rows buffered, staged in batches)
    startCommit → startedCommit         (`Transactor.commit`)

Between transactions (before `acknowledge`, or right after it when no `load`
followed) a new `open`, `apply`, `validate` or `spec` ends the session, and so
does the end of input. Anything else, in any phase, is a ProtocolError that
names the request line and what was expected there.

Load and Store lines take a fast path (no pydantic): they are nearly every line of a
busy materialization. Store lines are only recognized and buffered, whole runs of
them at once (`RequestLines.ready_lines`); the transactor parses batches of them
(see `batches`). Staging runs on one worker thread, so the engine stages a batch
while the next one is being read.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from enum import Enum
from typing import Any

from orjson import JSONDecodeError, dumps, loads

from connector_kit.errors import ProtocolError
from connector_kit.materialize.batches import StoreBatch, StoreBuffer, StoreRules, leading_lines
from connector_kit.materialize.faults import FaultPoints
from connector_kit.materialize.hooks import Binding, Transactor
from connector_kit.protocol import materialize
from connector_kit.tuple import TupleValue, unpack
from connector_kit.wire import LineWriter, RequestLines, parse_line, snippet

STORE_PREFIX = b'{"store":'
LOAD_PREFIX = b'{"load":'
DEFAULT_STORE_BATCH_BYTES = 32 << 20
LOADED_CHUNK_BYTES = 1 << 20
SESSION_REQUESTS = frozenset({"open", "apply", "validate", "spec"})


class Phase(Enum):
    ACKNOWLEDGE = "waiting for `acknowledge`, which begins a transaction"
    LOAD = "in the load phase: `load` or `flush` may follow"
    STORE = "in the store phase: `store` or `startCommit` may follow"


class TransactionLoop:
    """Runs the transactions of one opened session against a transactor."""

    def __init__(
        self,
        *,
        transactor: Transactor,
        bindings: Sequence[Binding[Any]],
        responses: LineWriter,
        faults: FaultPoints,
        store_batch_bytes: int = DEFAULT_STORE_BATCH_BYTES,
    ) -> None:
        self._transactor = transactor
        self._bindings = bindings
        self._responses = responses
        self._faults = faults
        self._store_batch_bytes = store_batch_bytes
        self._buffer = StoreBuffer(StoreRules(tuple(b.document_field for b in bindings)))
        self._loads: list[dict[bytes, int]] = [{} for _ in bindings]
        self._phase = Phase.ACKNOWLEDGE
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._pending: Future[None] | None = None
        self._last = (0, "opened")

    def run(self, lines: RequestLines) -> tuple[int, materialize.Request] | None:
        """Serve transactions until a session-level request (returned) or the end of input."""
        try:
            return self._run(lines)
        finally:
            self._worker.shutdown(wait=True, cancel_futures=True)

    def _run(self, lines: RequestLines) -> tuple[int, materialize.Request] | None:
        armed = self._faults.armed
        for number, line in lines:
            phase = self._phase
            if phase is Phase.STORE and line.startswith(STORE_PREFIX):
                self._store(number, line)
                if armed:
                    self._faults.reached("store")
                while self._store_run(lines):
                    pass
                continue
            if phase is Phase.LOAD and line.startswith(LOAD_PREFIX):
                self._load(number, line)
                continue
            request = parse_line(materialize.Request, line, number)
            message = request.message
            if phase is Phase.ACKNOWLEDGE:
                if message == "acknowledge":
                    self._acknowledge(number)
                elif message in SESSION_REQUESTS:
                    return number, request
                else:
                    raise self._unexpected(number, message, "`acknowledge`")
            elif phase is Phase.LOAD:
                if message in SESSION_REQUESTS and self._between_transactions:
                    return number, request
                if message == "load":
                    self._load(number, line)
                elif message == "flush":
                    self._flush(number)
                else:
                    raise self._unexpected(number, message, "`load` or `flush`")
            elif message == "store":
                self._store(number, _compact(line))
            elif message == "startCommit" and request.start_commit is not None:
                self._commit(number, request.start_commit)
            else:
                raise self._unexpected(number, message, "`store` or `startCommit`")
        if not self._between_transactions:
            last_line, last_message = self._last
            raise ProtocolError(
                f"the request stream ended in the middle of a transaction (last request: "
                f"`{last_message}` on line {last_line}); nothing of that transaction was committed"
            )
        return None

    @property
    def _between_transactions(self) -> bool:
        """Before a transaction's first Load: the runtime may end a session after acknowledging."""
        return self._phase is Phase.ACKNOWLEDGE or (
            self._phase is Phase.LOAD and self._last[1] == "acknowledge"
        )

    def _unexpected(self, number: int, message: str, expected: str) -> ProtocolError:
        return ProtocolError(
            f"request line {number}: `{message}` is out of order: expected {expected} "
            f"(the transaction is {self._phase.value}; the last request was "
            f"`{self._last[1]}` on line {self._last[0]})"
        )

    # --- acknowledge -----------------------------------------------------------------

    def _acknowledge(self, number: int) -> None:
        self._responses.write(b'{"acknowledged":{}}\n')
        self._faults.reached("acknowledged")
        self._phase = Phase.LOAD
        self._last = (number, "acknowledge")

    # --- load ------------------------------------------------------------------------

    def _load(self, number: int, line: bytes) -> None:
        load = _message_body(number, line, "load")
        binding = self._binding_index(number, load, "load")
        if self._bindings[binding].delta_updates:
            raise ProtocolError(
                f"request line {number}: `load` for binding {binding}, which uses delta "
                "updates; the runtime never loads delta-update bindings"
            )
        key = load.get("keyPacked")
        if type(key) is not str or not key:
            raise ProtocolError(
                f"request line {number}: `load` needs `keyPacked` (base64 of the packed key); "
                f"got {key!r}"
            )
        try:
            packed = base64.b64decode(key, validate=True)
        except binascii.Error as err:
            raise ProtocolError(f"request line {number}: load `keyPacked`: {err}") from None
        self._loads[binding].setdefault(packed, number)
        self._faults.reached("load")
        self._last = (number, "load")

    def _flush(self, number: int) -> None:
        for index, keys in enumerate(self._loads):
            if keys:
                self._write_loaded(index, _unpack_keys(keys))
        self._loads = [{} for _ in self._bindings]
        self._faults.reached("loaded")
        self._responses.write(b'{"flushed":{}}\n')
        self._faults.reached("flushed")
        self._phase = Phase.STORE
        self._last = (number, "flush")

    def _write_loaded(self, binding: int, keys: list[tuple[TupleValue, ...]]) -> None:
        prefix = b'{"loaded":{"binding":%d,"doc":' % binding
        chunk = bytearray()
        for doc in self._transactor.load(binding=binding, keys=keys):
            chunk += prefix
            chunk += doc.encode() if isinstance(doc, str) else doc
            chunk += b"}}\n"
            if len(chunk) >= LOADED_CHUNK_BYTES:
                self._responses.write(bytes(chunk))
                chunk.clear()
        if chunk:
            self._responses.write(bytes(chunk))

    # --- store -----------------------------------------------------------------------

    def _store(self, number: int, line: bytes) -> None:
        # The hot path: the line is kept as it came and parsed later, in bulk, by the
        # connector's engine (or by `StoreBatch.rows`); a bad line is named then.
        buffer = self._buffer
        buffer.add(number, line)
        if buffer.nbytes >= self._store_batch_bytes:
            self._submit(buffer.take())
        self._last = (number, "store")

    def _store_run(self, lines: RequestLines) -> bool:
        """Buffer the Store lines that follow, in bulk; True if there may be more of them."""
        buffer = self._buffer
        first, block = lines.ready_lines(self._store_batch_bytes - buffer.nbytes)
        with block:
            if not block:
                return False
            run, size = leading_lines(block, STORE_PREFIX, first=first)
            complete = size == len(block)
        if not len(run):
            return False
        lines.consume(size, len(run))
        buffer.add_run(first, run)
        if self._faults.armed:
            for _ in range(len(run)):
                self._faults.reached("store")
        if buffer.nbytes >= self._store_batch_bytes:
            self._submit(buffer.take())
        self._last = (first + len(run) - 1, "store")
        return complete

    def _submit(self, batch: StoreBatch) -> None:
        self._drain()  # One batch in flight bounds memory to about three batches.
        self._pending = self._worker.submit(self._stage, batch)

    def _stage(self, batch: StoreBatch) -> None:
        self._transactor.store(batch)
        self._faults.reached("stored")

    def _drain(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    # --- commit ----------------------------------------------------------------------

    def _commit(self, number: int, start: materialize.StartCommit) -> None:
        if start.runtime_checkpoint is None:
            raise ProtocolError(
                f"request line {number}: `startCommit` must carry `runtimeCheckpoint`"
            )
        if len(self._buffer):
            self._submit(self._buffer.take())
        self._drain()
        self._faults.reached("committing")
        self._transactor.commit(runtime_checkpoint=start.runtime_checkpoint)
        self._responses.write(b'{"startedCommit":{}}\n')
        self._faults.reached("started_commit")
        self._phase = Phase.ACKNOWLEDGE
        self._last = (number, "startCommit")

    def _binding_index(self, number: int, body: dict[str, Any], message: str) -> int:
        binding = body.get("binding", 0)
        if type(binding) is not int or not 0 <= binding < len(self._bindings):
            raise ProtocolError(
                f"request line {number}: `{message}` names binding {binding!r}, but the "
                f"materialization has {len(self._bindings)} binding(s), numbered from 0"
            )
        return binding


def _message_body(number: int, line: bytes, name: str) -> dict[str, Any]:
    try:
        message = loads(line)
    except JSONDecodeError as err:
        raise ProtocolError(
            f"request line {number} is not valid JSON: {err} (line starts: {snippet(line)!r})"
        ) from None
    body = message.get(name) if type(message) is dict and len(message) == 1 else None
    if type(body) is not dict:
        raise ProtocolError(
            f"request line {number}: expected a `{name}` request, one JSON object with a single "
            f'`"{name}": {{...}}` field (line starts: {snippet(line)!r})'
        )
    return body


def _compact(line: bytes) -> bytes:
    """A request line re-serialized the way the fast path expects: compact, one line."""
    return dumps(loads(line)) + b"\n"


def _unpack_keys(keys: dict[bytes, int]) -> list[tuple[TupleValue, ...]]:
    decoded = []
    for packed, number in keys.items():
        try:
            decoded.append(unpack(packed))
        except ProtocolError as err:
            raise ProtocolError(f"request line {number}: load `keyPacked`: {err}") from None
    return decoded
