"""Reading requests: newline-delimited JSON on stdin, one message per line."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import select
import threading
from collections.abc import AsyncIterator, Iterator
from typing import BinaryIO, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from connector_kit.errors import ProtocolError

MAX_LINE_BYTES = 128 * 1024 * 1024
"""The longest request line accepted, matching the Flow runtime's own limit."""

SNIPPET_CHARS = 120

M = TypeVar("M", bound=BaseModel)


def _has_descriptor(stream: BinaryIO) -> bool:
    try:
        stream.fileno()
    except (OSError, AttributeError, ValueError):
        return False
    return True


def snippet(line: bytes) -> str:
    text = line.decode("utf-8", errors="replace").rstrip("\n")
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS] + "…"


class LineSource(Protocol):
    def readline(self, limit: int = -1, /) -> bytes: ...


def iter_lines(
    stream: LineSource, *, max_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, line) for each non-empty line; a line over `max_bytes` is an error."""
    number = 0
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        number += 1
        if len(line) > max_bytes:
            raise ProtocolError(
                f"request line {number} is longer than {max_bytes} bytes; "
                "the runtime never sends such lines, so the input is not a Flow request stream"
            )
        if line.strip():
            yield number, line


def parse_line(model: type[M], line: bytes, number: int) -> M:
    """Parse one request line into `model`, or raise a ProtocolError naming the line."""
    try:
        message = model.model_validate_json(line)
        if isinstance(getattr(type(message), "message", None), property):
            getattr(message, "message")  # noqa: B009 - an envelope checks it holds one message
        return message
    except ProtocolError as err:
        raise ProtocolError(
            f"request line {number}: {err} (line starts: {snippet(line)!r})"
        ) from None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise ProtocolError(
            f"request line {number} is not a valid {model.__module__.rsplit('.', 1)[-1]} "
            f"request: {where}: {first['msg']} (line starts: {snippet(line)!r})"
        ) from None


class DescriptorLines:
    """`readline` straight from a file descriptor, holding no lock while it waits.

    A thread blocked in a buffered stream's read holds that stream's lock, so a
    connector that forks (e.g. `multiprocessing`) would deadlock in the child;
    blocking in `os.read` holds nothing.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = bytearray()
        self._eof = False

    def readline(self, limit: int = -1, /) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0 and (limit < 0 or end < limit):
                return self._take(end + 1)
            if limit >= 0 and len(self._buffer) >= limit:
                return self._take(limit)
            if self._eof:
                return self._take(len(self._buffer))
            chunk = os.read(self._fd, 1 << 16)
            if chunk:
                self._buffer += chunk
            else:
                self._eof = True

    def _take(self, size: int) -> bytes:
        line = bytes(self._buffer[:size])
        del self._buffer[:size]
        return line


F_SETPIPE_SZ = 1031
"""Linux's fcntl to resize a pipe (`fcntl.F_SETPIPE_SZ` from Python 3.10, Linux only)."""

PIPE_BYTES = 1 << 20


