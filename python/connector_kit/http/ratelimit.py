"""Per-host request pacing shared by every request of one HTTP client.

Each host gets a token bucket (a steady rate plus a burst) and can be paused
outright when a response says the quota is used up (`X-RateLimit-Remaining: 0`
with a reset time). Waiters queue on a per-host lock, so they are served in
arrival order and never stampede when a pause ends.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connector_kit.http.wait_hints import quota_exhausted, rate_limit_reset_delay


@dataclass(frozen=True, kw_only=True)
class RateLimit:
    requests_per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.requests_per_second <= 0:
            raise ValueError("RateLimit.requests_per_second must be positive")
        if self.burst < 1:
            raise ValueError("RateLimit.burst must be at least 1")


class _HostGate:
    def __init__(self, *, limit: RateLimit | None, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst) if limit else 0.0
        self.refilled_at = now
        self.paused_until = 0.0
        self.lock = asyncio.Lock()

    def refill(self, now: float) -> None:
        if self.limit is None:
            return
        elapsed = max(0.0, now - self.refilled_at)
        self.tokens = min(
            float(self.limit.burst), self.tokens + elapsed * self.limit.requests_per_second
        )
        self.refilled_at = now


class HostRateLimiter:
    """Paces requests per host; `rate_limit=None` only honours quota pauses."""

    def __init__(
        self,
        *,
        rate_limit: RateLimit | None,
        max_pause_s: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._rate_limit = rate_limit
        self._max_pause_s = max_pause_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._gates: dict[str, _HostGate] = {}

    def _gate(self, host: str) -> _HostGate:
        gate = self._gates.get(host)
        if gate is None:
            gate = _HostGate(limit=self._rate_limit, now=self._clock())
            self._gates[host] = gate
        return gate

    async def acquire(self, host: str) -> None:
        """Wait until the host may receive one more request, and take its slot."""
        gate = self._gate(host)
        async with gate.lock:
            while True:
                now = self._clock()
                if gate.paused_until > now:
                    await asyncio.sleep(gate.paused_until - now)
                    continue
                if gate.limit is None:
                    return
                gate.refill(now)
                if gate.tokens >= 1.0:
                    gate.tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - gate.tokens) / gate.limit.requests_per_second)

    def pause(self, host: str, *, seconds: float) -> float:
        """Hold every request to the host for up to `seconds` (capped); returns the pause."""
        seconds = min(max(seconds, 0.0), self._max_pause_s)
        gate = self._gate(host)
        gate.paused_until = max(gate.paused_until, self._clock() + seconds)
        return seconds

    def observe(self, host: str, headers: Mapping[str, str]) -> float | None:
        """Pause the host if the response says its quota is used up; returns the pause."""
        if not quota_exhausted(headers):
            return None
        delay = rate_limit_reset_delay(headers, now=self._wall_clock())
        if delay is None or delay <= 0:
            return None
        return self.pause(host, seconds=delay)
