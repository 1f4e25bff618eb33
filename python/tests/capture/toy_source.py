"""A small in-memory source exercising every fetch contract of the framework."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from connector_kit.capture import (
    ROW_ID_KEY,
    Backfill,
    CaptureConnector,
    Incremental,
    Resource,
    Snapshot,
    SourcedSchema,
)
from connector_kit.http import HTTPClient


class ToyConfig(BaseModel):
    api_token: str = Field(description="Token.", json_schema_extra={"secret": True})
    page_size: int = Field(default=3, ge=1, description="Items per page.")


class Item(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int
    v: int


@dataclass
class ToyData:
    """What the toy source holds; tests change it between sessions."""

    events: list[dict[str, Any]] = field(default_factory=list)  # {"id", "v"}; cursor = v
    history: list[dict[str, Any]] = field(default_factory=list)  # backfilled by id watermark
    table: list[dict[str, Any]] = field(default_factory=list)  # snapshotted
    fail_after: int | None = None
    go_backwards: bool = False
    acknowledged: list[Any] = field(default_factory=list)
    yield_models: bool = False


def toy_connector(data: ToyData) -> CaptureConnector[ToyConfig]:
    async def fetch_events(cursor: int) -> AsyncIterator[Any]:
        newer = [e for e in data.events if e["v"] > cursor]
        yield SourcedSchema({"type": "object", "properties": {"id": {"type": "integer"}}})
        for n, event in enumerate(sorted(newer, key=lambda e: e["v"])):
            if data.fail_after is not None and n >= data.fail_after:
                raise RuntimeError("the source fell over")
            yield Item.model_validate(event) if data.yield_models else event
            yield event["v"] - (10 if data.go_backwards else 0)

    async def backfill_history(page: int | None, cutoff: int | None) -> AsyncIterator[Any]:
        after = page or 0
        rows = sorted((r for r in data.history if r["id"] > after), key=lambda r: r["id"])
        for start in range(0, len(rows), 3):
            chunk = rows[start : start + 3]
            for row in chunk:
                yield row
            yield chunk[-1]["id"]

    async def snapshot_table() -> AsyncIterator[Any]:
        for row in data.table:
            yield row

    async def acknowledged(position: Any) -> None:
        data.acknowledged.append(position)

    async def resources(config: ToyConfig, http: HTTPClient) -> list[Resource]:
        return [
            Resource(
                name="events",
                key=["/id"],
                document=Item,
                incremental=Incremental(fetch=fetch_events, start=0),
                interval=timedelta(seconds=60),
                acknowledged=acknowledged,
            ),
            Resource(
                name="history",
                key=["/id"],
                document={"type": "object", "properties": {"id": {"type": "integer"}}},
                backfill=Backfill(fetch=backfill_history),
            ),
            Resource(
                name="table",
                key=[ROW_ID_KEY],
                document={"type": "object", "required": ["name"]},
                snapshot=Snapshot(fetch=snapshot_table),
                disable=True,
            ),
        ]

    return CaptureConnector(
        endpoint_config=ToyConfig,
        resources=resources,
        documentation_url="https://example.com/toy",
    )