class RequestLines:
    """Numbered request lines from a stream, and whole runs of them for bulk readers.

    Iterating yields (line number, line) for each non-empty line, as `iter_lines`
    does. A reader that handles many similar lines at once (a materialization's
    Store lines) asks `ready_lines` for the complete lines that can be had without
    waiting, then `consume`s the ones it took; the rest stay for the iterator.

    Input is read into one buffer that is reused, never freed and allocated again per
    read: at hundreds of MB/s, fresh large allocations cost more in page faults than
    the reading itself.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        max_bytes: int = MAX_LINE_BYTES,
        chunk_bytes: int = 1 << 20,
    ) -> None:
        self._fd = stream.fileno() if _has_descriptor(stream) else None
        self._stream = stream
        self._max_bytes = max_bytes
        self._chunk_bytes = chunk_bytes
        self._buffer = bytearray(chunk_bytes)
        self._start = 0
        self._end = 0
        self._searched = 0
        self._number = 0
        self._eof = False
        if self._fd is not None:
            # A bigger pipe means fewer, larger reads; a file or terminal refuses, which is fine.
            with contextlib.suppress(OSError):
                fcntl.fcntl(self._fd, F_SETPIPE_SZ, PIPE_BYTES)

    def __iter__(self) -> RequestLines:
        return self

    def __next__(self) -> tuple[int, bytes]:
        while True:
            end = self._find_newline()
            if end < 0:
                self._check_length(self._end - self._start)
                if self._read():
                    continue
                if self._start >= self._end:
                    raise StopIteration
                end = self._end - 1  # the last line, without its newline
            self._check_length(end + 1 - self._start)
            with memoryview(self._buffer) as view:
                line = bytes(view[self._start : end + 1])
            self._start = end + 1
            self._number += 1
            if line.strip():
                return self._number, line

    def _find_newline(self) -> int:
        """Where the next line ends, searching each buffered byte once however long it is."""
        end = self._buffer.find(b"\n", self._start + self._searched, self._end)
        self._searched = 0 if end >= 0 else self._end - self._start
        return end

    def ready_lines(self, max_bytes: int) -> tuple[int, memoryview]:
        """(number of the next line, the complete lines buffered or readable without waiting).

        Waits only while not even one complete line is buffered. The block holds
        whole lines (each ending in a newline) and at most `max_bytes` of them; it is
        empty when the next line is longer, or is the input's unterminated last line.
        Nothing is taken: `consume` what was used. The block is a view of the buffer:
        release it (`with`) before reading on.
        """
        while self._find_newline() < 0:
            self._check_length(self._end - self._start)
            if not self._read():
                break
        while self._end - self._start < max_bytes and self._readable() and self._read():
            pass
        end = self._buffer.rfind(b"\n", self._start, min(self._end, self._start + max_bytes))
        view = memoryview(self._buffer)
        return self._number + 1, view[self._start : end + 1 if end >= 0 else self._start]

    def consume(self, size: int, lines: int) -> None:
        """Take the first `lines` lines (`size` bytes) of what `ready_lines` returned."""
        self._start += size
        self._number += lines
        self._searched = 0

    def _check_length(self, length: int) -> None:
        if length > self._max_bytes:
            raise ProtocolError(
                f"request line {self._number + 1} is longer than {self._max_bytes} bytes; "
                "the runtime never sends such lines, so the input is not a Flow request stream"
            )

    def _readable(self) -> bool:
        if self._eof:
            return False
        if self._fd is None:
            return True
        ready, _, _ = select.select([self._fd], [], [], 0)
        return bool(ready)

    def _read(self) -> bool:
        """Append what one read returns; False at the end of input."""
        if self._eof:
            return False
        if len(self._buffer) - self._end < self._chunk_bytes:
            self._make_room()
        with memoryview(self._buffer) as view, view[self._end :] as free:
            if self._fd is not None:
                count = os.readv(self._fd, [free])
            else:
                chunk = self._stream.read(min(len(free), self._chunk_bytes))
                count = len(chunk)
                free[:count] = chunk
        if not count:
            self._eof = True
            return False
        self._end += count
        return True

    def _make_room(self) -> None:
        """Move what is unread to the front, in a bigger buffer if it must grow."""
        pending = self._end - self._start
        if pending + self._chunk_bytes <= len(self._buffer):
            # Views move bytes like memmove (overlap allowed) and never resize the buffer,
            # so a block handed out earlier can never make this fail.
            with memoryview(self._buffer) as view:
                view[:pending] = view[self._start : self._end]
        else:
            grown = bytearray(max(2 * len(self._buffer), pending + self._chunk_bytes))
            with memoryview(self._buffer) as view:
                grown[:pending] = view[self._start : self._end]
            self._buffer = grown
        self._start, self._end = 0, pending


class AsyncLineReader:
    """Lines from a blocking stream, read on a thread and delivered to an event loop.

    A thread (not the loop's pipe transport) reads, so stdin may be a pipe, a file
    or a terminal alike. The queue is bounded, so a fast writer cannot fill memory.
    """

    def __init__(self, stream: BinaryIO, *, max_bytes: int = MAX_LINE_BYTES) -> None:
        self._stream: LineSource = (
            DescriptorLines(stream.fileno()) if _has_descriptor(stream) else stream
        )
        self._max_bytes = max_bytes
        self._queue: asyncio.Queue[tuple[int, bytes] | BaseException | None] = asyncio.Queue(64)
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._read, name="stdin-reader", daemon=True)
        self._thread.start()

    def _put(self, item: tuple[int, bytes] | BaseException | None) -> None:
        put = self._queue.put(item)
        try:
            future = asyncio.run_coroutine_threadsafe(put, self._loop)
        except RuntimeError:
            put.close()  # The loop is closed; the coroutine will never run.
            raise
        future.result()

    def _read(self) -> None:
        try:
            for item in iter_lines(self._stream, max_bytes=self._max_bytes):
                self._put(item)
            self._put(None)
        except BaseException as err:  # noqa: BLE001 - handed to the loop, which raises it
            try:
                self._put(err)
            except RuntimeError:
                return  # The loop is gone: nobody is reading any more.

    async def __aiter__(self) -> AsyncIterator[tuple[int, bytes]]:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
