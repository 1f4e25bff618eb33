"""Credentials the HTTP client puts on requests, and the secrets each one must never leak.

An `Auth` gives the headers for a request, may get one chance to recover from a
401 (OAuth: refresh the access token), and lists its secret strings so the client
can redact them from every log line and error.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import orjson
import pydantic

from connector_kit.errors import ConfigError, SourceError
from connector_kit.http.response import Response


class TokenRequester(Protocol):
    """Posts to a token endpoint without auth, with the client's timeouts and retries."""

    async def __call__(
        self, *, url: str, form: Mapping[str, str] | None = None, json: Any = None
    ) -> Response: ...


class Auth(Protocol):
    async def authorize(self, *, request_token: TokenRequester) -> Mapping[str, str]:
        """The headers that authenticate one request."""
        ...

    async def refresh_after_unauthorized(
        self, *, rejected: Mapping[str, str], request_token: TokenRequester
    ) -> bool:
        """Called once per request after a 401; True means "try again with new headers"."""
        ...

    def secrets(self) -> set[str]: ...


@dataclass(frozen=True, kw_only=True)
class BasicAuth:
    username: str
    password: str = field(repr=False)

    @property
    def _credential(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return base64.b64encode(raw).decode("ascii")

    async def authorize(self, *, request_token: TokenRequester) -> Mapping[str, str]:
        return {"Authorization": f"Basic {self._credential}"}

    async def refresh_after_unauthorized(
        self, *, rejected: Mapping[str, str], request_token: TokenRequester
    ) -> bool:
        return False

    def secrets(self) -> set[str]:
        return {self.password, self._credential} if self.password else set()


@dataclass(frozen=True, kw_only=True)
class BearerAuth:
    token: str = field(repr=False)

    async def authorize(self, *, request_token: TokenRequester) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def refresh_after_unauthorized(
        self, *, rejected: Mapping[str, str], request_token: TokenRequester
    ) -> bool:
        return False

    def secrets(self) -> set[str]:
        return {self.token}


@dataclass(frozen=True, kw_only=True)
class HeaderTokenAuth:
    """A token in a header of the source's choosing, e.g. Keboola's `X-StorageApi-Token`."""

    header: str
    token: str = field(repr=False)

    async def authorize(self, *, request_token: TokenRequester) -> Mapping[str, str]:
        return {self.header: self.token}

    async def refresh_after_unauthorized(
        self, *, rejected: Mapping[str, str], request_token: TokenRequester
    ) -> bool:
        return False

    def secrets(self) -> set[str]:
        return {self.token}


class TokenResponse(pydantic.BaseModel):
    """The fields of an RFC 6749 token response this client uses."""

    model_config = pydantic.ConfigDict(extra="allow")

    access_token: str = pydantic.Field(min_length=1)
    expires_in: float | None = None
    refresh_token: str | None = None


class TokenErrorResponse(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")

    error: str = "unknown_error"
    error_description: str | None = None


# OAuth error codes (RFC 6749 §5.2) that point at the client registration rather than
# the refresh token.
_CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client"})


class OAuth2RefreshAuth:
    """Bearer tokens from an OAuth2 refresh-token grant.

    The access token is fetched on first use, again shortly before it expires, and
    once after a 401. An asyncio lock makes concurrent requests share one refresh.
    When the server rotates the refresh token, the new one replaces the old one, is
    available as `refresh_token`, and is passed to `on_refresh_token_rotated` so a
    connector can persist it.
    """

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        scopes: Sequence[str] = (),
        body_format: Literal["form", "json"] = "form",
        on_refresh_token_rotated: Callable[[str], None] | None = None,
        expiry_margin_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._scopes = tuple(scopes)
        self._body_format = body_format
        self._on_refresh_token_rotated = on_refresh_token_rotated
        self._expiry_margin_s = expiry_margin_s
        self._clock = clock
        self._access_token: str | None = None
        self._refresh_at: float | None = None
        self._retired: set[str] = set()
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"OAuth2RefreshAuth(token_url={self.token_url!r}, client_id={self.client_id!r})"

    @property
    def refresh_token(self) -> str:
        """The current refresh token: the latest one the server issued."""
        return self._refresh_token

    def secrets(self) -> set[str]:
        current = {self._client_secret, self._refresh_token, self._access_token or ""}
        return {secret for secret in current | self._retired if secret}

    def _needs_refresh(self) -> bool:
        if self._access_token is None:
            return True
        return self._refresh_at is not None and self._clock() >= self._refresh_at

    def _header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._access_token}"}

    async def authorize(self, *, request_token: TokenRequester) -> Mapping[str, str]:
        if self._needs_refresh():
            async with self._lock:
                if self._needs_refresh():
                    await self._refresh(request_token)
        return self._header()

    async def refresh_after_unauthorized(
        self, *, rejected: Mapping[str, str], request_token: TokenRequester
    ) -> bool:
        async with self._lock:
            # Another request may already have replaced the token that was rejected.
            if rejected.get("Authorization") == self._header()["Authorization"]:
                await self._refresh(request_token)
        return True

    async def _refresh(self, request_token: TokenRequester) -> None:
        payload = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token,
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        if self._scopes:
            payload["scope"] = " ".join(self._scopes)
        if self._body_format == "json":
            response = await request_token(url=self.token_url, json=payload)
        else:
            response = await request_token(url=self.token_url, form=payload)
        if response.status >= 400:
            raise self._refusal(response)
        token = self._parse(response)
        if self._access_token:
            self._retired.add(self._access_token)
        self._access_token = token.access_token
        self._refresh_at = None
        if token.expires_in is not None:
            margin = min(self._expiry_margin_s, token.expires_in / 2)
            self._refresh_at = self._clock() + token.expires_in - margin
        if token.refresh_token and token.refresh_token != self._refresh_token:
            self._retired.add(self._refresh_token)
            self._refresh_token = token.refresh_token
            if self._on_refresh_token_rotated is not None:
                self._on_refresh_token_rotated(token.refresh_token)

    def _parse(self, response: Response) -> TokenResponse:
        try:
            return TokenResponse.model_validate_json(response.body)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            # The body may hold tokens, so only the failing field is named.
            raise SourceError(
                f"the OAuth token endpoint {response.url} returned an unusable token response "
                f"({where}: {first['msg']})"
            ) from None

    def _refusal(self, response: Response) -> ConfigError:
        try:
            error = TokenErrorResponse.model_validate(orjson.loads(response.body))
        except (orjson.JSONDecodeError, pydantic.ValidationError):
            error = TokenErrorResponse()
        detail = error.error
        if error.error_description:
            detail += f": {response.redactor.snippet(error.error_description, limit=200)}"
        where = f"the OAuth token endpoint {response.url} ({response.status_line})"
        if error.error in _CLIENT_ERRORS or response.status == 401:
            return ConfigError(
                f"{where} rejected the OAuth client ({detail}): check the client id and "
                "client secret in the endpoint config"
            )
        if error.error == "invalid_grant":
            return ConfigError(
                f"{where} refused the refresh token ({detail}): it was revoked or has "
                "expired; authorize the connector again to get a new refresh token"
            )
        return ConfigError(
            f"{where} refused to refresh the access token ({detail}): check the OAuth "
            "settings in the endpoint config"
        )
