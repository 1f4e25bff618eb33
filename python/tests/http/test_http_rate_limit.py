"""Per-host pacing and quota pauses, observed by the server.

Client and server share one event loop, so a server timestamp can lag the moment the
client sent the request by a few milliseconds; the bounds below leave room for that.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web

from connector_kit.http import HTTPClient, RateLimit, RetryPolicy

Serve = Callable[..., Awaitable[str]]
"""The `serve` fixture: start an app with these routes, get its base URL."""


def gaps(arrivals: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(arrivals)]


async def test_requests_to_one_host_are_spaced_by_the_rate_limit(serve: Serve) -> None:
    arrivals: list[float] = []

    async def items(request: web.Request) -> web.Response:
        arrivals.append(time.monotonic())
        return web.json_response({})

    base = await serve(web.get("/items", items))
    async with HTTPClient(base_url=base, rate_limit=RateLimit(requests_per_second=10)) as http:
        await asyncio.gather(*(http.get_json("/items") for _ in range(5)))
    assert len(arrivals) == 5
    # Four intervals of 0.1 s each.
    assert arrivals[-1] - arrivals[0] >= 0.3
    assert all(gap >= 0.03 for gap in gaps(arrivals)), gaps(arrivals)


async def test_a_burst_is_allowed_before_the_rate_applies(serve: Serve) -> None:
    arrivals: list[float] = []

    async def items(request: web.Request) -> web.Response:
        arrivals.append(time.monotonic())
        return web.json_response({})

    base = await serve(web.get("/items", items))
    limit = RateLimit(requests_per_second=5, burst=3)
    async with HTTPClient(base_url=base, rate_limit=limit) as http:
        await asyncio.gather(*(http.get_json("/items") for _ in range(4)))
    # Three tokens at the start; the fourth request waits for one to refill (0.2 s).
    assert arrivals[3] - arrivals[0] >= 0.15


async def test_rate_limits_are_per_host(serve: Serve) -> None:
    arrivals: dict[str, list[float]] = {"a": [], "b": []}

    def recorder(name: str) -> web.RouteDef:
        async def items(request: web.Request) -> web.Response:
            arrivals[name].append(time.monotonic())
            return web.json_response({})

        return web.get("/items", items)

    base_a = await serve(recorder("a"))
    base_b = await serve(recorder("b"))
    async with HTTPClient(rate_limit=RateLimit(requests_per_second=5)) as http:
        await asyncio.gather(*(http.get_json(f"{base}/items") for base in (base_a, base_b) * 2))
    # Both hosts start with a full bucket; each paces its own second request.
    assert len(arrivals["a"]) == len(arrivals["b"]) == 2
    assert arrivals["a"][1] - arrivals["a"][0] >= 0.15
    assert arrivals["b"][1] - arrivals["b"][0] >= 0.15


async def test_an_exhausted_quota_pauses_the_host_until_reset(serve: Serve) -> None:
    arrivals: list[float] = []

    async def items(request: web.Request) -> web.Response:
        arrivals.append(time.time())
        headers = {}
        if len(arrivals) == 1:
            reset = datetime.fromtimestamp(arrivals[0], UTC) + timedelta(seconds=1)
            headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset.isoformat()}
        return web.json_response({}, headers=headers)

    base = await serve(web.get("/items", items))
    async with HTTPClient(base_url=base, retry=RetryPolicy(base_delay_s=0.01)) as http:
        await http.get_json("/items")
        await http.get_json("/items")
    assert arrivals[1] - arrivals[0] >= 0.95
