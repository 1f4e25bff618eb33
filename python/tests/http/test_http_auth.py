"""Credentials as the server sees them, and OAuth2 refresh behaviour."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from connector_kit.errors import ConfigError
from connector_kit.http import (
    BasicAuth,
    BearerAuth,
    HeaderTokenAuth,
    HTTPClient,
    OAuth2RefreshAuth,
    RetryPolicy,
)

Serve = Callable[..., Awaitable[str]]
"""The `serve` fixture: start an app with these routes, get its base URL."""


FAST = RetryPolicy(max_attempts=3, base_delay_s=0.01)


async def echo_headers(request: web.Request) -> web.Response:
    return web.json_response(dict(request.headers))


async def test_basic_auth_header_as_seen_by_the_server(serve: Serve) -> None:
    base = await serve(web.get("/myself", echo_headers))
    auth = BasicAuth(username="ana@example.com", password="api-token-1")
    async with HTTPClient(base_url=base, auth=auth) as http:
        seen = await http.get_json("/myself")
    scheme, _, credential = seen["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credential).decode() == "ana@example.com:api-token-1"
    assert "api-token-1" not in repr(auth)


async def test_bearer_and_header_token_auth_as_seen_by_the_server(serve: Serve) -> None:
    base = await serve(web.get("/whoami", echo_headers))
    async with HTTPClient(base_url=base, auth=BearerAuth(token="tok-1")) as http:
        assert (await http.get_json("/whoami"))["Authorization"] == "Bearer tok-1"
    keboola = HeaderTokenAuth(header="X-StorageApi-Token", token="kbc-1")
    async with HTTPClient(base_url=base, auth=keboola, user_agent="test-agent/1") as http:
        seen = await http.get_json("/whoami")
    assert seen["X-StorageApi-Token"] == "kbc-1"
    assert seen["User-Agent"] == "test-agent/1"
    assert "Authorization" not in seen


@dataclass
class OAuthServer:
    """A token endpoint that issues a1, a2, … and rotates refresh tokens r0 → r1 → r2 …"""

    expires_in: int = 3600
    token_delay_s: float = 0.0
    refused_with: str | None = None
    refresh_requests: list[dict[str, str]] = field(default_factory=list)
    api_tokens_seen: list[str] = field(default_factory=list)
    rejected_tokens: set[str] = field(default_factory=set)

    async def token(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            form = await request.json()
        else:
            form = dict(await request.post())
        self.refresh_requests.append(form)
        await asyncio.sleep(self.token_delay_s)
        if self.refused_with:
            refusal = {
                "error": self.refused_with,
                "error_description": f"bad {form['refresh_token']}",
            }
            return web.json_response(refusal, status=400)
        issued = len(self.refresh_requests)
        body: dict[str, Any] = {
            "access_token": f"a{issued}",
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": f"r{issued}",
        }
        return web.json_response(body)

    async def api(self, request: web.Request) -> web.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        self.api_tokens_seen.append(token)
        if token in self.rejected_tokens:
            return web.json_response({"message": "expired"}, status=401)
        return web.json_response({"token": token})

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/oauth/token", self.token), web.get("/api/items", self.api)]


def oauth(base: str, **options: Any) -> OAuth2RefreshAuth:
    return OAuth2RefreshAuth(
        token_url=f"{base}/oauth/token",
        client_id="client-1",
        client_secret="client-secret-1",
        refresh_token="r0",
        **options,
    )


async def test_oauth_refreshes_on_first_use_only(serve: Serve) -> None:
    server = OAuthServer()
    base = await serve(*server.routes())
    auth = oauth(base, scopes=["read:jira-work", "offline_access"])
    async with HTTPClient(base_url=base, auth=auth, retry=FAST) as http:
        await http.get_json("/api/items")
        await http.get_json("/api/items")
    assert server.api_tokens_seen == ["a1", "a1"]
    assert server.refresh_requests == [
        {
            "grant_type": "refresh_token",
            "refresh_token": "r0",
            "client_id": "client-1",
            "client_secret": "client-secret-1",
            "scope": "read:jira-work offline_access",
        }
    ]


async def test_oauth_json_token_request_body(serve: Serve) -> None:
    server = OAuthServer()
    base = await serve(*server.routes())
    async with HTTPClient(base_url=base, auth=oauth(base, body_format="json")) as http:
        await http.get_json("/api/items")
    assert server.refresh_requests[0]["grant_type"] == "refresh_token"


async def test_oauth_refreshes_once_after_401_and_keeps_the_rotated_refresh_token(
    serve: Serve,
) -> None:

    server = OAuthServer(rejected_tokens={"a1"})
    base = await serve(*server.routes())
    rotated: list[str] = []
    auth = oauth(base, on_refresh_token_rotated=rotated.append)
    async with HTTPClient(base_url=base, auth=auth, retry=FAST) as http:
        assert await http.get_json("/api/items") == {"token": "a2"}
    assert server.api_tokens_seen == ["a1", "a2"]
    assert [form["refresh_token"] for form in server.refresh_requests] == ["r0", "r1"]
    assert auth.refresh_token == "r2"
    assert rotated == ["r1", "r2"]


async def test_oauth_gives_up_after_one_refresh_when_401_persists(serve: Serve) -> None:
    server = OAuthServer(rejected_tokens={"a1", "a2", "a3"})
    base = await serve(*server.routes())
    async with HTTPClient(base_url=base, auth=oauth(base), retry=FAST) as http:
        with pytest.raises(ConfigError, match=r"credentials were rejected \(401"):
            await http.get_json("/api/items")
    assert server.api_tokens_seen == ["a1", "a2"]
    assert len(server.refresh_requests) == 2


async def test_concurrent_first_requests_refresh_once(serve: Serve) -> None:
    server = OAuthServer(token_delay_s=0.05)
    base = await serve(*server.routes())
    async with HTTPClient(base_url=base, auth=oauth(base)) as http:
        await asyncio.gather(*(http.get_json("/api/items") for _ in range(5)))
    assert len(server.refresh_requests) == 1
    assert server.api_tokens_seen == ["a1"] * 5


async def test_concurrent_401s_refresh_once(serve: Serve) -> None:
    server = OAuthServer()
    all_rejected = asyncio.Event()
    rejected_count = 0

    async def api(request: web.Request) -> web.Response:
        nonlocal rejected_count
        token = request.headers["Authorization"].removeprefix("Bearer ")
        server.api_tokens_seen.append(token)
        if token == "a1":
            # Hold every request with the stale token until all five carry it.
            rejected_count += 1
            if rejected_count == 5:
                all_rejected.set()
            await asyncio.wait_for(all_rejected.wait(), timeout=5)
            return web.json_response({}, status=401)
        return web.json_response({"token": token})

    base = await serve(web.post("/oauth/token", server.token), web.get("/api/items", api))
    async with HTTPClient(base_url=base, auth=oauth(base)) as http:
        results = await asyncio.gather(*(http.get_json("/api/items") for _ in range(5)))
    assert results == [{"token": "a2"}] * 5
    assert len(server.refresh_requests) == 2


async def test_oauth_refreshes_when_the_access_token_expires(serve: Serve) -> None:
    server = OAuthServer(expires_in=3600)
    base = await serve(*server.routes())
    now = [1000.0]
    auth = oauth(base, clock=lambda: now[0])
    async with HTTPClient(base_url=base, auth=auth) as http:
        await http.get_json("/api/items")
        now[0] += 3000
        await http.get_json("/api/items")
        now[0] += 600
        await http.get_json("/api/items")
    # Refreshed ahead of expiry (60 s margin), not only after a 401.
    assert server.api_tokens_seen == ["a1", "a1", "a2"]


async def test_a_revoked_refresh_token_is_a_config_error_without_secrets(serve: Serve) -> None:
    server = OAuthServer(refused_with="invalid_grant")
    base = await serve(*server.routes())
    async with HTTPClient(base_url=base, auth=oauth(base)) as http:
        with pytest.raises(ConfigError) as caught:
            await http.get_json("/api/items")
    message = str(caught.value)
    assert "refused the refresh token" in message
    assert "authorize the connector again" in message
    assert "/oauth/token" in message
    assert "bad ***" in message
    assert "r0" not in message
    assert "client-secret-1" not in message


async def test_a_rejected_oauth_client_says_to_check_client_id_and_secret(serve: Serve) -> None:
    server = OAuthServer(refused_with="invalid_client")
    base = await serve(*server.routes())
    async with HTTPClient(base_url=base, auth=oauth(base)) as http:
        with pytest.raises(ConfigError, match="check the client id and client secret"):
            await http.get_json("/api/items")


def test_oauth_secrets_include_every_token_it_has_seen() -> None:
    auth = OAuth2RefreshAuth(
        token_url="https://auth.example.com/oauth/token",
        client_id="c",
        client_secret="s3cret",
        refresh_token="r0",
    )
    assert auth.secrets() == {"s3cret", "r0"}
    assert "s3cret" not in repr(auth)
