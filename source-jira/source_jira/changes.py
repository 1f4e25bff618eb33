"""Issue changes from JQL search, read in minute windows by a realtime and a lookback pass.

The cursor is two minute boundaries, `(realtime, lookback)`, with lookback <= realtime:

* every issue version updated before `realtime` that search showed when it was read
  has been captured;
* every version updated before `lookback` has been captured, full stop: it was read
  when it was older than the lookback horizon, by which time search shows every change.

A pass, at Jira's own time `now` (from `/serverInfo`, so a skewed local clock cannot
move a window):

1. **lookback** re-reads `[lookback, min(realtime, now - horizon))`, the part of what
   the realtime pass read while it was young that has since settled, and catches
   changes search had not shown yet;
2. **realtime** reads `[realtime, now - 1 min)`. While lookback has nothing pending it
   moves along with realtime, up to `now - horizon`, so a backfill reads history once.

An issue version (id, updated) already emitted by this process is not emitted again.

**Checkpoints.** A window's issues come oldest update first, but many issues can share
one `updated` minute across page boundaries. So after each page only the issues of the
minutes before the newest issue's minute are emitted, followed by the cursor at the
start of that minute; the newest minute's issues are held back for the next
transaction. Each checkpoint therefore commits exactly the issues updated before its
cursor, and a restart from it re-reads exactly those not yet committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connector_kit.http import HTTPClient
from source_jira import api
from source_jira.jql import MINUTE, floor_minute, updated_between, user_zone
from source_jira.models import IssueHead

log = logging.getLogger(__name__)

Cursor = tuple[datetime, datetime]
DocumentsOf = Callable[[Mapping[str, Any], IssueHead], list[Any] | Awaitable[list[Any]]]
"""An issue's documents: at once, or (when they need requests of their own) later."""

REALTIME_LAG = MINUTE
"""Changes younger than this are left to the next pass: search needs a moment to show them."""

FETCH_CONCURRENCY = 8
"""Issues whose children need requests of their own are fetched this many at a time."""

_PRUNE_ABOVE = 10_000


@dataclass(frozen=True, kw_only=True)
class SearchShape:
    fields: str
    expand: str = ""
    page_size: int = 100


class IssueChanges:
    """The incremental fetch of one issue-driven stream (issues, or one kind of child)."""

    def __init__(
        self,
        *,
        http: HTTPClient,
        shape: SearchShape,
        documents_of: DocumentsOf,
        projects: Sequence[str],
        horizon: timedelta,
        start: datetime,
        stream: str,
    ) -> None:
        self._http = http
        self._shape = shape
        self._documents_of = documents_of
        self._projects = tuple(projects)
        self._horizon = horizon
        self._stream = stream
        first = floor_minute(start)
        self.start: Cursor = (first, first)
        self._emitted: dict[str, datetime] = {}
        self._prune_at = _PRUNE_ABOVE

    async def fetch(self, cursor: Cursor) -> AsyncIterator[Any]:
        realtime, lookback = cursor
        now = await api.fetch_server_time(self._http)
        zone = user_zone((await api.fetch_myself(self._http)).timeZone)
        settled = floor_minute(now - self._horizon)
        self._forget_before(lookback)

        top = min(realtime, settled)
        if lookback < top:
            async for item in self._window(lower=lookback, upper=top, zone=zone):
                if isinstance(item, datetime):
                    lookback = item
                    self._forget_before(lookback, when_larger_than=self._prune_at)
                    yield (realtime, lookback)
                else:
                    yield item

        caught_up = lookback == realtime
        upper = floor_minute(now - REALTIME_LAG)
        if realtime < upper:
            async for item in self._window(lower=realtime, upper=upper, zone=zone):
                if isinstance(item, datetime):
                    realtime = item
                    if caught_up:
                        lookback = max(lookback, min(item, settled))
                        self._forget_before(lookback, when_larger_than=self._prune_at)
                    yield (realtime, lookback)
                else:
                    yield item

    async def _window(
        self, *, lower: datetime, upper: datetime, zone: ZoneInfo
    ) -> AsyncIterator[Any]:
        """The documents of issues updated in [lower, upper), each minute boundary after
        the documents before it, and `upper` last."""
        jql = updated_between(lower=lower, upper=upper, zone=zone, projects=self._projects)
        held: list[tuple[Mapping[str, Any], IssueHead]] = []
        mark = lower
        async for page, heads in api.search_issues(
            self._http,
            jql=jql,
            fields=self._shape.fields,
            expand=self._shape.expand,
            page_size=self._shape.page_size,
        ):
            for raw, head in zip(page.issues, heads, strict=True):
                updated = head.fields.updated
                if not lower <= updated < upper:
                    continue  # The literals are widened to whole, unambiguous minutes.
                if updated < mark:
                    log.warning(
                        "search returned an issue older than an earlier page's newest",
                        extra={"fields": {"stream": self._stream, "issue": head.key}},
                    )
                held.append((raw, head))
            if not held:
                continue
            newest_minute = floor_minute(max(head.fields.updated for _, head in held))
            if newest_minute > mark:
                ready = [pair for pair in held if pair[1].fields.updated < newest_minute]
                held = [pair for pair in held if pair[1].fields.updated >= newest_minute]
                async for doc in self._documents(ready):
                    yield doc
                mark = newest_minute
                yield mark
        async for doc in self._documents(held):
            yield doc
        yield upper

    async def _documents(
        self, pairs: list[tuple[Mapping[str, Any], IssueHead]]
    ) -> AsyncIterator[Any]:
        """The documents of issue versions not emitted yet, in order; the ones that need
        requests of their own are fetched concurrently."""
        fresh = [
            (raw, head) for raw, head in pairs if self._emitted.get(head.id) != head.fields.updated
        ]
        limit = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def bounded(fetch: Awaitable[list[Any]]) -> list[Any]:
            async with limit:
                return await fetch

        made: list[list[Any] | asyncio.Task[list[Any]]] = []
        for raw, head in fresh:
            documents = self._documents_of(raw, head)
            made.append(
                documents
                if isinstance(documents, list)
                else asyncio.ensure_future(bounded(documents))
            )
        try:
            for (_, head), documents in zip(fresh, made, strict=True):
                for doc in documents if isinstance(documents, list) else await documents:
                    yield doc
                self._emitted[head.id] = head.fields.updated
        finally:
            for task in made:
                if isinstance(task, asyncio.Task) and not task.done():
                    task.cancel()

    def _forget_before(self, moment: datetime, *, when_larger_than: int = 0) -> None:
        """Drop the versions no later window can read again (all before `lookback`)."""
        if len(self._emitted) <= when_larger_than:
            return
        self._emitted = {k: v for k, v in self._emitted.items() if v >= moment}
        self._prune_at = max(_PRUNE_ABOVE, 2 * len(self._emitted))
