"""One emulated Jira Cloud site served over HTTP on a local port."""

from __future__ import annotations

import socket
import ssl

from aiohttp import web

from .appstate import EmulatorState
from .clock import EmulatorClock
from .control import EmulatorControl
from .faults import FaultPlan
from .http_app import build_app
from .records import Account
from .requestlog import RequestLog
from .search import SearchEngine
from .seed import build_site
from .settings import EmulatorSettings


class JiraEmulator:
    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self.settings = settings or EmulatorSettings()
        clock = EmulatorClock(start=self.settings.start_time)
        self.site = build_site(self.settings, clock=clock)
        faults = FaultPlan()
        log = RequestLog()
        state = EmulatorState(
            site=self.site, engine=SearchEngine(site=self.site), faults=faults, log=log
        )
        self.app = build_app(state)
        self.control = EmulatorControl(site=self.site, faults=faults, log=log)
        self._runner: web.AppRunner | None = None
        self.base_url: str | None = None

    @property
    def primary_account(self) -> Account:
        return self.site.accounts[0]

    async def start(
        self, *, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None
    ) -> str:
        """Serve on `host:port` (0 picks a free port), over TLS with `ssl_context` (for clients
        that only speak https, as Jira Cloud does); returns the base URL."""
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        await web.SockSite(runner, sock, ssl_context=ssl_context).start()
        self._runner = runner
        scheme = "https" if ssl_context is not None else "http"
        self.base_url = f"{scheme}://{host}:{sock.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
