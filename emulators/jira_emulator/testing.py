"""Running the emulator from tests: an async context manager, a background thread for
synchronous tests and subprocess connectors, and pytest fixture factories.

    jira = emulator_fixture(EmulatorSettings(seed=SeedSettings(issues=50)))   # in conftest

    async def test_x(jira: EmulatorHandle) -> None:
        jira.control.add_comment("CORE-1", body="hi")
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from .control import EmulatorControl
from .server import JiraEmulator
from .settings import EmulatorSettings


@dataclass(frozen=True, slots=True)
class EmulatorHandle:
    base_url: str
    email: str
    api_token: str
    oauth_access_token: str | None
    cloud_id: str
    control: EmulatorControl
    emulator: JiraEmulator

    @property
    def gateway_url(self) -> str:
        """The OAuth 2.0 base: `{base_url}/ex/jira/{cloudId}`."""
        return f"{self.base_url}/ex/jira/{self.cloud_id}"

    def basic_auth_header(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def bearer_auth_header(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.oauth_access_token}"}


def _handle(emulator: JiraEmulator) -> EmulatorHandle:
    account = emulator.primary_account
    if emulator.base_url is None or account.user.email is None or account.api_token is None:
        raise RuntimeError("the emulator is not running, or its first account has no API token")
    return EmulatorHandle(
        base_url=emulator.base_url,
        email=account.user.email,
        api_token=account.api_token,
        oauth_access_token=account.oauth_access_token,
        cloud_id=emulator.site.cloud_id,
        control=emulator.control,
        emulator=emulator,
    )


@asynccontextmanager
async def running_emulator(
    settings: EmulatorSettings | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[EmulatorHandle]:
    """Serve an emulated site on the current event loop for the duration of the block."""
    emulator = JiraEmulator(settings)
    await emulator.start(host=host, port=port)
    try:
        yield _handle(emulator)
    finally:
        await emulator.stop()


class EmulatorThread:
    """Serve an emulated site from a background thread with its own event loop, so that
    synchronous tests and connectors running as subprocesses can reach it."""

    def __init__(
        self, settings: EmulatorSettings | None = None, *, host: str = "127.0.0.1"
    ) -> None:
        self._emulator = JiraEmulator(settings)
        self._host = host
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="jira-emulator", daemon=True
        )
        self.handle: EmulatorHandle | None = None

    def start(self) -> EmulatorHandle:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            self._emulator.start(host=self._host), self._loop
        )
        started.result(timeout=30)
        self.handle = _handle(self._emulator)
        return self.handle

    def stop(self) -> None:
        if self._thread.is_alive():
            stopped = asyncio.run_coroutine_threadsafe(self._emulator.stop(), self._loop)
            stopped.result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
        self._loop.close()

    def __enter__(self) -> EmulatorHandle:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


FixtureScope = Literal["session", "package", "module", "class", "function"]


def emulator_fixture(
    settings: EmulatorSettings | None = None, *, scope: FixtureScope = "function"
) -> object:
    """An async pytest fixture (pytest-asyncio) yielding an `EmulatorHandle`."""
    import pytest_asyncio

    async def jira_emulator() -> AsyncIterator[EmulatorHandle]:
        async with running_emulator(settings) as handle:
            yield handle

    return pytest_asyncio.fixture(scope=scope)(jira_emulator)


def threaded_emulator_fixture(
    settings: EmulatorSettings | None = None, *, scope: FixtureScope = "function"
) -> object:
    """A synchronous pytest fixture yielding an `EmulatorHandle` served from a thread."""
    import pytest

    def jira_emulator_thread() -> Iterator[EmulatorHandle]:
        with EmulatorThread(settings) as handle:
            yield handle

    return pytest.fixture(scope=scope)(jira_emulator_thread)
