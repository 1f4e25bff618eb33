"""Request building and response parsing of HTTPClient against a real local server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pydantic
import pytest
from aiohttp import web

from connector_kit.errors import SourceError
from connector_kit.http import HTTPClient, Response

Serve = Callable[..., Awaitable[str]]
"""The `serve` fixture: start an app with these routes, get its base URL."""


class Issue(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")

    id: str
    key: str


class SearchPage(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")

    issues: list[Issue]
    next_page_token: str | None = pydantic.Field(default=None, alias="nextPageToken")


async def echo_query(request: web.Request) -> web.Response:
    return web.json_response([[name, value] for name, value in request.query.items()])


async def test_get_model_parses_the_body_and_keeps_extra_fields(serve: Serve) -> None:
    async def search(request: web.Request) -> web.Response:
        body = {"issues": [{"id": "10", "key": "A-1", "fields": {}}], "nextPageToken": "n"}
        return web.json_response(body)

    base = await serve(web.get("/search/jql", search))
    async with HTTPClient(base_url=base) as http:
        page = await http.get_model(SearchPage, "/search/jql")
    assert page.next_page_token == "n"
    assert page.issues[0].key == "A-1"
    assert page.issues[0].model_extra == {"fields": {}}


async def test_get_model_validation_failure_names_the_url_and_first_error(serve: Serve) -> None:
    async def search(request: web.Request) -> web.Response:
        return web.json_response({"issues": [{"id": "10"}, {"key": "A-2"}]})

    base = await serve(web.get("/search/jql", search))
    async with HTTPClient(base_url=base) as http:
        with pytest.raises(SourceError) as caught:
            await http.get_model(SearchPage, "/search/jql", params={"token": "t-SECRET"})
    message = str(caught.value)
    assert f"GET {base}/search/jql?token=***" in message
    assert "does not match SearchPage" in message
    assert "issues.0.key: Field required" in message
    assert "(and 1 more)" in message
    assert "t-SECRET" not in message


async def test_a_body_that_is_not_json_is_a_source_error(serve: Serve) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    base = await serve(web.get("/page", page))
    async with HTTPClient(base_url=base) as http:
        with pytest.raises(SourceError, match=r"not JSON \(text/html.*<html>maintenance"):
            await http.get_json("/page")


async def test_params_drop_none_repeat_lists_and_spell_booleans(serve: Serve) -> None:
    base = await serve(web.get("/q", echo_query))
    params = {"a": "x y", "skip": None, "flag": True, "whereValues[]": ["1", "2"], "n": 5}
    async with HTTPClient(base_url=base) as http:
        seen = await http.get_json("/q", params=params)
    assert seen == [
        ["a", "x y"],
        ["flag", "true"],
        ["whereValues[]", "1"],
        ["whereValues[]", "2"],
        ["n", "5"],
    ]


async def test_post_json_sends_a_json_body(serve: Serve) -> None:
    async def query(request: web.Request) -> web.Response:
        return web.json_response(
            {"content_type": request.content_type, "body": await request.json()}
        )

    base = await serve(web.post("/queries", query))
    async with HTTPClient(base_url=base) as http:
        seen = await http.post_json("/queries", json={"query": "SELECT 1", "useLegacySql": False})
    assert seen == {
        "content_type": "application/json",
        "body": {"query": "SELECT 1", "useLegacySql": False},
    }


async def test_relative_urls_join_the_base_url_and_absolute_ones_stand(serve: Serve) -> None:
    async def where(request: web.Request) -> web.Response:
        return web.json_response(request.path)

    base = await serve(web.get("/{tail:.*}", where))
    async with HTTPClient(base_url=f"{base}/rest/api/3/") as http:
        assert await http.get_json("search/jql") == "/rest/api/3/search/jql"
        assert await http.get_json("/myself") == "/rest/api/3/myself"
        assert await http.get_json(f"{base}/other") == "/other"


async def test_response_url_is_redacted(serve: Serve) -> None:
    base = await serve(web.get("/q", echo_query))
    async with HTTPClient(base_url=base) as http:
        response = await http.request("GET", "/q", params={"secret": "s-1", "x": "1"})
    assert isinstance(response, Response)
    assert response.url == f"{base}/q?secret=***&x=1"


async def test_a_client_used_outside_async_with_says_how_to_open_it() -> None:
    http = HTTPClient(base_url="http://127.0.0.1:9")
    with pytest.raises(RuntimeError, match="async with"):
        await http.get_json("/x")
