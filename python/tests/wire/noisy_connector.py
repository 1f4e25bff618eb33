"""A capture whose code writes to stdout every way it can, and emits slowly.

Run as a script by the tests: `python noisy_connector.py`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, Field

from connector_kit.capture import CaptureConnector, Incremental, Resource
from connector_kit.http import HTTPClient


class Config(BaseModel):
    password: str = Field(json_schema_extra={"secret": True})
    fail: bool = False


async def ticks(cursor: int, *, fail: bool, password: str) -> AsyncIterator[Any]:
    print("print() from a fetch function")
    sys.__stdout__.write("sys.__stdout__ from a fetch function\n")
    sys.__stdout__.flush()
    os.write(1, b"os.write(1) from a fetch function\n")
    for n in range(cursor + 1, cursor + 1000):
        if fail and n == cursor + 3:
            raise RuntimeError(f"upstream rejected password {password}")
        yield {"id": n}
        yield n
        await asyncio.sleep(0.01)


async def resources(config: Config, http: HTTPClient) -> list[Resource]:
    return [
        Resource(
            name="ticks",
            key=["/id"],
            document={"type": "object"},
            incremental=Incremental(
                fetch=lambda c: ticks(c, fail=config.fail, password=config.password), start=0
            ),
        )
    ]


CaptureConnector(endpoint_config=Config, resources=resources).main()
