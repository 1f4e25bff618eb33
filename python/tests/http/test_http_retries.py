"""Retries, timeouts and error classification of HTTPClient against real local servers."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import formatdate

import pytest
from aiohttp import web

from connector_kit.errors import ConfigError, SourceError, TransientError
from connector_kit.http import BearerAuth, HTTPClient, RetryPolicy, Timeouts

Serve = Callable[..., Awaitable[str]]
"""The `serve` fixture: start an app with these routes, get its base URL."""


@dataclass
class SilentServer:
    """Accepts connections and reads requests but never answers."""

    url: str
    connections: list[asyncio.StreamWriter] = field(default_factory=list)


@pytest.fixture
async def silent_server() -> AsyncIterator[SilentServer]:
    released = asyncio.Event()
    state = SilentServer(url="")

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections.append(writer)
        await released.wait()
        writer.close()

    server = await asyncio.start_server(on_connect, host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    released.set()
    server.close()
    await server.wait_closed()


@pytest.fixture
def refused_url() -> str:
    """A URL on a local port nothing listens on, so connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


FAST = RetryPolicy(max_attempts=4, base_delay_s=0.01, max_delay_s=0.05)


def fast_client(
    base_url: str,
    *,
    retry: RetryPolicy = FAST,
    auth: BearerAuth | None = None,
    secrets: frozenset[str] = frozenset(),
) -> HTTPClient:
    timeouts = Timeouts(connect_s=1, read_s=2)
    return HTTPClient(base_url=base_url, retry=retry, timeouts=timeouts, auth=auth, secrets=secrets)


async def test_retry_after_seconds_is_honoured(serve: Serve) -> None:
    arrivals: list[float] = []

    async def items(request: web.Request) -> web.Response:
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            return web.json_response({}, status=429, headers={"Retry-After": "1"})
        return web.json_response({"ok": True})

    base = await serve(web.get("/items", items))
    async with fast_client(base) as http:
        assert await http.get_json("/items") == {"ok": True}
    assert len(arrivals) == 2
    assert arrivals[1] - arrivals[0] >= 0.95


async def test_retry_after_http_date_is_honoured(serve: Serve) -> None:
    arrivals: list[float] = []

    async def items(request: web.Request) -> web.Response:
        arrivals.append(time.time())
        if len(arrivals) == 1:
            # HTTP-dates have whole seconds: "now + 2 s" truncates to more than 1 s ahead.
            retry_at = formatdate(arrivals[0] + 2, usegmt=True)
            return web.json_response({}, status=503, headers={"Retry-After": retry_at})
        return web.json_response({"ok": True})

    base = await serve(web.get("/items", items))
    async with fast_client(base) as http:
        assert await http.get_json("/items") == {"ok": True}
    assert arrivals[1] - arrivals[0] >= 0.95


async def test_rate_limit_reset_epoch_is_honoured_on_429(serve: Serve) -> None:
    arrivals: list[float] = []

    async def items(request: web.Request) -> web.Response:
        arrivals.append(time.time())
        if len(arrivals) == 1:
            reset = str(int(arrivals[0]) + 2)
            headers = {"X-RateLimit-Reset": reset, "X-RateLimit-Remaining": "0"}
            return web.json_response({}, status=429, headers=headers)
        return web.json_response({"ok": True})

    base = await serve(web.get("/items", items))
    async with fast_client(base) as http:
        assert await http.get_json("/items") == {"ok": True}
    assert arrivals[1] - arrivals[0] >= 0.95


async def test_retry_after_longer_than_the_cap_waits_only_the_cap(serve: Serve) -> None:
    arrivals: list[float] = []

    async def items(request: web.Request) -> web.Response:
        arrivals.append(time.monotonic())
        if len(arrivals) == 1:
            return web.json_response({}, status=503, headers={"Retry-After": "3600"})
        return web.json_response({"ok": True})

    base = await serve(web.get("/items", items))
    policy = RetryPolicy(max_attempts=2, base_delay_s=0.01, max_server_wait_s=0.2)
    async with fast_client(base, retry=policy) as http:
        assert await http.get_json("/items") == {"ok": True}
    assert arrivals[1] - arrivals[0] >= 0.19


