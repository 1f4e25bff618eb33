"""Fixtures for the Jira emulator tests: a running emulator, an HTTP client, and the
published Jira Cloud OpenAPI document to validate responses against."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from jira_emulator import EmulatorHandle, EmulatorSettings, SeedSettings, running_emulator
from jira_emulator.testing import emulator_fixture

from .jira_http import JiraHttp
from .jira_openapi import OpenApiResponses

REPO_ROOT = Path(__file__).resolve().parents[3]
SPEC_PATH = REPO_ROOT / ".." / "shared" / "specs" / "jira-cloud-platform-openapi.json"

SMALL_SITE = EmulatorSettings(seed=SeedSettings(seed=7, issues=120, heavy_fraction=0.1))


jira = emulator_fixture(SMALL_SITE)


@pytest_asyncio.fixture
async def http(jira: EmulatorHandle) -> AsyncIterator[JiraHttp]:
    async with aiohttp.ClientSession(headers=jira.basic_auth_header()) as session:
        yield JiraHttp(session, base_url=jira.base_url)


@pytest_asyncio.fixture
async def anonymous(jira: EmulatorHandle) -> AsyncIterator[JiraHttp]:
    async with aiohttp.ClientSession() as session:
        yield JiraHttp(session, base_url=jira.base_url)


@pytest.fixture(scope="session")
def openapi() -> OpenApiResponses:
    if not SPEC_PATH.is_file():
        pytest.skip(
            f"the published Jira Cloud OpenAPI document is not at {SPEC_PATH.resolve()}; "
            "response shapes cannot be checked against it"
        )
    return OpenApiResponses.load(SPEC_PATH)


@pytest_asyncio.fixture
async def site_factory() -> AsyncIterator[Any]:
    """Start extra emulators with their own settings; all stop at the end of the test."""
    async with AsyncExitStack() as stack:

        async def start(settings: EmulatorSettings) -> EmulatorHandle:
            return await stack.enter_async_context(running_emulator(settings))

        yield start
