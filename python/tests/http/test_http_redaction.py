"""Secrets never reach a URL, a message or a log record produced by the HTTP client."""

from __future__ import annotations

import asyncio
import logging
import string
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from connector_kit.errors import ConnectorError
from connector_kit.http import BearerAuth, HTTPClient, Redactor, RetryPolicy

Serve = Callable[..., Awaitable[str]]
"""The `serve` fixture: start an app with these routes, get its base URL."""


def test_sensitive_query_parameters_are_removed_from_urls() -> None:
    redactor = Redactor()
    url = (
        "https://x.example.com/v2/files?id=7&access_token=AT&api_key=AK&storageApiToken=ST"
        "&X-Amz-Signature=SIG&client_secret=CS&pageToken=keep-me&password=PW"
    )
    cleaned = redactor.url(url)
    for secret in ("AT", "AK", "ST", "SIG", "CS", "PW"):
        assert f"={secret}" not in cleaned
    assert "id=7" in cleaned
    assert "pageToken=keep-me" in cleaned
    assert cleaned.startswith("https://x.example.com/v2/files?")


def test_url_passwords_are_removed() -> None:
    cleaned = Redactor().url("https://ana:hunter2@jira.example.com/rest")
    assert cleaned == "https://ana:***@jira.example.com/rest"


def test_known_secrets_are_removed_in_raw_and_encoded_forms() -> None:
    secret = "a b+c/d&e"
    redactor = Redactor(secrets=[secret])
    encoded = str(URL("https://h/p").with_query(q=secret))
    assert secret not in redactor.text(f"token {secret} here")
    assert "a+b%2Bc/d%26e" not in redactor.url(encoded)
    assert "a%20b%2Bc%2Fd%26e" not in redactor.text("a%20b%2Bc%2Fd%26e")


def test_credentials_and_token_fields_in_bodies_are_removed() -> None:
    redactor = Redactor()
    text = redactor.text(
        '{"access_token": "eyJhbGci", "refresh_token":"rt-1", '
        '"note": "Authorization: Bearer x.y.z"}'
    )
    assert "eyJhbGci" not in text
    assert "rt-1" not in text
    assert "x.y.z" not in text
    assert '"note"' in text


def test_prose_about_authentication_is_left_alone() -> None:
    prose = "Basic authentication is disabled; use a Bearer token from your profile"
    assert Redactor().text(prose) == prose


def test_secrets_from_a_source_are_read_on_every_call() -> None:
    current = ["first"]
    redactor = Redactor(sources=[lambda: current])
    current.append("second-token")
    assert redactor.text("second-token and first") == "*** and ***"


def test_snippet_is_one_line_and_truncated() -> None:
    snippet = Redactor(secrets=["s3cr3t"]).snippet(b"s3cr3t\n\n" + b"y" * 1000, limit=500)
    assert snippet.startswith("*** yyy")
    assert len(snippet) == 500
    assert "\n" not in snippet


SECRET_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="*"),
    min_size=6,
    max_size=40,
)


@given(secret=SECRET_TEXT, before=st.text(max_size=30), after=st.text(max_size=30))
def test_a_known_secret_never_survives_text_redaction(secret: str, before: str, after: str) -> None:
    assert secret not in Redactor(secrets=[secret]).text(before + secret + after)


@given(secret=SECRET_TEXT)
def test_a_known_secret_never_survives_in_a_url(secret: str) -> None:
    url = URL("https://api.example.com/items").with_query(q=secret, cursor="c")
    url = url.with_path(f"/items/{secret}")
    cleaned = Redactor(secrets=[secret]).url(url)
    assert secret not in cleaned
    assert str(URL.build(path="/" + secret)).removeprefix("/") not in cleaned


# Header values must stay printable ASCII; the rest is deliberately URL-hostile.
HEADER_SAFE_SECRET = st.text(
    alphabet=string.ascii_letters + string.digits + "-._~+/=!@#$%^&()[]{}|:;,<>?'",
    min_size=8,
    max_size=40,
)


async def _fail_with_echoed_secrets(secret: str, records: list[logging.LogRecord]) -> str:
    async def echo(request: web.Request) -> web.Response:
        body = {
            "error": "boom",
            "authorization": request.headers.get("Authorization"),
            "query": request.query_string,
            "path": request.path,
        }
        return web.json_response(body, status=500)

    app = web.Application()
    app.add_routes([web.get("/{tail:.*}", echo)])
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    handler = _ListHandler(records)
    logger = logging.getLogger("connector_kit.http")
    logger.addHandler(handler)
    previous_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        policy = RetryPolicy(max_attempts=2, base_delay_s=0.001)
        base = str(server.make_url("")).rstrip("/")
        async with HTTPClient(base_url=base, auth=BearerAuth(token=secret), retry=policy) as http:
            await http.get_json("/items", params={"api_key": secret, "page": 1})
    except ConnectorError as exc:
        return str(exc)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
        await server.close()
    raise AssertionError("the request should have failed")


class _ListHandler(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__()
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@settings(max_examples=25, deadline=None)
@given(secret=HEADER_SAFE_SECRET)
def test_secrets_never_appear_in_errors_or_log_records(secret: str) -> None:
    records: list[logging.LogRecord] = []
    message = asyncio.run(_fail_with_echoed_secrets(secret, records))
    assert "500" in message
    assert secret not in message
    assert records, "each retry should be logged"
    for record in records:
        assert secret not in record.getMessage()
        assert secret not in repr(record.__dict__.get("fields"))


async def test_log_records_of_a_failing_request_hold_no_secrets(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:

    async def api(request: web.Request) -> web.Response:
        return web.json_response({"echo": request.headers.get("Authorization")}, status=503)

    base = await serve(web.get("/api", api))
    caplog.set_level(logging.DEBUG, logger="connector_kit.http")
    auth = BearerAuth(token="very-secret-bearer")
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.001)
    async with HTTPClient(base_url=base, auth=auth, retry=policy) as http:
        with pytest.raises(ConnectorError) as caught:
            await http.get_json("/api", params={"access_token": "query-secret"})
    assert len(caplog.records) == 2
    everything = caplog.text + str(caught.value)
    everything += "".join(repr(record.__dict__) for record in caplog.records)
    assert "very-secret-bearer" not in everything
    assert "query-secret" not in everything
