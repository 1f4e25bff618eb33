"""Configurable rate limiting and failures, decided per request before it is served.

Jira Cloud answers over-budget requests with HTTP 429 and `Retry-After` (seconds),
`X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (ISO 8601, minute
precision) and `RateLimit-Reason`; successful responses close to the budget carry
`X-RateLimit-NearLimit: true` (Atlassian "Rate limiting" guide for Jira Cloud). Some 503
responses also carry `Retry-After`.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class FaultDecision:
    status: int | None  # None: serve the request normally
    headers: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    delay_s: float = 0.0


@dataclass(slots=True)
class _Storm:
    remaining: int
    retry_after_s: int
    path_contains: str | None
    reason: str
    limit: int
    blocked_until: float = 0.0


@dataclass(slots=True)
class _Counted:
    status: int | None
    remaining: int
    path_contains: str | None
    retry_after_s: int | None = None
    delay_s: float = 0.0


@dataclass(slots=True)
class _Budget:
    limit: int
    window_s: float
    reason: str
    window_start: float = 0.0
    used: int = 0


def _reset_header(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%MZ")


def _matches(path_contains: str | None, path: str) -> bool:
    return path_contains is None or path_contains in path


class FaultPlan:
    """Thread-safe: tests arm faults from their own thread while the server runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._storms: list[_Storm] = []
        self._counted: list[_Counted] = []
        self._budget: _Budget | None = None
        self.served: Counter[int] = Counter()
        self.early_retries = 0

    def rate_limit_storm(
        self,
        *,
        count: int,
        retry_after_s: int = 2,
        path_contains: str | None = None,
        reason: str = "jira-cost-based",
        limit: int = 100,
    ) -> None:
        """The next `count` matching requests get 429; a retry sent before the
        `Retry-After` has elapsed gets another 429 without using up the storm."""
        with self._lock:
            self._storms.append(_Storm(count, retry_after_s, path_contains, reason, limit))

    def unavailable(
        self, *, count: int, retry_after_s: int | None = None, path_contains: str | None = None
    ) -> None:
        with self._lock:
            self._counted.append(_Counted(503, count, path_contains, retry_after_s))

    def server_errors(
        self, *, count: int, status: int = 500, path_contains: str | None = None
    ) -> None:
        with self._lock:
            self._counted.append(_Counted(status, count, path_contains))

    def slow(self, *, count: int, seconds: float, path_contains: str | None = None) -> None:
        """Delay the next `count` matching responses, to exercise client timeouts."""
        with self._lock:
            self._counted.append(_Counted(None, count, path_contains, delay_s=seconds))

    def request_budget(
        self, *, limit: int, window_s: float, reason: str = "jira-quota-tenant-based"
    ) -> None:
        """At most `limit` requests per fixed window; the rest get 429 until it rolls."""
        with self._lock:
            self._budget = _Budget(limit, window_s, reason)

    def clear(self) -> None:
        with self._lock:
            self._storms.clear()
            self._counted.clear()
            self._budget = None

    def decide(self, *, path: str, now: float) -> FaultDecision:
        with self._lock:
            decision = self._decide(path, now)
            if decision.status is not None:
                self.served[decision.status] += 1
            return decision

    def _decide(self, path: str, now: float) -> FaultDecision:
        for storm in self._storms:
            if not _matches(storm.path_contains, path):
                continue
            if now < storm.blocked_until:
                self.early_retries += 1
                return self._too_many(storm, storm.blocked_until - now, storm.blocked_until)
            if storm.remaining > 0:
                storm.remaining -= 1
                storm.blocked_until = now + storm.retry_after_s
                return self._too_many(storm, storm.retry_after_s, storm.blocked_until)
        self._storms = [s for s in self._storms if s.remaining > 0 or s.blocked_until > now]
        for fault in self._counted:
            if fault.remaining > 0 and _matches(fault.path_contains, path):
                fault.remaining -= 1
                headers = {}
                if fault.retry_after_s is not None:
                    headers["Retry-After"] = str(fault.retry_after_s)
                message = None
                if fault.status is not None:
                    message = (
                        "Service Unavailable" if fault.status == 503 else "Internal server error"
                    )
                return FaultDecision(fault.status, headers, message, fault.delay_s)
        self._counted = [f for f in self._counted if f.remaining > 0]
        return self._budgeted(now)

    def _too_many(self, storm: _Storm, wait_s: float, until: float) -> FaultDecision:
        headers = {
            "Retry-After": str(max(1, math.ceil(wait_s))),
            "X-RateLimit-Limit": str(storm.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": _reset_header(until),
            "RateLimit-Reason": storm.reason,
        }
        return FaultDecision(429, headers, "Rate limit exceeded.")

    def _budgeted(self, now: float) -> FaultDecision:
        budget = self._budget
        if budget is None:
            return FaultDecision(None)
        if now >= budget.window_start + budget.window_s:
            budget.window_start, budget.used = now, 0
        budget.used += 1
        window_end = budget.window_start + budget.window_s
        remaining = max(0, budget.limit - budget.used)
        if budget.used > budget.limit:
            headers = {
                "Retry-After": str(max(1, math.ceil(window_end - now))),
                "X-RateLimit-Limit": str(budget.limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": _reset_header(window_end),
                "RateLimit-Reason": budget.reason,
            }
            return FaultDecision(429, headers, "Rate limit exceeded.")
        if remaining < budget.limit * 0.2:
            return FaultDecision(None, {"X-RateLimit-NearLimit": "true"})
        return FaultDecision(None)
