"""The one retry policy of the HTTP client: how many attempts, and how long between them.

The wait before a retry is, in order: what `Retry-After` asks for; for a 429 or an
exhausted quota, the time until `X-RateLimit-Reset`; otherwise exponential backoff
with full jitter. A server-requested wait is capped so one header cannot stall a
capture for hours; the attempt count is always bounded.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connector_kit.http.wait_hints import quota_exhausted, rate_limit_reset_delay, retry_after_delay

if TYPE_CHECKING:
    from connector_kit.http.response import Response

RetryHook = Callable[["Response | None", "BaseException | None"], "bool | None"]
"""Decides whether to retry a failed response or a raised exception; None defers to the table."""

# 2**62 seconds is already beyond any max_delay_s; larger exponents only risk overflow.
_MAX_EXPONENT = 62


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    jitter: bool = True
    max_server_wait_s: float = 300.0
    should_retry: RetryHook | None = None
    rng: random.Random = field(default_factory=random.SystemRandom, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(
                f"RetryPolicy.max_attempts must be at least 1, got {self.max_attempts}"
            )
        for name in ("base_delay_s", "max_delay_s", "max_server_wait_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must not be negative")

    def backoff_delay(self, *, attempt: int) -> float:
        """Exponential backoff after the given (1-based) failed attempt, with full jitter."""
        exponent = min(max(attempt - 1, 0), _MAX_EXPONENT)
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0**exponent)
        return ceiling * self.rng.random() if self.jitter else ceiling

    def server_delay(self, *, headers: Mapping[str, str], status: int, now: float) -> float | None:
        """The capped wait the server asked for, or None when it asked for nothing."""
        delay = retry_after_delay(headers, now=now)
        if delay is None and (status == 429 or quota_exhausted(headers)):
            delay = rate_limit_reset_delay(headers, now=now)
        return None if delay is None else min(delay, self.max_server_wait_s)

    def delay_before_retry(
        self,
        *,
        attempt: int,
        headers: Mapping[str, str] | None,
        status: int | None,
        now: float,
    ) -> float:
        if headers is not None and status is not None:
            requested = self.server_delay(headers=headers, status=status, now=now)
            if requested is not None:
                return requested
        return self.backoff_delay(attempt=attempt)
