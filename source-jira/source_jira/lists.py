"""How Jira lists things, and which failures concern one listed item only.

Lists come in three shapes besides JQL search: offset pages (`startAt`/`maxResults`,
ending on `isLast`, on `total`, or on an empty page — PageBean, agile pages, and
named lists such as `comments`), bare arrays, and bare arrays paged until empty.
Each has one reader here. Known per-item failures (an issue deleted between search
and fetch, a kanban board asked for sprints) are skipped with a warning, per
`SKIPPABLE`, instead of failing the capture.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from connector_kit.errors import SourceError
from connector_kit.http import HTTPClient, Params, next_offset, offset_pages

log = logging.getLogger(__name__)

_JSON = {"Accept": "application/json"}


@dataclass(frozen=True, kw_only=True)
class SkippableError:
    """A failure that concerns one item only: skip the item, warn, and go on."""

    status: int
    says: str
    meaning: str

    def matches(self, *, status: int, body: str) -> bool:
        return status == self.status and self.says.lower() in body.lower()


ITEM_GONE = SkippableError(
    status=404, says="", meaning="it was deleted, or moved out of reach, after it was listed"
)
NO_SPRINTS = SkippableError(
    status=400, says="does not support sprints", meaning="the board has no sprints (kanban)"
)
SKIPPABLE: Mapping[str, tuple[SkippableError, ...]] = {
    "issue": (ITEM_GONE,),
    "project": (ITEM_GONE,),
    "board": (ITEM_GONE, NO_SPRINTS),
    "sprint": (ITEM_GONE,),
}


async def get_or_skip(
    http: HTTPClient, path: str, *, params: Params, skips: Collection[SkippableError], what: str
) -> Any | None:
    """The JSON body, or None (and a warning) when the answer is a known per-item error."""
    allowed = {s.status for s in skips}
    response = await http.request("GET", path, params=params, headers=_JSON, allow_statuses=allowed)
    if 200 <= response.status < 300:
        return response.json()
    body = response.text()
    for skip in skips:
        if skip.matches(status=response.status, body=body):
            log.warning(
                "skipping %s: %s",
                what,
                skip.meaning,
                extra={"fields": {"url": response.url, "status": response.status}},
            )
            return None
    raise SourceError(
        f"{response.request_line} returned {response.status_line}: "
        f"{response.redactor.snippet(response.body, limit=300)}"
    )


async def list_pages(
    http: HTTPClient,
    *,
    path: str,
    items: str = "values",
    page_size: int = 100,
    params: Mapping[str, str] | None = None,
    skips: Collection[SkippableError] = (),
    what: str = "",
) -> AsyncIterator[dict[str, Any]]:
    """Every item of an offset-paged list (PageBean, agile page, or a named list)."""

    async def page(start: int) -> Mapping[str, Any]:
        query: dict[str, str | int] = {**(params or {}), "startAt": start, "maxResults": page_size}
        body = await get_or_skip(http, path, params=query, skips=skips, what=what or path)
        if body is None:
            return {"isLast": True}
        if not isinstance(body, Mapping) or not isinstance(body.get(items), list):
            raise SourceError(f"GET {path} answered without a {items!r} list")
        return body

    async for body in offset_pages(page, next_offset(items_field=items)):
        for item in body.get(items) or ():
            yield item


async def list_array(
    http: HTTPClient, *, path: str, params: Mapping[str, str] | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Every item of an endpoint that answers with one bare JSON array."""
    body = await http.get_json(path, params=params)
    if not isinstance(body, list):
        raise SourceError(f"GET {path} should answer with a JSON array, got {type(body).__name__}")
    for item in body:
        yield item


async def list_array_pages(
    http: HTTPClient, *, path: str, page_size: int
) -> AsyncIterator[dict[str, Any]]:
    """Every item of a bare-array endpoint paged by `startAt` until a page comes back empty."""
    start = 0
    while True:
        body = await http.get_json(path, params={"startAt": start, "maxResults": page_size})
        if not isinstance(body, list):
            raise SourceError(
                f"GET {path} should answer with a JSON array, got {type(body).__name__}"
            )
        if not body:
            return
        for item in body:
            yield item
        start += len(body)
