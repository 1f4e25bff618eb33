"""Paginators as pure functions of a page, and the driver's loop detection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiohttp import web

from connector_kit.errors import SourceError
from connector_kit.http import (
    HTTPClient,
    Response,
    next_link,
    next_offset,
    next_token_from,
    offset_pages,
    paginate,
)

Serve = Callable[..., Awaitable[str]]
"""The `serve` fixture: start an app with these routes, get its base URL."""


def json_page(body: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response.from_parts(body=orjson.dumps(body), headers=headers or [])


def test_next_token_from_reads_the_body_field() -> None:
    next_token = next_token_from("nextPageToken")
    assert next_token(json_page({"issues": [], "nextPageToken": "abc"})) == "abc"
    assert next_token({"issues": [], "nextPageToken": "abc"}) == "abc"
    assert next_token(json_page({"issues": []})) is None
    assert next_token(json_page({"issues": [], "nextPageToken": None})) is None
    assert next_token(json_page({"issues": [], "nextPageToken": ""})) is None


def test_next_token_from_stops_on_the_last_page_flag() -> None:
    next_token = next_token_from("nextPageToken", last_page_flag="isLast")
    assert next_token(json_page({"nextPageToken": "abc", "isLast": True})) is None
    assert next_token(json_page({"nextPageToken": "abc", "isLast": False})) == "abc"


def test_next_token_from_rejects_a_page_that_is_not_an_object() -> None:
    with pytest.raises(SourceError, match="expected a JSON object"):
        next_token_from("nextPageToken")(json_page([1, 2, 3]))


def test_next_offset_advances_by_the_items_returned() -> None:
    next_page = next_offset()
    short_page = {"startAt": 0, "maxResults": 100, "total": 250, "values": [{}] * 50}
    assert next_page(json_page(short_page)) == 50


def test_next_offset_stops_at_total_last_flag_or_empty_page() -> None:
    next_page = next_offset()
    assert next_page({"startAt": 200, "maxResults": 50, "total": 250, "values": [{}] * 50}) is None
    assert next_page({"startAt": 0, "maxResults": 50, "isLast": True, "values": [{}]}) is None
    assert next_page({"startAt": 50, "maxResults": 50, "total": 999, "values": []}) is None


def test_next_offset_with_other_field_names() -> None:
    next_page = next_offset(items_field="comments", last_page_flag=None)
    page = {"startAt": 10, "maxResults": 5, "total": 100, "comments": [{}] * 5}
    assert next_page(page) == 15
    with pytest.raises(SourceError, match="'comments' list"):
        next_page({"startAt": 10, "total": 100})


def test_next_link_finds_rel_next_among_several_links() -> None:
    header = (
        '<https://api.example.com/items?page=1>; rel="prev", '
        '<https://api.example.com/items?page=3&a=b,c>; rel="next"; title="Next, please", '
        '<https://api.example.com/items?page=9>; rel="last"'
    )
    page = Response.from_parts(headers=[("Link", header)])
    assert next_link(page) == "https://api.example.com/items?page=3&a=b,c"


def test_next_link_handles_unquoted_and_multi_valued_rel_and_repeated_headers() -> None:
    page = Response.from_parts(
        headers=[
            ("Link", "</items?page=1>; rel=first"),
            ("Link", '</items?page=2>; rel="next last"'),
        ]
    )
    assert next_link(page) == "/items?page=2"
    assert next_link(Response.from_parts(headers=[("Link", "</a>; rel=prev")])) is None
    assert next_link(Response.from_parts()) is None


async def test_paginate_raises_on_a_repeated_token() -> None:
    tokens = {None: "t1", "t1": "t2", "t2": "t1"}
    fetched: list[str | None] = []

    async def fetch_page(token: str | None) -> dict[str, str]:
        fetched.append(token)
        if len(fetched) > 10:
            raise AssertionError("paging should have stopped at the repeated token")
        return {"next": tokens[token]}

    pages = paginate(fetch_page, lambda page: page["next"])
    with pytest.raises(SourceError, match=r"pagination token repeated: .*'t1'"):
        async for _ in pages:
            pass
    assert fetched == [None, "t1", "t2"]


async def test_paginate_follows_body_tokens_from_a_server(serve: Serve) -> None:
    pages = {"": ("p2", [1, 2]), "p2": ("p3", [3]), "p3": (None, [4, 5])}

    async def search(request: web.Request) -> web.Response:
        token, issues = pages[request.query.get("nextPageToken", "")]
        body: dict[str, Any] = {"issues": issues, "isLast": token is None}
        if token:
            body["nextPageToken"] = token
        return web.json_response(body)

    base = await serve(web.get("/rest/api/3/search/jql", search))
    async with HTTPClient(base_url=base) as http:

        async def fetch_page(token: str | None) -> dict[str, Any]:
            page: dict[str, Any] = await http.get_json(
                "/rest/api/3/search/jql", params={"jql": "order by id", "nextPageToken": token}
            )
            return page

        issues = [
            issue
            async for page in paginate(fetch_page, next_token_from("nextPageToken"))
            for issue in page["issues"]
        ]
    assert issues == [1, 2, 3, 4, 5]


async def test_offset_pages_reads_a_jira_page_bean_from_a_server(serve: Serve) -> None:
    values = list(range(7))

    async def projects(request: web.Request) -> web.Response:
        start = int(request.query["startAt"])
        size = min(int(request.query["maxResults"]), 3)  # the source caps page size silently
        chunk = values[start : start + size]
        body = {
            "startAt": start,
            "maxResults": size,
            "total": len(values),
            "isLast": start + size >= len(values),
            "values": chunk,
        }
        return web.json_response(body)

    base = await serve(web.get("/rest/api/3/project/search", projects))
    async with HTTPClient(base_url=base) as http:

        async def fetch_page(start: int) -> Response:
            params = {"startAt": start, "maxResults": 50}
            return await http.request("GET", "/rest/api/3/project/search", params=params)

        seen = [
            value
            async for page in offset_pages(fetch_page, next_offset())
            for value in page.json()["values"]
        ]
    assert seen == values


async def test_paginate_follows_link_headers_from_a_server(serve: Serve) -> None:
    async def items(request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        headers = {}
        if page < 3:
            headers["Link"] = f'<{request.url.with_query(page=page + 1)}>; rel="next"'
        return web.json_response([page], headers=headers)

    base = await serve(web.get("/items", items))
    async with HTTPClient(base_url=base) as http:

        async def fetch_page(url: str | None) -> Response:
            return await http.request("GET", url or "/items")

        seen = [item async for page in paginate(fetch_page, next_link) for item in page.json()]
    assert seen == [1, 2, 3]


async def test_a_link_header_pointing_back_is_a_loop_error(serve: Serve) -> None:
    calls = 0

    async def items(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls > 10:
            return web.json_response({"error": "paging should have stopped"}, status=400)
        page = int(request.query.get("page", "1"))
        target = request.url.with_query(page=2 if page == 1 else 1, api_key="k-SECRET")
        return web.json_response([page], headers={"Link": f'<{target}>; rel="next"'})

    base = await serve(web.get("/items", items))
    async with HTTPClient(base_url=base) as http:

        async def fetch_page(url: str | None) -> Response:
            return await http.request("GET", url or "/items")

        with pytest.raises(SourceError, match="pagination token repeated") as caught:
            async for _ in paginate(fetch_page, next_link):
                pass
    assert "k-SECRET" not in str(caught.value)
