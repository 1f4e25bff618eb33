"""Append-only JSON-lines journals of captured documents, and where their committed data ends.

A `JournalWriter` appends a capture's lines and syncs them at commit; when it is
opened it cuts off whatever lies beyond the committed length, since those bytes
belong to a transaction that never committed. A `JournalReader` reads a journal
from a byte offset up to the committed head in large chunks and hands out one
line at a time, tracking the offset just after the last line taken (what a
materialization checkpoints). `JournalHeads` is the in-memory view of every
journal's committed length, which readers wait on for new data.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from connector_kit.errors import ConfigError

READ_CHUNK_BYTES = 4 << 20

log = logging.getLogger(__name__)


class JournalWriter:
    def __init__(self, path: Path, *, journal: str, committed: int, sync: bool) -> None:
        self.journal = journal
        self.path = path
        self._sync = sync
        self._file = path.open("ab")
        length = self._file.seek(0, os.SEEK_END)
        if length < committed:
            self._file.close()
            raise ConfigError(
                f"journal {path} has {length} bytes but its capture committed {committed}: "
                "the state directory was damaged or partly removed; remove it to start over"
            )
        if length > committed:
            log.info(
                "dropping the uncommitted end of a journal",
                extra={"fields": {"journal": journal, "bytes": length - committed}},
            )
            self._file.truncate(committed)
        self.length = committed

    def append(self, lines: Iterable[bytes]) -> None:
        data = b"".join(lines)
        self._file.write(data)
        self.length += len(data)

    def commit(self) -> int:
        """Make everything appended durable; return the committed length."""
        self._file.flush()
        if self._sync:
            os.fsync(self._file.fileno())
        return self.length

    def close(self) -> None:
        self._file.close()


class JournalReader:
    def __init__(self, path: Path, *, journal: str, offset: int) -> None:
        self.journal = journal
        self.path = path
        self.offset = offset
        """Just after the last line taken: where a restart continues."""
        self._read_to = offset
        self._lines: deque[bytes] = deque()
        self._partial = b""

    def take(self, *, head: int) -> bytes | None:
        """The next line (without its newline) within the committed `head`, or None."""
        if not self._lines and not self._fill(head):
            return None
        line = self._lines.popleft()
        self.offset += len(line) + 1
        return line

    def _fill(self, head: int) -> bool:
        while not self._lines and self._read_to < head:
            with self.path.open("rb") as source:
                source.seek(self._read_to)
                chunk = source.read(min(READ_CHUNK_BYTES, head - self._read_to))
            if not chunk:
                raise ConfigError(
                    f"journal {self.path} ends at byte {self._read_to}, before its committed "
                    f"length {head}: the state directory was damaged; remove it to start over"
                )
            self._read_to += len(chunk)
            parts = (self._partial + chunk).split(b"\n")
            self._partial = parts.pop()
            self._lines.extend(parts)
        return bool(self._lines)


class JournalHeads:
    """The committed length of every journal; readers wait here for more data.

    Each reader subscribes an event of its own, set on every change: a reader
    clears it before looking at the heads, so a change after that look is never missed.
    """

    def __init__(self) -> None:
        self._heads: dict[str, tuple[str, int]] = {}
        self._subscribers: list[asyncio.Event] = []
        self._open_writers = 0

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        self._subscribers.append(event)
        return event

    def _changed(self) -> None:
        for event in self._subscribers:
            event.set()

    def set(self, journal: str, *, collection: str, length: int) -> None:
        self._heads[journal] = (collection, length)
        self._changed()

    def length(self, journal: str) -> int:
        found = self._heads.get(journal)
        return found[1] if found is not None else 0

    def of_collection(self, collection: str) -> list[str]:
        return sorted(j for j, (c, _) in self._heads.items() if c == collection)

    def writer_started(self) -> None:
        self._open_writers += 1

    def writer_finished(self) -> None:
        self._open_writers -= 1
        self._changed()

    @property
    def writing(self) -> bool:
        """Whether any capture may still commit more data."""
        return self._open_writers > 0
