"""The one async HTTP client every source connector uses.

It owns what each connector would otherwise get wrong on its own: timeouts on
every request, bounded retries that honour what the server asks for, per-host
pacing, authentication (with one refresh after a 401), parsing bodies into
models, and keeping secrets out of every log line and error it produces.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
import orjson
import pydantic
from yarl import URL

from connector_kit.errors import TransientError
from connector_kit.http.auth import Auth
from connector_kit.http.classify import (
    Rule,
    Verdict,
    classify_exception,
    classify_status,
    error_for,
)
from connector_kit.http.ratelimit import HostRateLimiter, RateLimit
from connector_kit.http.redact import Redactor
from connector_kit.http.response import Response
from connector_kit.http.retry import RetryPolicy

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=pydantic.BaseModel)

ParamValue = str | int | float | bool
Params = Mapping[str, ParamValue | Sequence[ParamValue] | None] | Sequence[tuple[str, ParamValue]]
"""Query parameters; a None value is left out, a list or tuple value repeats the name."""

FormData = Mapping[str, str] | bytes | str

DEFAULT_USER_AGENT = "connector-kit/0.1"


@dataclass(frozen=True, kw_only=True)
class Timeouts:
    """Per-attempt limits, so a stuck server cannot hang a capture.

    `read_s` bounds the silence between two reads from the socket; `total_s` bounds
    one whole attempt, body included (None: no total limit).
    """

    connect_s: float = 10.0
    read_s: float = 60.0
    total_s: float | None = 300.0

    def client_timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(
            total=self.total_s,
            connect=self.connect_s,
            sock_connect=self.connect_s,
            sock_read=self.read_s,
        )

    def describe(self) -> str:
        total = "none" if self.total_s is None else f"{self.total_s:g} s"
        return f"connect {self.connect_s:g} s, read {self.read_s:g} s, total {total}"


def _param_text(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _query_pairs(params: Params | None) -> list[tuple[str, str]]:
    if params is None:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, str]] = []
    for name, value in items:
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else (value,)
        pairs.extend((name, _param_text(each)) for each in values)
    return pairs


def _describe_exception(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True)
class _Outcome:
    """One failed attempt: the rule that applies and what to tell the user about it."""

    rule: Rule
    detail: str
    response: Response | None
    exception: BaseException | None


class HTTPClient:
    """An aiohttp session with timeouts, retries, rate limiting, auth and redaction.

    Use as `async with HTTPClient(base_url=..., auth=...) as http:`. All requests of
    one client share its connection pool and its per-host rate limits.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        auth: Auth | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimit | None = None,
        headers: Mapping[str, str] | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        secrets: Collection[str] = (),
    ) -> None:
        self._base_url = base_url
        self._auth = auth
        self._timeouts = timeouts or Timeouts()
        self._retry = retry or RetryPolicy()
        self._headers = {"User-Agent": user_agent, **(headers or {})}
        self.redactor = Redactor(secrets=secrets, sources=[auth.secrets] if auth else [])
        self._limiter = HostRateLimiter(
            rate_limit=rate_limit, max_pause_s=self._retry.max_server_wait_s
        )
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            headers=self._headers,
            timeout=self._timeouts.client_timeout(),
            raise_for_status=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def resolve(self, url: str) -> URL:
        """An absolute URL as is; a relative one appended to the base URL."""
        target = URL(url)
        if target.is_absolute():
            return target
        if self._base_url is None:
            raise ValueError(f"the relative URL {url!r} needs an HTTPClient with a base_url")
        return URL(self._base_url.rstrip("/") + "/" + url.lstrip("/"))

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Params | None = None,
        json: Any = None,
        data: FormData | None = None,
        headers: Mapping[str, str] | None = None,
        allow_statuses: Collection[int] = frozenset(),
    ) -> Response:
        """Send a request, retrying as the policy says; return the fully read response.

        A 2xx response, or one whose status is in `allow_statuses` (e.g. {404} for an
        item that may be gone), is returned; any other status raises the error the
        classification table gives, after retries where it allows them.
        """
        return await self._send(
            method=method.upper(),
            url=self.resolve(url).extend_query(_query_pairs(params)),
            json=json,
            data=data,
            headers=headers,
            allow_statuses=allow_statuses,
            use_auth=True,
        )

    async def get_json(
        self,
        url: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        response = await self.request(
            "GET", url, params=params, headers={"Accept": "application/json", **(headers or {})}
        )
        return response.json()

    async def get_model(
        self,
        model: type[M],
        url: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> M:
        response = await self.request(
            "GET", url, params=params, headers={"Accept": "application/json", **(headers or {})}
        )
        return response.parse_as(model)

    async def post_json(
        self,
        url: str,
        *,
        json: Any = None,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        response = await self.request(
            "POST",
            url,
            json=json,
            params=params,
            headers={"Accept": "application/json", **(headers or {})},
        )
        return response.json()

    async def post_model(
        self,
        model: type[M],
        url: str,
        *,
        json: Any = None,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> M:
        response = await self.request(
            "POST",
            url,
            json=json,
            params=params,
            headers={"Accept": "application/json", **(headers or {})},
        )
        return response.parse_as(model)

    async def _request_token(
        self, *, url: str, form: Mapping[str, str] | None = None, json: Any = None
    ) -> Response:
        # Token endpoints answer refusals with 400/401 and an OAuth error body, which
        # the auth reads itself; they get the same timeouts and retries as any request.
        return await self._send(
            method="POST",
            url=self.resolve(url),
            json=json,
            data=form,
            headers={"Accept": "application/json"},
            allow_statuses=frozenset({400, 401, 403}),
            use_auth=False,
        )

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("HTTPClient is not open: use it as `async with HTTPClient(...)`")
        return self._session

    async def _send(
        self,
        *,
        method: str,
        url: URL,
        json: Any,
        data: FormData | None,
        headers: Mapping[str, str] | None,
        allow_statuses: Collection[int],
        use_auth: bool,
    ) -> Response:
        session = self._open_session()
        if json is not None and data is not None:
            raise ValueError("pass either json or data, not both")
        base_headers = dict(headers or {})
        body: FormData | None = data
        if json is not None:
            body = orjson.dumps(json)
            base_headers.setdefault("Content-Type", "application/json")
        shown_url = self.redactor.url(url)
        host = f"{url.host}:{url.port}"
        auth = self._auth if use_auth else None
        refreshed_after_401 = False
        attempt = 0
        while True:
            attempt += 1
            await self._limiter.acquire(host)
            auth_headers = await auth.authorize(request_token=self._request_token) if auth else {}
            try:
                response = await self._exchange(
                    session,
                    method=method,
                    url=url,
                    headers={**base_headers, **auth_headers},
                    body=body,
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcome = self._failed_exchange(exc)
            else:
                self._note_quota(host, response)
                if 200 <= response.status < 300 or response.status in allow_statuses:
                    return response
                if response.status == 401 and auth is not None and not refreshed_after_401:
                    refreshed_after_401 = True
                    if await auth.refresh_after_unauthorized(
                        rejected=auth_headers, request_token=self._request_token
                    ):
                        attempt -= 1
                        continue
                outcome = self._failed_response(response)

            request_line = f"{method} {shown_url}"
            if not self._should_retry(outcome):
                rule = outcome.rule
                if rule.verdict is Verdict.RETRY:
                    rule = Rule(Verdict.FAIL, rule.explanation)
                raise error_for(rule, f"{request_line}: {outcome.detail}")
            if attempt >= self._retry.max_attempts:
                raise TransientError(
                    f"{request_line} failed after {attempt} attempt"
                    f"{'s' if attempt != 1 else ''}; the last one: {outcome.detail}"
                )
            delay = self._retry.delay_before_retry(
                attempt=attempt,
                headers=outcome.response.headers if outcome.response else None,
                status=outcome.response.status if outcome.response else None,
                now=time.time(),
            )
            self._log_retry(
                method=method, url=shown_url, outcome=outcome, attempt=attempt, delay_s=delay
            )
            await asyncio.sleep(delay)

    async def _exchange(
        self,
        session: aiohttp.ClientSession,
        *,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        body: FormData | None,
    ) -> Response:
        async with session.request(method, url, headers=headers, data=body) as raw:
            content = await raw.read()
            return Response(
                method=method,
                url=self.redactor.url(raw.url),
                status=raw.status,
                reason=raw.reason or "",
                headers=raw.headers,
                body=content,
                redactor=self.redactor,
            )

    def _failed_response(self, response: Response) -> _Outcome:
        rule = classify_status(status=response.status, reason=response.reason, body=response.body)
        detail = rule.explanation
        snippet = self.redactor.snippet(response.body)
        if snippet:
            detail += f"; the source said: {snippet}"
        return _Outcome(rule=rule, detail=detail, response=response, exception=None)

    def _failed_exchange(self, exc: BaseException) -> _Outcome:
        rule = classify_exception(exc)
        detail = f"{rule.explanation} ({self.redactor.text(_describe_exception(exc))})"
        if isinstance(exc, TimeoutError):
            detail += f"; timeouts: {self._timeouts.describe()}"
        return _Outcome(rule=rule, detail=detail, response=None, exception=exc)

    def _should_retry(self, outcome: _Outcome) -> bool:
        hook = self._retry.should_retry
        if hook is not None:
            decided = hook(outcome.response, outcome.exception)
            if decided is not None:
                return decided
        return outcome.rule.verdict is Verdict.RETRY

    def _note_quota(self, host: str, response: Response) -> None:
        paused = self._limiter.observe(host, response.headers)
        if paused:
            logger.info(
                "quota at %s is used up; pausing requests to it for %.2f s",
                host,
                paused,
                extra={"fields": {"host": host, "pause_s": round(paused, 3)}},
            )

    def _log_retry(
        self, *, method: str, url: str, outcome: _Outcome, attempt: int, delay_s: float
    ) -> None:
        status = outcome.response.status if outcome.response else None
        fields: dict[str, Any] = {
            "method": method,
            "url": url,
            "status": status,
            "attempt": attempt,
            "max_attempts": self._retry.max_attempts,
            "delay_s": round(delay_s, 3),
        }
        if outcome.exception is not None:
            fields["error"] = self.redactor.text(_describe_exception(outcome.exception))
        logger.warning(
            "retrying %s %s in %.2f s after attempt %d of %d: %s",
            method,
            url,
            delay_s,
            attempt,
            self._retry.max_attempts,
            outcome.rule.explanation,
            extra={"fields": fields},
        )
