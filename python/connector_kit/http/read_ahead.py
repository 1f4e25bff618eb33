"""Reading the next page while the current one is processed.

Token paging is sequential: page k+1 can only be asked for once page k has arrived.
But the caller's work on page k (parsing, emitting documents) need not wait for it:
`read_ahead` starts fetching the next item as soon as it hands one over, so the
source's time to answer and ours to process overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

T = TypeVar("T")


async def read_ahead(source: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """The items of `source`, each next one already being fetched while the caller works."""
    pending: asyncio.Future[T] = asyncio.ensure_future(anext(source))
    try:
        while True:
            try:
                item = await pending
            except StopAsyncIteration:
                return
            pending = asyncio.ensure_future(anext(source))
            yield item
    finally:
        if not pending.done():
            pending.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await pending
        close = getattr(source, "aclose", None)  # an async generator: let it clean up
        if close is not None:
            await close()
