"""A local emulator of the Jira Cloud platform REST API v3 and Jira Software REST API 1.0.

It stands in for a Jira Cloud site in offline tests, demos and development: documented
response shapes, enhanced JQL search with token paging, time-zone-correct JQL dates,
truncated embedded lists, an eventually consistent search index, rate limiting and
faults, seeded deterministic data, and a Python control API.
"""

from .control import EmulatorControl, IssueRef
from .server import JiraEmulator
from .settings import (
    AccountSettings,
    EmbeddedLimits,
    EmulatorSettings,
    SearchSettings,
    SeedSettings,
)
from .testing import EmulatorHandle, EmulatorThread, running_emulator

__all__ = [
    "AccountSettings",
    "EmbeddedLimits",
    "EmulatorControl",
    "EmulatorHandle",
    "EmulatorSettings",
    "EmulatorThread",
    "IssueRef",
    "JiraEmulator",
    "SearchSettings",
    "SeedSettings",
    "running_emulator",
]
