"""Writing transactions: a binding's documents and their checkpoint as one contiguous unit.

Bindings run concurrently, but a transaction must reach stdout whole — documents
followed by the checkpoint that commits them — or a restart could skip data. Each
binding therefore collects its lines in a `Transaction` and hands it to
`CaptureOutput.commit`, which writes it without yielding to the event loop, so no
other binding's lines can interleave.
"""

from __future__ import annotations

import collections
import logging
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, Any

from connector_kit.capture.documents import checkpoint_line
from connector_kit.wire import LineWriter

log = logging.getLogger(__name__)

SPILL_BYTES = 16 * 1024 * 1024
"""Beyond this many buffered bytes a transaction spills to a temporary file."""

Acknowledged = Callable[[], Awaitable[None]]


class Transaction:
    """The lines of one binding's transaction in progress, in memory or spilled to disk."""

    def __init__(self) -> None:
        self._lines: list[bytes] = []
        self._size = 0
        self._spill: IO[bytes] | None = None
        self.documents = 0

    def add(self, line: bytes) -> None:
        self._lines.append(line)
        self._size += len(line)
        if self._size > SPILL_BYTES:
            self._spill_lines()

    def add_document(self, line: bytes) -> None:
        # Called once per document: `add` is inlined rather than called.
        self.documents += 1
        self._lines.append(line)
        self._size += len(line)
        if self._size > SPILL_BYTES:
            self._spill_lines()

    def _spill_lines(self) -> None:
        if self._spill is None:
            self._spill = tempfile.TemporaryFile()  # noqa: SIM115 - closed in write_to/discard
        self._spill.write(b"".join(self._lines))
        self._lines.clear()
        self._size = 0

    @property
    def empty(self) -> bool:
        return not self._lines and self._spill is None

    def write_to(self, writer: LineWriter) -> None:
        if self._spill is not None:
            self._spill.seek(0)
            while chunk := self._spill.read(1 << 20):
                writer.write(chunk)
            self._spill.close()
            self._spill = None
        if self._lines:
            writer.write(b"".join(self._lines))
        self._lines.clear()
        self._size = 0
        self.documents = 0

    def discard(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        self._lines.clear()
        self._size = 0
        self.documents = 0


class CaptureOutput:
    """The one writer of protocol lines during a capture, and the ledger of acknowledgements."""

    def __init__(self, writer: LineWriter) -> None:
        self._writer = writer
        self._pending_acks: collections.deque[Acknowledged | None] = collections.deque()
        self.checkpoints = 0
        self.documents = 0

    def write(self, line: bytes) -> None:
        self._writer.write(line)

    def commit(
        self,
        txn: Transaction,
        state_patch: Mapping[str, Any],
        *,
        on_acknowledged: Acknowledged | None = None,
    ) -> None:
        """Write the transaction's lines and the checkpoint that commits them, contiguously."""
        self.documents += txn.documents
        txn.write_to(self._writer)
        self._writer.write(checkpoint_line(state_patch))
        self.checkpoints += 1
        self._pending_acks.append(on_acknowledged)

    def acknowledged(self, checkpoints: int) -> list[Acknowledged]:
        """Mark the oldest `checkpoints` as committed; return the callbacks now due."""
        if checkpoints > len(self._pending_acks):
            log.warning(
                "runtime acknowledged more checkpoints than were written",
                extra={"fields": {"acknowledged": checkpoints, "pending": len(self._pending_acks)}},
            )
        due: list[Acknowledged] = []
        for _ in range(min(checkpoints, len(self._pending_acks))):
            callback = self._pending_acks.popleft()
            if callback is not None:
                due.append(callback)
        return due
