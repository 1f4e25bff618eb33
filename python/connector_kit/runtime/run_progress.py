"""Progress of a `run` on stderr: per binding, documents and bytes committed, and the rate.

Every few seconds one log line per binding that committed something since the
last report; at the end one summary line per binding with its totals and its
average rate over the run. Lines are ordinary JSON log records, with the
numbers also in `fields` for anything that reads them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from connector_kit.runtime.run_stats import BindingCounters, RunCounters

log = logging.getLogger("connector_kit.runtime.run")


@dataclass
class _Seen:
    documents: int
    at: float


def describe(counters: BindingCounters) -> str:
    arrow = "→" if counters.kind == "capture" else "←"
    return f"{counters.kind} {counters.task} {arrow} {counters.collection}"


def human_bytes(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


class ProgressReporter:
    def __init__(self, counters: RunCounters, *, interval: float) -> None:
        self._counters = counters
        self._interval = interval
        self._seen: dict[int, _Seen] = {}

    async def report_periodically(self) -> None:
        if self._interval <= 0:
            return
        while True:
            await asyncio.sleep(self._interval)
            self.report()

    def report(self) -> None:
        now = time.monotonic()
        for counters in self._counters.bindings:
            seen = self._seen.get(id(counters)) or _Seen(0, self._counters.started_at)
            fresh = counters.documents - seen.documents
            if fresh <= 0:
                continue
            rate = fresh / max(now - seen.at, 1e-9)
            self._seen[id(counters)] = _Seen(counters.documents, now)
            log.info(
                "%s: %d documents (%s), %.0f/s",
                describe(counters),
                counters.documents,
                human_bytes(counters.bytes),
                rate,
                extra={"fields": _fields(counters) | {"documents_per_second": round(rate, 1)}},
            )

    def summarize(self, *, outcome: str) -> None:
        elapsed = time.monotonic() - self._counters.started_at
        log.info(
            "run %s after %.1fs",
            outcome,
            elapsed,
            extra={"fields": {"outcome": outcome, "seconds": round(elapsed, 3)}},
        )
        for counters in self._counters.bindings:
            rate = counters.documents / max(elapsed, 1e-9)
            log.info(
                "%s: %d documents (%s) in total, %.0f/s on average",
                describe(counters),
                counters.documents,
                human_bytes(counters.bytes),
                rate,
                extra={"fields": _fields(counters) | {"documents_per_second": round(rate, 1)}},
            )


def _fields(counters: BindingCounters) -> dict[str, object]:
    return {
        "kind": counters.kind,
        "task": counters.task,
        "binding": counters.binding,
        "collection": counters.collection,
        "documents": counters.documents,
        "bytes": counters.bytes,
        "errors": counters.errors,
    }
