"""The aiohttp application: routes under the site URL and the OAuth gateway, and the
middlewares that log requests, inject faults and authenticate.

Authentication follows Jira Cloud: HTTP Basic with `email:api_token` against the site
URL; `Authorization: Bearer <OAuth 2.0 access token>` against
`https://api.atlassian.com/ex/jira/{cloudId}/...`, emulated here as the `/ex/jira/{cloudId}`
prefix of the same server.
"""

from __future__ import annotations

import asyncio
import base64
import binascii

from aiohttp import web

from . import routes_agile, routes_config, routes_issues, routes_oauth, routes_site
from .appstate import ACCOUNT, BASE, STATE, EmulatorState, Handler, Route, state_of
from .records import Account
from .requestlog import RequestRecord
from .responses import error, ok

GATEWAY_PREFIX = "/ex/jira/{cloudId}"
ROUTES = web.AppKey("jira_emulator_routes", dict[object, Route])
# Jira Cloud's answer to missing or wrong Basic credentials is this plain-text body.
BASIC_UNAUTHORIZED = "Client must be authenticated to access this resource."


def _gateway_unauthorized() -> web.Response:
    # api.atlassian.com answers a missing, unknown or expired bearer token like this.
    return ok({"code": 401, "message": "Unauthorized"}, status=401)


def _basic_unauthorized(request: web.Request) -> web.Response:
    return web.Response(
        status=401,
        text=BASIC_UNAUTHORIZED,
        content_type="text/plain",
        headers={"WWW-Authenticate": f'OAuth realm="{request.scheme}%3A%2F%2F{request.host}"'},
    )


def _route_of(request: web.Request) -> Route | None:
    return request.app[ROUTES].get(request.match_info.route.handler)


def _authenticate(request: web.Request, state: EmulatorState) -> Account | web.Response:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    via_gateway = "cloudId" in request.match_info
    if scheme.lower() == "bearer":
        account = state.site.account_by_bearer(credentials.strip())
        expired = (
            account is not None
            and account.oauth_expires_at is not None
            and account.oauth_expires_at <= state.site.clock.now()
        )
        if account is None or expired or not via_gateway:
            return _gateway_unauthorized()
        return account
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        email, _, token = decoded.partition(":")
        account = state.site.account_by_basic(email, token)
        if account is None:
            return _gateway_unauthorized() if via_gateway else _basic_unauthorized(request)
        return account
    return _gateway_unauthorized() if via_gateway else _basic_unauthorized(request)


@web.middleware
async def _log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = state_of(request)
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        account = request.get(ACCOUNT)
        who = None
        if isinstance(account, Account):
            who = account.user.email or account.user.account_id
        path = request.path
        if "cloudId" in request.match_info:
            path = path.split(request.match_info["cloudId"], 1)[-1]
        state.log.append(
            RequestRecord(
                method=request.method,
                path=path,
                query=request.query_string,
                status=status,
                account=who,
                at=state.site.clock.now(),
                issue=request.match_info.get("issueIdOrKey"),
            )
        )


@web.middleware
async def _inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = state_of(request)
    if _route_of(request) is None:
        return await handler(request)
    decision = state.faults.decide(path=request.path, now=state.site.clock.now())
    if decision.delay_s > 0:
        await asyncio.sleep(decision.delay_s)
    if decision.status is not None:
        refusal = error(decision.status, decision.message or "")
        refusal.headers.update(decision.headers)
        return refusal
    response = await handler(request)
    response.headers.update(decision.headers)
    return response


@web.middleware
async def _authenticate_request(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = state_of(request)
    route = _route_of(request)
    if route is None:
        return await handler(request)
    cloud_id = request.match_info.get("cloudId")
    base = f"{request.scheme}://{request.host}"
    if cloud_id is not None:
        if cloud_id != state.site.cloud_id:
            return ok({"code": 404, "message": "Not Found"}, status=404)
        base = f"{base}/ex/jira/{cloud_id}"
    request[BASE] = base
    if route.anonymous and (not route.gateway or "Authorization" not in request.headers):
        # OAuth endpoints check their own credentials; serverInfo allows anonymous calls.
        return await handler(request)
    outcome = _authenticate(request, state)
    if isinstance(outcome, web.Response):
        return outcome
    request[ACCOUNT] = outcome
    return await handler(request)


def all_routes() -> list[Route]:
    return [
        *routes_issues.routes(),
        *routes_site.routes(),
        *routes_config.routes(),
        *routes_agile.routes(),
        *routes_oauth.routes(),
    ]


def build_app(state: EmulatorState) -> web.Application:
    app = web.Application(middlewares=[_log_requests, _inject_faults, _authenticate_request])
    app[STATE] = state
    known: dict[object, Route] = {}
    for route in all_routes():
        known[route.handler] = route
        app.router.add_route(route.method, route.path, route.handler)
        if route.gateway:
            app.router.add_route(route.method, GATEWAY_PREFIX + route.path, route.handler)
    app[ROUTES] = known
    return app
