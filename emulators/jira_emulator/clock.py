"""The emulator's clock: real time plus an offset that tests can move."""

from __future__ import annotations

import threading
import time
from datetime import datetime


class EmulatorClock:
    """Ticks with the wall clock; `advance` and `set` shift it without sleeping."""

    def __init__(self, *, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        if start is not None:
            self.set(start)

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError(f"clock time {moment!r} must carry a time zone")
        with self._lock:
            self._offset = moment.timestamp() - time.time()
