"""Reading ahead: the next page is on its way while the current one is processed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from connector_kit.http import read_ahead


async def test_items_arrive_in_order_and_the_next_is_fetched_during_the_callers_work() -> None:
    started: list[int] = []
    closed = asyncio.Event()

    async def pages() -> AsyncIterator[int]:
        try:
            for n in range(4):
                started.append(n)
                await asyncio.sleep(0)
                yield n
        finally:
            closed.set()

    seen = []
    async for page in read_ahead(pages()):
        await asyncio.sleep(0.01)  # the caller's work on `page`
        assert started[-1] == min(page + 1, 3)  # ...overlaps fetching the next one
        seen.append(page)
    assert seen == [0, 1, 2, 3]
    assert closed.is_set()


async def test_stopping_early_cancels_the_fetch_in_flight_and_closes_the_source() -> None:
    cancelled = asyncio.Event()

    async def pages() -> AsyncIterator[int]:
        yield 0
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        yield 1

    reader = read_ahead(pages())
    assert await anext(reader) == 0
    await asyncio.sleep(0.01)
    await reader.aclose()
    assert cancelled.is_set()
