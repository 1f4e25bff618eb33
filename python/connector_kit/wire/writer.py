"""Writing responses: whole JSON lines on the protocol's output, flushed as written."""

from __future__ import annotations

import os


class LineWriter:
    """Writes whole protocol lines to a file descriptor, never a partial line.

    `os.write` may write less than asked on a pipe; the loop finishes the line
    before returning, so a reader never sees two messages interleaved.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self.bytes_written = 0

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.bytes_written += len(data)

    def fileno(self) -> int:
        return self._fd
