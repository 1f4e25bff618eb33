"""A capture with one flaw chosen by $FLAW, for proving that the contract suite catches it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, Field

from connector_kit.capture import CaptureConnector, Incremental, Resource
from connector_kit.http import HTTPClient

FLAW = os.environ.get("FLAW", "")


class Config(BaseModel):
    token: str = Field(json_schema_extra={"secret": True})


async def fetch(cursor: int, *, token: str) -> AsyncIterator[Any]:
    start = 0 if FLAW == "reemit" else cursor
    for n in range(start + 1, 6):
        if FLAW == "bad-doc":
            yield {"id": str(n)}
        else:
            yield {"id": n, "name": token if FLAW == "leak" else f"row {n}"}
    if start < 5:
        yield max(5, cursor + 1)


async def resources(config: Config, http: HTTPClient) -> list[Resource]:
    return [
        Resource(
            name="rows",
            key=["/nope"] if FLAW == "bad-key" else ["/id"],
            document={
                "type": "object",
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                "required": ["id"],
            },
            incremental=Incremental(fetch=lambda c: fetch(c, token=config.token), start=0),
        )
    ]


CaptureConnector(endpoint_config=Config, resources=resources).main()
