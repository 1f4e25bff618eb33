"""Jira's HTTP response shapes: JSON bodies, `ErrorCollection` errors, offset pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web

from .appstate import BASE


def ok(data: Any, *, status: int = 200) -> web.Response:
    # orjson: issue pages with every field run to megabytes, and the emulator must not be
    # the bottleneck of the captures benchmarked against it.
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", charset="utf-8"
    )


def error(status: int, *messages: str, errors: dict[str, str] | None = None) -> web.Response:
    """`ErrorCollection`: `{"errorMessages": [...], "errors": {...}}`."""
    return ok({"errorMessages": list(messages), "errors": errors or {}}, status=status)


def int_param(
    request: web.Request, name: str, *, default: int, minimum: int = 0
) -> int | web.Response:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return error(400, f"The '{name}' parameter must be an integer, got '{raw}'.")
    return max(value, minimum)


def list_param(request: web.Request, name: str) -> list[str]:
    """Repeated and comma-separated values of one query parameter."""
    return [
        v.strip() for raw in request.query.getall(name, []) for v in raw.split(",") if v.strip()
    ]


def page_bean(
    request: web.Request,
    *,
    base: str,
    values: Sequence[Any],
    start_at: int,
    max_results: int,
) -> dict[str, Any]:
    """A `PageBean*`: `{self, nextPage?, maxResults, startAt, total, isLast, values}`."""
    path = request.path
    query = {k: v for k, v in request.query.items() if k not in ("startAt", "maxResults")}
    chunk = list(values[start_at : start_at + max_results])
    is_last = start_at + len(chunk) >= len(values)

    def link(start: int) -> str:
        params = {**query, "startAt": str(start), "maxResults": str(max_results)}
        return f"{base}{_api_path(path)}?{urlencode(params)}"

    out: dict[str, Any] = {
        "self": link(start_at),
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(values),
        "isLast": is_last,
        "values": chunk,
    }
    if not is_last:
        out["nextPage"] = link(start_at + len(chunk))
    return out


def _api_path(path: str) -> str:
    # Links keep the request's own prefix out: `base` already carries it.
    marker = path.find("/rest/")
    return path[marker:] if marker >= 0 else path


def paging(
    request: web.Request, *, default: int, cap: int | None = None
) -> tuple[int, int] | web.Response:
    """`startAt` and `maxResults` (defaulted, floored at 1, capped), or a 400."""
    start_at = int_param(request, "startAt", default=0)
    if isinstance(start_at, web.Response):
        return start_at
    max_results = int_param(request, "maxResults", default=default, minimum=1)
    if isinstance(max_results, web.Response):
        return max_results
    if cap is not None:
        max_results = min(max_results, cap)
    return start_at, max_results


def paged(
    request: web.Request, values: Sequence[Any], *, default: int, cap: int | None = None
) -> web.Response:
    """One `PageBean*` page of `values`, per the request's `startAt`/`maxResults`."""
    window = paging(request, default=default, cap=cap)
    if isinstance(window, web.Response):
        return window
    start_at, max_results = window
    body = page_bean(
        request, base=request[BASE], values=values, start_at=start_at, max_results=max_results
    )
    return ok(body)
