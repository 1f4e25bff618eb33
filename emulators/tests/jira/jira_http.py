"""A thin HTTP client for talking to the emulator in tests."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class JiraHttp:
    def __init__(self, session: aiohttp.ClientSession, *, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    async def get(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        url = self.base_url + path
        async with self.session.get(url, params=params, headers=headers) as response:
            return Reply(response.status, dict(response.headers), await response.text())

    async def post(
        self, path: str, *, body: Any, headers: Mapping[str, str] | None = None
    ) -> Reply:
        url = self.base_url + path
        async with self.session.post(url, json=body, headers=headers) as response:
            return Reply(response.status, dict(response.headers), await response.text())


def basic_auth(email: str, token: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{email}:{token}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}
