"""What request handlers read from the running application: site, search, faults, log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from .faults import FaultPlan
from .records import Account
from .render_common import RenderContext
from .requestlog import RequestLog
from .search import SearchEngine
from .site import Site

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    # Served under https://api.atlassian.com/ex/jira/{cloudId} too (OAuth 2.0 calls).
    gateway: bool = True
    anonymous: bool = False


@dataclass(frozen=True, slots=True)
class EmulatorState:
    site: Site
    engine: SearchEngine
    faults: FaultPlan
    log: RequestLog


STATE = web.AppKey("jira_emulator_state", EmulatorState)
ACCOUNT = web.RequestKey("jira_emulator_account", Account)
BASE = web.RequestKey("jira_emulator_base", str)


def state_of(request: web.Request) -> EmulatorState:
    return request.app[STATE]


def account_of(request: web.Request) -> Account:
    try:
        return request[ACCOUNT]
    except KeyError:
        raise web.HTTPUnauthorized(
            text="Client must be authenticated to access this resource."
        ) from None


def render_context(request: web.Request) -> RenderContext:
    return RenderContext(
        site=state_of(request).site, account=account_of(request), base=request[BASE]
    )
