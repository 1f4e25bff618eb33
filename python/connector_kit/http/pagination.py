"""Paging through an API: a driver with loop detection, and paginators as pure functions.

A paginator looks at one page (a `Response` or its parsed JSON object) and says
where the next page starts, or None on the last page; building the request for
that page stays with the caller. `paginate` drives the two and stops with a clear
error when the source hands back a token it already gave, instead of looping.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from typing import Any, TypeVar

from connector_kit.errors import SourceError
from connector_kit.http.redact import Redactor
from connector_kit.http.response import Response

T = TypeVar("T", bound=Hashable)
R = TypeVar("R")

Page = Response | Mapping[str, Any]
"""What the built-in paginators read: a response, or the JSON object of its body."""

_LINK_VALUE = re.compile(
    r'<([^>]*)>((?:\s*;\s*[^;,=\s"<]+\s*(?:=\s*(?:"(?:[^"\\]|\\.)*"|[^;,\s"<]*))?)*)'
)
_LINK_PARAM = re.compile(r';\s*([^\s=;,]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?')


def _describe_token(token: object) -> str:
    text = str(token)
    if "://" in text:
        text = Redactor().url(text)
    return repr(text if len(text) <= 120 else text[:119] + "…")


async def paginate(
    fetch_page: Callable[[T | None], Awaitable[R]],
    next_token: Callable[[R], T | None],
) -> AsyncIterator[R]:
    """Fetch the first page (token None), then follow `next_token` until it returns None.

    Raises SourceError when a token repeats: following it again would loop forever.
    """
    seen: set[T] = set()
    token: T | None = None
    page_number = 0
    while True:
        page = await fetch_page(token)
        page_number += 1
        following = next_token(page)
        yield page
        if following is None:
            return
        if following in seen:
            raise SourceError(
                f"pagination token repeated: page {page_number} pointed to "
                f"{_describe_token(following)}, which an earlier page already gave; the source "
                "is paging in a loop, so paging stopped instead of reading the same pages again"
            )
        seen.add(following)
        token = following


def offset_pages(
    fetch_page: Callable[[int], Awaitable[R]],
    next_offset: Callable[[R], int | None],
    *,
    start: int = 0,
) -> AsyncIterator[R]:
    """`paginate` for offset paging: the first page is fetched at `start`."""

    async def fetch(offset: int | None) -> R:
        return await fetch_page(start if offset is None else offset)

    return paginate(fetch, next_offset)


def _object_of(page: Page) -> Mapping[str, Any]:
    body = page.json() if isinstance(page, Response) else page
    if not isinstance(body, Mapping):
        where = f" from {page.request_line}" if isinstance(page, Response) else ""
        raise SourceError(
            f"expected a JSON object as the page{where}, got {type(body).__name__}; "
            "this paginator cannot read it"
        )
    return body


def next_token_from(
    field: str, *, last_page_flag: str | None = None
) -> Callable[[Page], str | None]:
    """Token paging: the next token is the body field `field` (absent, null or "" ends).

    With `last_page_flag` (Jira's `isLast`), a page where that field is true ends paging
    even if it carries a token.
    """

    def next_token(page: Page) -> str | None:
        body = _object_of(page)
        if last_page_flag is not None and body.get(last_page_flag) is True:
            return None
        token = body.get(field)
        if token is None or token == "":
            return None
        if isinstance(token, bool) or not isinstance(token, str | int):
            raise SourceError(
                f"the page field {field!r} should hold a paging token, got {type(token).__name__}"
            )
        return str(token)

    return next_token


def _required_int(body: Mapping[str, Any], field: str) -> int:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SourceError(
            f"the page has no integer {field!r} (got {type(value).__name__}); "
            "offset paging cannot continue"
        )
    return value


def next_offset(
    *,
    items_field: str | None = "values",
    start_field: str = "startAt",
    page_size_field: str = "maxResults",
    total_field: str | None = "total",
    last_page_flag: str | None = "isLast",
) -> Callable[[Page], int | None]:
    """Offset paging in the startAt/maxResults/total/isLast style (Jira PageBean).

    The next offset is `startAt` plus the number of items on the page, not plus
    `maxResults`: sources may return short pages or cap the page size silently.
    Paging ends on an empty page, when `isLast` is true, or when `total` is reached.
    With `items_field=None` the page size field is trusted instead.
    """

    def next_offset_of(page: Page) -> int | None:
        body = _object_of(page)
        if last_page_flag is not None and body.get(last_page_flag) is True:
            return None
        start = _required_int(body, start_field)
        if items_field is None:
            count = _required_int(body, page_size_field)
        else:
            items = body.get(items_field)
            if not isinstance(items, list):
                raise SourceError(
                    f"the page has no {items_field!r} list (got {type(items).__name__}); "
                    "offset paging cannot continue"
                )
            count = len(items)
        if count == 0:
            return None
        following = start + count
        total = body.get(total_field) if total_field is not None else None
        if isinstance(total, int) and not isinstance(total, bool) and following >= total:
            return None
        return following

    return next_offset_of


def next_link(page: Response) -> str | None:
    """The target of the RFC 8288 `Link` header with `rel="next"`, as written.

    A relative target is resolved by the client against its base URL.
    """
    for header in page.headers.getall("Link", ()):
        for match in _LINK_VALUE.finditer(header):
            target, params = match.group(1), match.group(2)
            for name, value in _LINK_PARAM.findall(params):
                if name.lower() != "rel":
                    continue
                relations = value.strip('"').lower().split()
                if "next" in relations:
                    return target.strip()
    return None
