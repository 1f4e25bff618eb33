"""Captures notes from the Notes API incrementally: the worked example of connector-kit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from connector_kit.capture import CaptureConnector, Incremental, Resource
from connector_kit.http import BearerAuth, HTTPClient, next_token_from, paginate


class EndpointConfig(BaseModel):
    base_url: str = Field(
        description="Base URL of the Notes API.", examples=["http://127.0.0.1:8765"]
    )
    api_token: str = Field(description="API token.", json_schema_extra={"secret": True})
    start_date: AwareDatetime = Field(
        default=datetime(2020, 1, 1, tzinfo=UTC),
        description="Capture notes updated after this time.",
    )


class Note(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    title: str
    updated_at: AwareDatetime


async def fetch_notes(http: HTTPClient, *, since: datetime) -> AsyncIterator[Note | datetime]:
    """Notes updated after `since`, oldest first, then the newest update time seen."""

    async def page(token: str | None) -> Any:
        params: dict[str, str | int] = {"updated_after": since.isoformat(), "limit": 100}
        if token is not None:
            params["page_token"] = token
        return await http.get_json("/v1/notes", params=params)

    newest = since
    async for body in paginate(page, next_token_from("next_page_token")):
        for raw in body["notes"]:
            note = Note.model_validate(raw)
            newest = max(newest, note.updated_at)
            yield note
    if newest > since:
        yield newest


async def resources(config: EndpointConfig, http: HTTPClient) -> list[Resource]:
    return [
        Resource(
            name="notes",
            key=["/id"],
            document=Note,
            incremental=Incremental(
                fetch=lambda since: fetch_notes(http, since=since), start=config.start_date
            ),
        )
    ]


connector = CaptureConnector(
    endpoint_config=EndpointConfig,
    resources=resources,
    http_client=lambda config: HTTPClient(
        base_url=config.base_url, auth=BearerAuth(token=config.api_token)
    ),
    documentation_url="https://example.com/notes-api",
)
