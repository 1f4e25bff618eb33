"""Fixtures: emulated Jira sites with a frozen-in-time clock, and configs that reach them."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio

from jira_emulator import EmulatorHandle, EmulatorSettings, SeedSettings, running_emulator

# Just after the seed timeline (2025-10-01 .. 2025-11-10): every seeded change is older
# than the default lookback horizon, so a first session reads history exactly once.
SITE_NOW = datetime(2025, 11, 10, 12, 0, tzinfo=UTC)
START_DATE = "2025-09-01T00:00:00Z"

SMALL_SITE = EmulatorSettings(
    seed=SeedSettings(seed=5, issues=120, projects=3, heavy_fraction=0.1),
    start_time=SITE_NOW,
)

StartSite = Callable[[EmulatorSettings], Awaitable[EmulatorHandle]]


def site_settings(**changes: Any) -> EmulatorSettings:
    """SMALL_SITE with some settings changed (`seed=SeedSettings(...)` etc.)."""
    return dataclasses.replace(SMALL_SITE, **changes)


def config_for(jira: EmulatorHandle, **changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "site": jira.base_url,
        "credentials": {"auth_type": "api_token", "email": jira.email, "api_token": jira.api_token},
        "start_date": START_DATE,
    }
    config.update(changes)
    return config


@pytest_asyncio.fixture
async def start_site() -> AsyncIterator[StartSite]:
    """Start emulated sites with the given settings; they stop when the test ends."""
    async with AsyncExitStack() as stack:

        async def start(settings: EmulatorSettings) -> EmulatorHandle:
            return await stack.enter_async_context(running_emulator(settings))

        yield start


@pytest_asyncio.fixture
async def jira(start_site: StartSite) -> EmulatorHandle:
    return await start_site(SMALL_SITE)
