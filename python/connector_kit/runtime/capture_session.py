"""Reading a running capture connector's output as committed transactions.

After `open` → `opened`, a connector streams `captured` (and `sourcedSchema`)
messages, each group ending in a `checkpoint`. A group becomes part of a
transaction only when its checkpoint arrives: documents before it are held back,
so nothing uncommitted is ever handed on and no state advances past it. Each
document gets a UUID at `_meta/uuid` (the placeholder Flow's preview prints, or a
real one from a `PublishClock`) and is validated against its collection's schema.
Protocol breaks are reported in the Flow runtime's words.

`next_transaction` hands over one checkpoint group at a time, as documents (for
`preview`). `next_batch` hands over as many complete groups as the connector has
already written, up to a size limit, as JSON lines ready to spool (for `run`):
like Flow, it combines checkpoints that arrive together into one transaction, and
it never waits for more output once a checkpoint is in hand, so a connector that
waits for its acknowledgement is never kept waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from connector_kit.errors import ConnectorError, ProtocolError
from connector_kit.protocol import capture, flow
from connector_kit.protocol.envelope import message_name
from connector_kit.runtime.connector import ConnectorProcess, ConnectorTimeout
from connector_kit.runtime.document_schema import DocumentValidator
from connector_kit.runtime.unary import expect_probe_answer
from connector_kit.wire import snippet

UUID_PLACEHOLDER = "DocUUIDPlaceholder-329Bb50aa48EAa9ef"
"""What Flow writes at a captured document's `_meta/uuid` before the real UUID exists."""

FULL_RANGE = flow.RangeSpec(
    key_begin=0, key_end=0xFFFFFFFF, r_clock_begin=0, r_clock_end=0xFFFFFFFF
)

_CAPTURED_PREFIX = b'{"captured":'
_CAPTURED_FIELDS = frozenset({"binding", "doc"})

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommittedTransaction:
    documents: list[tuple[str, Any]]
    """(collection name, document) in the order the connector captured them."""
    state: flow.ConnectorState
    """The checkpoint's state update, to reduce into the connector state."""


@dataclass
class CapturedBatch:
    """Documents of one or more complete checkpoint groups, as JSON lines per binding."""

    lines: list[list[bytes]]
    """Per binding (position in the capture spec): each document's JSON and a newline."""
    sizes: list[int]
    """Per binding: the bytes of those documents' JSON (newlines not counted)."""
    states: list[flow.ConnectorState] = field(default_factory=list)
    """The checkpoints' state updates, in order."""
    documents: int = 0
    size: int = 0
    """Totals over all bindings."""

    @classmethod
    def empty(cls, bindings: int) -> CapturedBatch:
        return cls(lines=[[] for _ in range(bindings)], sizes=[0] * bindings)

    @property
    def checkpoints(self) -> int:
        return len(self.states)

    def add(self, binding: int, line: bytes) -> None:
        self.lines[binding].append(line)
        self.sizes[binding] += len(line) - 1
        self.documents += 1
        self.size += len(line) - 1


@dataclass(frozen=True)
class SessionEnded:
    why: Literal["exited", "idle"]
    discarded_documents: int = 0
    """Documents captured after the last checkpoint, dropped because they never committed."""


UuidSource = Callable[[], str]
_Captured = tuple[int, Any, bytes | None]
"""A captured document: binding, document, and its JSON line with the UUID when cut out."""
_ABSENT = object()
_META_HEAD = b'{"_meta":{'


def _with_uuid(raw: bytes, *, had_meta: bool, uuid: str) -> bytes | None:
    """The document's JSON as written, with `_meta/uuid` spliced in, and a newline.

    Only for the two shapes where the splice is plain: no `_meta` at all, or a `_meta`
    object written first without a `uuid`. None otherwise (the caller serializes).
    """
    stamp = b'"uuid":"' + uuid.encode() + b'"'
    if not had_meta:
        if raw == b"{}":
            return b'{"_meta":{' + stamp + b"}}\n"
        return b'{"_meta":{' + stamp + b"}," + raw[1:] + b"\n"
    if raw.startswith(_META_HEAD):
        rest = raw[len(_META_HEAD) :]
        return _META_HEAD + stamp + (rest if rest.startswith(b"}") else b"," + rest) + b"\n"
    return None


def placeholder_uuid() -> str:
    return UUID_PLACEHOLDER


