"""One opened materialization connector, driven through transactions as the Flow runtime does.

    Open ─► Opened{runtimeCheckpoint?}
    per transaction:
      Acknowledge ─►  ◄─ Acknowledged   (exactly once per transaction, before Flushed;
                                          it may arrive before the Acknowledge)
      Load* ─►        ◄─ Loaded*        (any time before Flushed)
      Flush ─►        ◄─ Flushed
      Store* ─►                         (no responses allowed)
      StartCommit ─►  ◄─ StartedCommit

Responses are read by a background task as they arrive, so a connector that
answers Loads while the runtime is still sending them never deadlocks on a full
pipe. Each response is checked against the phase the runtime is in at that
moment; a response out of order is a ProtocolError in the Flow runtime's words,
and it ends the session.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import orjson

from connector_kit.errors import ConnectorError, ProtocolError
from connector_kit.protocol import flow, materialize
from connector_kit.protocol.envelope import message_name
from connector_kit.runtime.connector import ConnectorProcess, ConnectorTimeout
from connector_kit.runtime.unary import expect_probe_answer, materialize_probe

_LOADED_PREFIX = b'{"loaded":'
_LOADED_FIELDS = frozenset({"binding", "doc"})


class Phase(Enum):
    IDLE = "between transactions"
    LOAD = "in the Load phase"
    FLUSH = "waiting for Flushed"
    STORE = "in the Store phase"
    COMMIT = "waiting for StartedCommit"


@dataclass
class Loaded:
    binding: int
    document: Any


@dataclass
class _Transaction:
    """What the connector has answered in the current transaction."""

    acknowledged: bool = False
    loaded: list[Loaded] = field(default_factory=list)
    flushed: bool = False
    states: list[flow.ConnectorState] = field(default_factory=list)
    """Connector state updates (Flushed, StartedCommit, Acknowledged), in order."""


class MaterializeSession:
    def __init__(
        self,
        connector: ConnectorProcess[materialize.Response],
        *,
        spec: flow.MaterializationSpec,
        within: float | None,
    ) -> None:
        self._connector = connector
        self._spec = spec
        self._within = within
        self._phase = Phase.IDLE
        self._current = _Transaction()
        self._committed: list[flow.ConnectorState] | None = None
        """Set by the reader when StartedCommit arrives: that transaction's state updates."""
        self._arrived = asyncio.Event()
        self._failure: BaseException | None = None
        self._ended = False
        self._reader: asyncio.Task[None] | None = None

    @property
    def task(self) -> str:
        return self._connector.task

    async def open(self, *, version: str, state: Any) -> materialize.Opened:
        connector = self._connector
        await connector.send(materialize_probe(connector.command))
        await expect_probe_answer(connector, within=self._within)
        await connector.send(
            materialize.Request(
                open=materialize.Open(
                    materialization=self._spec,
                    version=version,
                    range=flow.FULL_RANGE,
                    state=state if state is not None else {},
                )
            )
        )
        response = await connector.receive(within=self._within, expecting="Opened")
        if response is None or response.opened is None:
            got = "the end of its output" if response is None else message_name(response)
            raise ProtocolError(
                f"{self.task}: connector protocol error (expected Opened, got {got})"
            )
        self._reader = asyncio.create_task(self._read_responses())
        return response.opened

    # --- requests -----------------------------------------------------------------

    async def acknowledge(self) -> None:
        """Begin the next transaction: tell the connector the previous one is committed."""
        self._phase = Phase.LOAD
        await self._write(b'{"acknowledge":{}}\n')

    async def load(self, lines: bytes) -> None:
        if lines:
            await self._write(lines)

    async def flush(self) -> list[Loaded]:
        """Send Flush; wait for Flushed; return the documents Loaded in this transaction."""
        self._phase = Phase.FLUSH
        await self._write(b'{"flush":{}}\n')
        await self._wait_for(lambda: self._current.flushed, expecting="Flushed")
        self._phase = Phase.STORE
        return self._current.loaded

    async def store(self, lines: bytes) -> None:
        await self._write(lines)

    async def start_commit(self, checkpoint: Any) -> None:
        self._phase = Phase.COMMIT
        request = orjson.dumps({"startCommit": {"runtimeCheckpoint": checkpoint}})
        await self._write(request + b"\n")

    async def started_commit(self) -> list[flow.ConnectorState]:
        """Wait for StartedCommit; return the transaction's connector state updates."""
        await self._wait_for(lambda: self._committed is not None, expecting="StartedCommit")
        states, self._committed = self._committed or [], None
        return states

    async def close(self) -> list[flow.ConnectorState]:
        """After a final Acknowledge: wait for Acknowledged, end input, expect a clean exit.

        Returns connector state updates that came with that Acknowledged.
        """
        await self._wait_for(lambda: self._current.acknowledged, expecting="Acknowledged")
        states = self._current.states
        self._phase = Phase.IDLE
        await self._connector.close_input()
        await self._wait_for(lambda: self._ended, expecting="the end of its output")
        return states

    async def _write(self, data: bytes) -> None:
        self._raise_failure()
        try:
            await self._connector.send_bytes(data)
        except (BrokenPipeError, ConnectionResetError):
            # The connector is gone; its exit (and last log line) explains why.
            await self._wait_for(lambda: self._ended, expecting="the end of its output")
            raise ConnectorError(f"{self.task}: connector stopped reading its input") from None

    # --- responses ----------------------------------------------------------------

    async def _wait_for(self, ready: Callable[[], bool], *, expecting: str) -> None:
        while not ready():
            self._raise_failure()
            if self._ended:
                raise ConnectorError(
                    f"{self.task}: connector closed its output while the runtime waited for "
                    f"{expecting} ({self._phase.value})"
                )
            self._arrived.clear()
            try:
                async with asyncio.timeout(self._within):
                    await self._arrived.wait()
            except TimeoutError:
                raise ConnectorTimeout(
                    f"{self.task}: connector sent nothing for {self._within:g}s while the "
                    f"runtime waited for {expecting}; it may be stuck (raise "
                    "--connector-timeout if it needs longer)"
                ) from None
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def _read_responses(self) -> None:
        try:
            while True:
                line = await self._connector.receive_line(within=None, expecting="a response")
                if line is None:
                    self._check_clean_end()
                    self._ended = True
                    return
                self._accept(line)
                self._arrived.set()
        except BaseException as err:  # noqa: BLE001 - handed to the waiting driver
            self._failure = err if isinstance(err, Exception) else ConnectorError(str(err))
            self._ended = True
        finally:
            self._arrived.set()

    def _check_clean_end(self) -> None:
        if self._phase is not Phase.IDLE:
            raise ConnectorError(
                f"{self.task}: connector exited while the transaction was "
                f"{self._phase.value}; nothing of it was committed"
            )

    def _accept(self, line: bytes) -> None:
        if line.startswith(_LOADED_PREFIX):
            loaded = _fast_loaded(line)
            if loaded is not None:
                self._on_loaded(loaded)
                return
        response = self._connector.parse(line)
        name = message_name(response)
        if response.loaded is not None:
            self._on_loaded(Loaded(binding=response.loaded.binding, document=response.loaded.doc))
        elif response.acknowledged is not None:
            self._on_acknowledged(response.acknowledged.state)
        elif response.flushed is not None:
            self._on_flushed(response.flushed.state)
        elif response.started_commit is not None:
            self._on_started_commit(response.started_commit.state)
        else:
            raise ProtocolError(
                f"{self.task}: connector protocol error (unexpected {name} {self._phase.value})"
            )

    def _on_loaded(self, loaded: Loaded) -> None:
        if self._phase not in (Phase.LOAD, Phase.FLUSH):
            raise self._out_of_order("Loaded")
        if not 0 <= loaded.binding < len(self._spec.bindings):
            raise ProtocolError(
                f"{self.task}: connector sent Loaded for binding {loaded.binding}, but the "
                f"materialization has {len(self._spec.bindings)} bindings"
            )
        self._current.loaded.append(loaded)

    def _on_acknowledged(self, state: flow.ConnectorState | None) -> None:
        if self._phase in (Phase.STORE, Phase.COMMIT):
            raise self._out_of_order("Acknowledged")
        if self._current.acknowledged:
            raise ProtocolError(f"{self.task}: connector sent duplicate Acknowledged")
        self._current.acknowledged = True
        if state is not None:
            self._current.states.append(state)

    def _on_flushed(self, state: flow.ConnectorState | None) -> None:
        if self._phase in (Phase.STORE, Phase.COMMIT):
            raise self._out_of_order("Flushed")
        if self._phase is not Phase.FLUSH:
            raise ProtocolError(
                f"{self.task}: connector sent Flushed before receiving Flush "
                f"(the transaction is {self._phase.value})"
            )
        if not self._current.acknowledged:
            raise ProtocolError(f"{self.task}: connector sent Flushed before Acknowledged")
        self._current.flushed = True
        if state is not None:
            self._current.states.append(state)

    def _on_started_commit(self, state: flow.ConnectorState | None) -> None:
        if self._phase is Phase.STORE:
            raise self._out_of_order("StartedCommit")
        if self._phase is not Phase.COMMIT:
            raise ProtocolError(
                f"{self.task}: connector sent StartedCommit {self._phase.value}, before "
                "receiving StartCommit"
            )
        if state is not None:
            self._current.states.append(state)
        # The next transaction starts here: an Acknowledged may follow at once.
        self._committed, self._current = self._current.states, _Transaction()
        self._phase = Phase.IDLE

    def _out_of_order(self, name: str) -> ProtocolError:
        if self._phase is Phase.STORE:
            return ProtocolError(
                f"{self.task}: connector sent {name} during the Store phase, when no responses "
                "are allowed"
            )
        if self._phase is Phase.COMMIT:
            return ProtocolError(
                f"{self.task}: connector protocol error (expected StartedCommit, got {name})"
            )
        return ProtocolError(
            f"{self.task}: connector protocol error (unexpected {name} {self._phase.value})"
        )

    async def stop(self) -> None:
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


def _fast_loaded(line: bytes) -> Loaded | None:
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    body = message.get("loaded") if type(message) is dict and len(message) == 1 else None
    if type(body) is not dict or not body.keys() <= _LOADED_FIELDS or "doc" not in body:
        return None
    binding = body.get("binding", 0)
    if type(binding) is not int:
        return None
    return Loaded(binding=binding, document=body["doc"])
