"""What an emulated site holds, and what a capture made of it, in comparable forms."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from jira_emulator import EmulatorHandle


def updated_ms(document: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(document["fields"]["updated"]).timestamp() * 1000)


def site_issues(jira: EmulatorHandle, *, since: datetime | None = None) -> dict[str, int]:
    """Issue id -> `updated` (epoch ms) of every issue on the site (updated at or after since)."""
    floor = int(since.timestamp() * 1000) if since is not None else 0
    found = {}
    for ref in jira.control.issue_refs():
        issue = jira.control.issue(ref.id)
        if issue.updated_ms >= floor:
            found[ref.id] = issue.updated_ms
    return found


def site_children(jira: EmulatorHandle, kind: str) -> set[tuple[str, str]]:
    """(child id, issue id) of every comment, worklog or changelog entry on the site."""
    attribute = {"comments": "comments", "worklogs": "worklogs", "changelogs": "histories"}[kind]
    found = set()
    for ref in jira.control.issue_refs():
        for child in getattr(jira.control.issue(ref.id), attribute):
            found.add((str(child.id), ref.id))
    return found


def latest_issues(documents: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Issue id -> `updated` of the last captured version of each issue (the reduced view)."""
    return {doc["id"]: updated_ms(doc) for doc in documents}


def child_keys(documents: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(doc["id"], doc["issueId"]) for doc in documents}
