"""The OAuth 2.0 (3LO) endpoints a Jira client meets besides the REST API.

`GET https://api.atlassian.com/oauth/token/accessible-resources` lists the sites (cloud
ids) an access token reaches; `POST https://auth.atlassian.com/oauth/token` exchanges a
refresh token for a new access token (and, with rotating refresh tokens, a new refresh
token). Both are served here on the emulator's own host.
"""

from __future__ import annotations

import json
import secrets

from aiohttp import web

from .appstate import Route, state_of
from .responses import ok


def _bearer_account_error() -> web.Response:
    return ok({"code": 401, "message": "Unauthorized"}, status=401)


# https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/ — "Get the cloudid
# for your site": GET /oauth/token/accessible-resources
async def accessible_resources(request: web.Request) -> web.StreamResponse:
    site = state_of(request).site
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    account = site.account_by_bearer(token.strip()) if scheme.lower() == "bearer" else None
    if account is None or (
        account.oauth_expires_at is not None and account.oauth_expires_at <= site.clock.now()
    ):
        return _bearer_account_error()
    return ok(
        [
            {
                "id": site.cloud_id,
                "url": f"{request.scheme}://{request.host}",
                "name": site.settings.site_name,
                "scopes": ["read:jira-work", "read:jira-user", "offline_access"],
                "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
            }
        ]
    )


def _oauth_error(status: int, code: str, description: str) -> web.Response:
    return ok({"error": code, "error_description": description}, status=status)


# Same guide — "Use a refresh token to get another access token": POST /oauth/token
async def exchange_token(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    site = state.site
    try:
        if request.content_type == "application/json":
            raw = await request.json()
            body = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        else:
            body = {k: str(v) for k, v in (await request.post()).items()}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _oauth_error(400, "invalid_request", "The request body could not be read.")
    if body.get("grant_type") != "refresh_token":
        return _oauth_error(400, "unsupported_grant_type", "Only refresh_token is supported.")
    if (
        body.get("client_id") != site.settings.oauth_client_id
        or body.get("client_secret") != site.settings.oauth_client_secret
    ):
        return _oauth_error(401, "access_denied", "Unauthorized")
    with site.lock:
        account = next(
            (
                a
                for a in site.accounts
                if a.oauth_refresh_token is not None
                and a.oauth_refresh_token == body.get("refresh_token")
            ),
            None,
        )
        if account is None:
            return _oauth_error(403, "unauthorized_client", "refresh_token is invalid")
        account.oauth_access_token = "emu-access-" + secrets.token_urlsafe(24)
        account.oauth_refresh_token = "emu-refresh-" + secrets.token_urlsafe(24)
        ttl = site.settings.oauth_access_token_ttl_s
        account.oauth_expires_at = site.clock.now() + ttl
        return ok(
            {
                "access_token": account.oauth_access_token,
                "refresh_token": account.oauth_refresh_token,
                "expires_in": int(ttl),
                "scope": "read:jira-work read:jira-user offline_access",
                "token_type": "Bearer",
            }
        )


def routes() -> list[Route]:
    return [
        Route(
            "GET",
            "/oauth/token/accessible-resources",
            accessible_resources,
            gateway=False,
            anonymous=True,
        ),
        Route("POST", "/oauth/token", exchange_token, gateway=False, anonymous=True),
    ]
