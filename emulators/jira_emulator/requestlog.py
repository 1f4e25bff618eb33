"""A record of every request the emulator answered, for tests that count HTTP calls."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestRecord:
    method: str
    path: str  # without the `/ex/jira/{cloudId}` prefix
    query: str
    status: int
    account: str | None  # the email or account id the request authenticated as
    at: float  # emulator clock, epoch seconds
    issue: str | None  # the `{issueIdOrKey}` of per-issue endpoints


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def count(
        self,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        status: int | None = None,
    ) -> int:
        return sum(
            1
            for r in self.records()
            if (path_contains is None or path_contains in r.path)
            and (method is None or r.method == method.upper())
            and (status is None or r.status == status)
        )

    def per_issue(self) -> Counter[str]:
        """Requests to per-issue endpoints, by the id or key the client used."""
        return Counter(r.issue for r in self.records() if r.issue is not None)