async def test_retries_are_bounded_and_the_error_names_url_status_and_attempts(
    serve: Serve,
) -> None:
    calls: list[str] = []

    async def items(request: web.Request) -> web.Response:
        calls.append(request.query_string)
        return web.json_response({"status": "maintenance"}, status=503)

    base = await serve(web.get("/v2/items", items))
    async with fast_client(base) as http:
        with pytest.raises(TransientError) as caught:
            await http.get_json("/v2/items", params={"token": "tok-SECRET-42", "page": 2})
    message = str(caught.value)
    assert len(calls) == FAST.max_attempts
    assert "GET http://127.0.0.1:" in message
    assert "/v2/items" in message
    assert "page=2" in message
    assert "503" in message
    assert f"after {FAST.max_attempts} attempts" in message
    assert "tok-SECRET-42" not in message


async def test_each_retry_is_logged_with_redacted_fields(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0

    async def items(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({}, status=502 if calls < 3 else 200)

    base = await serve(web.get("/items", items))
    caplog.set_level(logging.WARNING, logger="connector_kit.http")
    async with fast_client(base, auth=BearerAuth(token="bearer-SECRET")) as http:
        await http.get_json("/items", params={"api_key": "key-SECRET"})
    retries = [record for record in caplog.records if record.name.startswith("connector_kit.http")]
    assert [record.__dict__["fields"]["attempt"] for record in retries] == [1, 2]
    for record in retries:
        fields = record.__dict__["fields"]
        assert record.levelno == logging.WARNING
        assert {"method", "url", "status", "attempt", "delay_s"} <= fields.keys()
        assert fields["status"] == 502
        assert fields["method"] == "GET"
        assert "key-SECRET" not in fields["url"]
        assert "SECRET" not in record.getMessage()


async def test_a_server_that_never_answers_hits_the_read_timeout_and_fails_clearly(
    silent_server: SilentServer,
) -> None:
    policy = RetryPolicy(max_attempts=2, base_delay_s=0.01)
    timeouts = Timeouts(connect_s=1, read_s=0.2, total_s=5)
    async with HTTPClient(retry=policy, timeouts=timeouts) as http:
        with pytest.raises(TransientError) as caught:
            await http.get_json(f"{silent_server.url}/stuck")
    message = str(caught.value)
    assert len(silent_server.connections) == 2
    assert "/stuck" in message
    assert "timed out" in message
    assert "after 2 attempts" in message
    assert "read 0.2 s" in message


async def test_connection_refused_is_retried_then_fails_clearly(refused_url: str) -> None:
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.01)
    async with HTTPClient(retry=policy) as http:
        with pytest.raises(TransientError) as caught:
            await http.get_json(f"{refused_url}/items")
    message = str(caught.value)
    assert "could not connect" in message
    assert "after 3 attempts" in message
    assert f"{refused_url}/items" in message


async def test_401_is_a_config_error_that_says_to_check_the_credentials(serve: Serve) -> None:
    calls = 0

    async def myself(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({"errorMessages": ["Client must be authenticated"]}, status=401)

    base = await serve(web.get("/rest/api/3/myself", myself))
    async with fast_client(base, auth=BearerAuth(token="wrong-token-123")) as http:
        with pytest.raises(ConfigError) as caught:
            await http.get_json("/rest/api/3/myself")
    message = str(caught.value)
    assert calls == 1
    assert "credentials were rejected (401" in message
    assert "check the API token" in message
    assert "/rest/api/3/myself" in message
    assert "wrong-token-123" not in message


async def test_403_is_a_config_error_naming_the_url(serve: Serve) -> None:
    async def project(request: web.Request) -> web.Response:
        return web.json_response({"errorMessages": ["No permission"]}, status=403)

    base = await serve(web.get("/rest/api/3/project/SECRETPROJ", project))
    async with fast_client(base) as http:
        with pytest.raises(ConfigError) as caught:
            await http.get_json("/rest/api/3/project/SECRETPROJ")
    message = str(caught.value)
    assert "lack permission" in message
    assert f"{base}/rest/api/3/project/SECRETPROJ" in message


async def test_403_rate_limit_exceeded_from_google_apis_is_retried(serve: Serve) -> None:
    calls = 0

    async def tables(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            error = {"code": 403, "errors": [{"reason": "rateLimitExceeded", "message": "slow"}]}
            return web.json_response({"error": error}, status=403)
        return web.json_response({"tables": []})

    base = await serve(web.get("/bigquery/v2/projects/p/datasets/d/tables", tables))
    async with fast_client(base) as http:
        assert await http.get_json("/bigquery/v2/projects/p/datasets/d/tables") == {"tables": []}
    assert calls == 2


async def test_other_4xx_is_a_source_error_with_a_truncated_redacted_body(serve: Serve) -> None:
    calls = 0
    secret = "pw-SECRET-99"

    async def search(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        body = {"errorMessages": [f"bad jql near {secret} " + "x" * 3000]}
        return web.json_response(body, status=400)

    base = await serve(web.get("/search/jql", search))
    async with fast_client(base, secrets=frozenset({secret})) as http:
        with pytest.raises(SourceError) as caught:
            await http.get_json("/search/jql", params={"jql": "project = X"})
    message = str(caught.value)
    assert not isinstance(caught.value, TransientError)
    assert calls == 1
    assert "400" in message
    assert "/search/jql" in message
    assert "bad jql near ***" in message
    assert secret not in message
    snippet = message.split("the source said: ", 1)[1]
    assert len(snippet) <= 500


async def test_404_with_allow_statuses_comes_back_as_a_response(serve: Serve) -> None:
    async def issue(request: web.Request) -> web.Response:
        return web.json_response({"errorMessages": ["Issue does not exist"]}, status=404)

    base = await serve(web.get("/issue/ABC-1/worklog", issue))
    async with fast_client(base) as http:
        response = await http.request("GET", "/issue/ABC-1/worklog", allow_statuses={404})
        assert response.status == 404
        assert response.json() == {"errorMessages": ["Issue does not exist"]}
        with pytest.raises(SourceError, match="404"):
            await http.request("GET", "/issue/ABC-1/worklog")


async def test_should_retry_hook_overrides_the_table(serve: Serve) -> None:
    calls: dict[str, int] = {"conflict": 0, "unavailable": 0}

    async def conflict(request: web.Request) -> web.Response:
        calls["conflict"] += 1
        return web.json_response({}, status=409 if calls["conflict"] == 1 else 200)

    async def unavailable(request: web.Request) -> web.Response:
        calls["unavailable"] += 1
        return web.json_response({}, status=503)

    def retry_conflicts_never_503(response: object, exception: BaseException | None) -> bool | None:
        status = getattr(response, "status", None)
        return {409: True, 503: False}.get(status) if isinstance(status, int) else None

    base = await serve(web.get("/conflict", conflict), web.get("/unavailable", unavailable))
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.01, should_retry=retry_conflicts_never_503)
    async with fast_client(base, retry=policy) as http:
        assert await http.get_json("/conflict") == {}
        with pytest.raises(SourceError) as caught:
            await http.get_json("/unavailable")
    assert calls == {"conflict": 2, "unavailable": 1}
    assert not isinstance(caught.value, TransientError)


async def test_quota_reset_in_the_past_still_retries(serve: Serve) -> None:
    arrivals: list[float] = []

    async def items(request: web.Request) -> web.Response:
        arrivals.append(time.time())
        past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": past}
        return web.json_response({}, status=429 if len(arrivals) == 1 else 200, headers=headers)

    base = await serve(web.get("/items", items))
    async with fast_client(base) as http:
        assert await http.get_json("/items") == {}
    assert len(arrivals) == 2
