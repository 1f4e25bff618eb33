"""Reading requests: newline-delimited JSON on stdin, one message per line."""

from __future__ import annotations

import asyncio
import os
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