class CaptureSession:
    """One opened capture connector, read one transaction at a time."""

    def __init__(
        self,
        connector: ConnectorProcess[capture.Response],
        *,
        spec: flow.CaptureSpec,
        validators: list[DocumentValidator],
        uuids: UuidSource = placeholder_uuid,
        begin_group: Callable[[], None] | None = None,
    ) -> None:
        self._connector = connector
        self._spec = spec
        self._validators = validators
        self._uuids = uuids
        self._begin_group = begin_group
        self._group_started = False
        self._pending = CapturedBatch.empty(len(spec.bindings))
        """Documents read after the last checkpoint handed over."""
        self._failure: ConnectorError | None = None
        self.explicit_acknowledgements = False

    @property
    def task(self) -> str:
        return self._connector.task

    async def open(self, *, version: str, state: Any, within: float | None) -> capture.Opened:
        """Probe, send Open with `state`, and wait (at most `within` seconds) for Opened."""
        await self._connector.send(
            capture.Request(spec=capture.Spec(connector_type=self._spec.connector_type, config={}))
        )
        await expect_probe_answer(self._connector, within=within)
        await self._connector.send(
            capture.Request(
                open=capture.Open(
                    capture=self._spec, version=version, range=FULL_RANGE, state=state
                )
            )
        )
        response = await self._connector.receive(within=within, expecting="Opened")
        if response is None:
            raise ProtocolError(
                f"{self.task}: connector protocol error (expected Opened, but it closed its "
                "output without one)"
            )
        if response.opened is None:
            raise ProtocolError(
                f"{self.task}: connector protocol error (expected Opened, got "
                f"{message_name(response)})"
            )
        self.explicit_acknowledgements = bool(response.opened.explicit_acknowledgements)
        return response.opened

    async def next_transaction(
        self, *, idle_within: float | None
    ) -> CommittedTransaction | SessionEnded:
        """The next checkpointed group of documents, or why the session ended.

        With `idle_within`, a connector that sends nothing for that long ends the
        session (as `flowctl preview --timeout` does); uncommitted documents are dropped.
        """
        documents: list[tuple[str, Any]] = []
        while True:
            item = await self._next(
                idle_within=idle_within, pending=len(documents), keep_json=False
            )
            if item is None:
                continue
            if isinstance(item, SessionEnded):
                return item
            if isinstance(item, flow.ConnectorState):
                return CommittedTransaction(documents=documents, state=item)
            binding, document, _ = item
            documents.append((self._spec.bindings[binding].collection.name, document))

    async def next_batch(
        self, *, idle_within: float | None, max_documents: int, max_bytes: int
    ) -> CapturedBatch | SessionEnded:
        """Complete checkpoint groups the connector has written, as spool-ready lines.

        Waits (at most `idle_within` seconds between messages) for the first
        checkpoint; after it, takes further groups only while their lines are
        already read, and while the batch is under `max_documents` and `max_bytes`.
        A group's documents read before its checkpoint stay pending for the next call.
        """
        if self._failure is not None:
            raise self._failure
        committed = CapturedBatch.empty(len(self._spec.bindings))
        take = self._connector.take_buffered_line
        while True:
            pending = self._pending
            if committed.checkpoints and (
                not self._connector.has_buffered_output
                or committed.documents + pending.documents >= max_documents
                or committed.size + pending.size >= max_bytes
            ):
                return committed
            line = take()
            try:
                if line is None:
                    item = await self._next(idle_within=idle_within, pending=pending.documents)
                else:
                    item = self._interpret(line, keep_json=True)
            except ConnectorError as err:
                if not committed.checkpoints:
                    raise
                # The complete checkpoints before the failure still commit; the failure
                # is raised by the next call.
                self._failure = err
                return committed
            if item is None:
                continue
            if isinstance(item, SessionEnded):
                return item
            if isinstance(item, flow.ConnectorState):
                self._take_pending(into=committed, state=item)
                continue
            binding, document, json = item
            if json is None:
                json = orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE)
            pending.add(binding, json)

    def _take_pending(self, *, into: CapturedBatch, state: flow.ConnectorState) -> None:
        pending = self._pending
        for binding, lines in enumerate(pending.lines):
            if lines:
                into.lines[binding].extend(lines)
                into.sizes[binding] += pending.sizes[binding]
        into.documents += pending.documents
        into.size += pending.size
        into.states.append(state)
        self._pending = CapturedBatch.empty(len(self._spec.bindings))

    async def acknowledge(self, checkpoints: int) -> None:
        if self.explicit_acknowledgements and checkpoints:
            await self._connector.send_acknowledge(
                capture.Request(acknowledge=capture.Acknowledge(checkpoints=checkpoints))
            )

    async def _next(
        self, *, idle_within: float | None, pending: int, keep_json: bool = True
    ) -> _Captured | flow.ConnectorState | SessionEnded | None:
        """The next captured document, checkpoint state, or session end; waits for output.

        None for a message that hands nothing over (a sourced schema).
        """
        try:
            line = await self._connector.receive_line(
                within=idle_within, expecting="Captured or Checkpoint"
            )
        except ConnectorTimeout:
            return SessionEnded(why="idle", discarded_documents=pending)
        if line is None:
            if pending:
                raise ProtocolError(
                    f"{self.task}: unexpected capture connector EOF while within a "
                    f"checkpoint ({pending} documents were captured after the last "
                    "checkpoint and are not committed)"
                )
            return SessionEnded(why="exited")
        return self._interpret(line, keep_json=keep_json)

    def _interpret(self, line: bytes, *, keep_json: bool) -> _Captured | flow.ConnectorState | None:
        """What one response line hands over: a document, a checkpoint's state, or None.

        With `keep_json`, a document comes with its JSON line (UUID included) when it
        can be cut from the response as written, sparing a second serialization.
        """
        if line.startswith(_CAPTURED_PREFIX):
            captured = self._fast_captured(line)
            if captured is not None:
                binding, document, raw = captured
                return self._accept_stamped(binding, document, raw if keep_json else None)
        response = self._connector.parse(line)
        if response.captured is not None:
            return self._accept_stamped(response.captured.binding, response.captured.doc, None)
        if response.checkpoint is not None:
            if response.checkpoint.state is None:
                raise ProtocolError(
                    f"{self.task}: connector protocol error (expected Captured or "
                    "Checkpoint with state; got a Checkpoint without state)"
                )
            self._group_started = False
            return response.checkpoint.state
        if response.sourced_schema is not None:
            self._binding(response.sourced_schema.binding, what="sourcedSchema")
            log.debug(
                "connector sent a sourced schema",
                extra={"fields": {"task": self.task, "binding": response.sourced_schema.binding}},
            )
            return None
        raise ProtocolError(
            f"{self.task}: connector protocol error (expected Captured or Checkpoint, "
            f"got {message_name(response)})"
        )

    def _accept_stamped(self, binding: int, document: Any, raw: bytes | None) -> _Captured:
        if not self._group_started:
            self._group_started = True
            if self._begin_group is not None:
                self._begin_group()
        meta = document.get("_meta", _ABSENT) if type(document) is dict else _ABSENT
        spliceable = raw is not None and (
            meta is _ABSENT or (type(meta) is dict and "uuid" not in meta)
        )
        binding, document = self._accept(binding, document)
        json = None
        if spliceable and raw is not None:
            json = _with_uuid(raw, had_meta=meta is not _ABSENT, uuid=document["_meta"]["uuid"])
        return binding, document, json

    def _fast_captured(self, line: bytes) -> tuple[int, Any, bytes | None] | None:
        """(binding, doc, the doc's JSON if it can be cut out) of a well-formed `captured`
        line; None to take the careful path."""
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise ProtocolError(
                f'{self.task}: could not parse "{snippet(line)}" into JSON response'
            ) from None
        body = message.get("captured") if len(message) == 1 else None
        if type(body) is not dict or not body.keys() <= _CAPTURED_FIELDS:
            return None
        binding = body.get("binding", 0)
        if type(binding) is not int:
            return None
        raw = None
        # As connectors usually write it: `{"captured":{"binding":N,"doc":{…}}}`.
        head = (
            b'{"captured":{"binding":%d,"doc":' % binding
            if "binding" in body
            else b'{"captured":{"doc":'
        )
        if line.startswith(head) and line.endswith(b"}}"):
            raw = line[len(head) : -2]
        return binding, body.get("doc"), raw

    def _binding(self, binding: int, *, what: str) -> int:
        if not 0 <= binding < len(self._spec.bindings):
            raise ProtocolError(
                f"{self.task}: invalid {'captured' if what == 'captured' else what} binding "
                f"{binding} (the capture has {len(self._spec.bindings)} enabled bindings, "
                f"numbered 0 to {len(self._spec.bindings) - 1})"
            )
        return binding

    def _accept(self, binding: int, document: Any) -> tuple[int, Any]:
        binding = self._binding(binding, what="captured")
        if type(document) is not dict:
            raise ProtocolError(
                f"{self.task}: captured document of binding {binding} is a "
                f"{type(document).__name__}, not a JSON object"
            )
        meta = document.setdefault("_meta", {})
        if type(meta) is not dict:
            raise ProtocolError(
                f"{self.task}: captured document of binding {binding} has a `_meta` that is "
                "not an object, so the runtime cannot set `_meta/uuid`"
            )
        meta["uuid"] = self._uuids()
        self._validators[binding].check(document, task=self.task, binding=binding)
        return binding, document
