"""Document UUIDs, as Flow writes them at `_meta/uuid` when it publishes a document.

Flow's UUIDs are version 1: a 60-bit timestamp (100 ns ticks since 1582-10-15)
whose low four bits Flow uses as a sequence, a clock sequence, and a node that
names the producer. Materializations read the timestamp back as the document's
publish time (`flow_published_at`).

Here every document of one checkpoint group shares one timestamp (they are
published together), and the node holds a 24-bit producer id (from the task's
name) and a 24-bit counter, so each document still gets its own UUID. Timestamps
strictly increase from group to group within a producer.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

UUID_EPOCH_TICKS = 0x01B21DD213814000
"""100 ns ticks from the UUID epoch (1582-10-15) to the Unix epoch."""
_SEQUENCE_BITS = 4
_COUNTER_LIMIT = 1 << 24
_CLOCK_SEQUENCE = 0x8000  # RFC 4122 variant bits, no flags
_MULTICAST = 0x01 << 40  # marks a node that is not a MAC address


class PublishClock:
    """Hands out UUIDs for one producer (a capture, or a fixture)."""

    def __init__(self, *, producer: str) -> None:
        digest = hashlib.sha256(producer.encode()).digest()
        self._producer = (int.from_bytes(digest[:3], "big") << 24) | _MULTICAST
        self._last_ticks = 0
        self._prefix = ""
        self._counter = _COUNTER_LIMIT

    def begin_group(self) -> None:
        """Start a new timestamp: call before the documents of each checkpoint group."""
        now = time.time_ns() // 100 + UUID_EPOCH_TICKS
        ticks = max(now, self._last_ticks + (1 << _SEQUENCE_BITS)) >> _SEQUENCE_BITS
        ticks <<= _SEQUENCE_BITS
        self._last_ticks = ticks
        low, mid, high = ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF, (ticks >> 48) & 0x0FFF
        self._prefix = f"{low:08x}-{mid:04x}-{high | 0x1000:04x}-{_CLOCK_SEQUENCE:04x}-"
        self._counter = 0

    def next_uuid(self) -> str:
        if self._counter >= _COUNTER_LIMIT:
            self.begin_group()
        node = self._producer | self._counter
        self._counter += 1
        return f"{self._prefix}{node:012x}"


def uuid_ticks(uuid: str) -> int | None:
    """The publish time a v1 UUID holds, in 100 ns ticks since 1582-10-15; None if none."""
    if len(uuid) != 36 or uuid[14] != "1":
        return None
    try:
        ticks = int(uuid[15:18] + uuid[9:13] + uuid[0:8], 16)
    except ValueError:
        return None
    return (ticks >> _SEQUENCE_BITS) << _SEQUENCE_BITS


def ticks_of(moment: datetime) -> int:
    """`moment` in UUID ticks, comparable with `uuid_ticks`."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros * 10 + UUID_EPOCH_TICKS


def published_at(uuid: str) -> str | None:
    """The publish time a v1 UUID holds, as RFC 3339 UTC text; None if it holds none."""
    ticks = uuid_ticks(uuid)
    if ticks is None:
        return None
    micros = (ticks - UUID_EPOCH_TICKS) // 10
    moment = datetime.fromtimestamp(micros // 1_000_000, UTC).replace(
        microsecond=micros % 1_000_000
    )
    return moment.isoformat().replace("+00:00", "Z")


class PublishedAtCache:
    """`published_at` for many UUIDs that mostly share a timestamp (one per checkpoint)."""

    def __init__(self) -> None:
        self._by_time: dict[str, str | None] = {}

    def __call__(self, uuid: object) -> str | None:
        if not isinstance(uuid, str):
            return None
        time_fields = uuid[:18]
        found = self._by_time.get(time_fields, _MISSING)
        if found is _MISSING:
            if len(self._by_time) > 4096:
                self._by_time.clear()
            found = self._by_time[time_fields] = published_at(uuid)
        return found if isinstance(found, str) else None


_MISSING = "\x00missing"
