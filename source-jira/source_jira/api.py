"""Jira's REST endpoints as async functions with narrow keyword-only parameters.

Platform endpoints live under `/rest/api/3`, Jira Software's under `/rest/agile/1.0`
(both relative to the site, or to the OAuth gateway `/ex/jira/{cloudId}`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from connector_kit.http import HTTPClient, paginate, read_ahead
from source_jira.lists import SKIPPABLE, get_or_skip, list_pages
from source_jira.models import (
    BoardRef,
    IssueHead,
    MyPermissions,
    Myself,
    ProjectRef,
    SearchPage,
    ServerInfo,
    SprintRef,
)

API = "/rest/api/3"
AGILE = "/rest/agile/1.0"
_JSON = {"Accept": "application/json"}


# -- the account, the clock and what the account may read ---------------------------------


async def fetch_myself(http: HTTPClient) -> Myself:
    return await http.get_model(Myself, f"{API}/myself")


async def fetch_server_time(http: HTTPClient) -> datetime:
    """Jira's own clock: windows are cut by it, so a skewed local clock cannot lose updates."""
    return (await http.get_model(ServerInfo, f"{API}/serverInfo")).serverTime


async def fetch_my_permissions(http: HTTPClient, *, keys: Sequence[str]) -> dict[str, bool]:
    granted = await http.get_model(
        MyPermissions, f"{API}/mypermissions", params={"permissions": ",".join(keys)}
    )
    return {key: grant.havePermission for key, grant in granted.permissions.items()}


async def fetch_has_jira_software(http: HTTPClient) -> bool:
    """Whether the site has Jira Software and the account a license for it."""
    response = await http.request(
        "GET", f"{AGILE}/board", params={"maxResults": 1}, headers=_JSON, allow_statuses={403, 404}
    )
    return 200 <= response.status < 300


async def fetch_projects(http: HTTPClient) -> list[ProjectRef]:
    return [
        ProjectRef.model_validate(p)
        async for p in list_pages(http, path=f"{API}/project/search", params={"orderBy": "key"})
    ]


# -- issue search ----------------------------------------------------------------------------


def next_search_token(page: SearchPage) -> str | None:
    return None if page.isLast else page.nextPageToken


async def search_issues(
    http: HTTPClient, *, jql: str, fields: str, expand: str, page_size: int
) -> AsyncIterator[tuple[SearchPage, list[IssueHead]]]:
    """Pages of `/search/jql`, each with the parsed heads of its issues.

    The next page is requested while the caller processes the current one.
    """

    async def page(token: str | None) -> SearchPage:
        params = {
            "jql": jql,
            "fields": fields,
            "expand": expand or None,
            "maxResults": page_size,
            "nextPageToken": token,
        }
        return SearchPage.model_validate(await http.get_json(f"{API}/search/jql", params=params))

    async for body in read_ahead(paginate(page, next_search_token)):
        yield body, [IssueHead.model_validate(raw) for raw in body.issues]


# -- an issue's children, when the search result holds only part of them ---------------------


def fetch_issue_comments(http: HTTPClient, *, issue_id: str) -> AsyncIterator[dict[str, Any]]:
    return list_pages(
        http,
        path=f"{API}/issue/{issue_id}/comment",
        items="comments",
        params={"orderBy": "created"},
        skips=SKIPPABLE["issue"],
        what=f"the comments of issue {issue_id}",
    )


def fetch_issue_worklogs(http: HTTPClient, *, issue_id: str) -> AsyncIterator[dict[str, Any]]:
    return list_pages(
        http,
        path=f"{API}/issue/{issue_id}/worklog",
        items="worklogs",
        page_size=1000,
        skips=SKIPPABLE["issue"],
        what=f"the worklogs of issue {issue_id}",
    )


def fetch_issue_changelogs(http: HTTPClient, *, issue_id: str) -> AsyncIterator[dict[str, Any]]:
    return list_pages(
        http,
        path=f"{API}/issue/{issue_id}/changelog",
        skips=SKIPPABLE["issue"],
        what=f"the changelog of issue {issue_id}",
    )


# -- reference data --------------------------------------------------------------------------


async def snapshot_projects(
    http: HTTPClient, *, only: Collection[str]
) -> AsyncIterator[dict[str, Any]]:
    params = {"orderBy": "key", "expand": "description,lead,url,projectKeys,insight"}
    async for project in list_pages(http, path=f"{API}/project/search", params=params):
        if not only or project.get("key") in only:
            yield project


async def snapshot_project_versions(
    http: HTTPClient, *, only: Collection[str]
) -> AsyncIterator[dict[str, Any]]:
    for project in await fetch_projects(http):
        if only and project.key not in only:
            continue
        async for version in list_pages(
            http,
            path=f"{API}/project/{project.id}/version",
            skips=SKIPPABLE["project"],
            what=f"the versions of project {project.key}",
        ):
            yield version


async def snapshot_project_components(
    http: HTTPClient, *, only: Collection[str]
) -> AsyncIterator[dict[str, Any]]:
    for project in await fetch_projects(http):
        if only and project.key not in only:
            continue
        body = await get_or_skip(
            http,
            f"{API}/project/{project.id}/components",
            params={},
            skips=SKIPPABLE["project"],
            what=f"the components of project {project.key}",
        )
        for component in body or ():
            yield component


async def snapshot_labels(http: HTTPClient) -> AsyncIterator[dict[str, Any]]:
    async for label in list_pages(http, path=f"{API}/label", page_size=1000):
        yield {"label": label}


async def snapshot_permissions(http: HTTPClient) -> AsyncIterator[dict[str, Any]]:
    body = await http.get_json(f"{API}/permissions")
    for permission in (body.get("permissions") or {}).values():
        yield permission


async def snapshot_boards(
    http: HTTPClient, *, only: Collection[str]
) -> AsyncIterator[dict[str, Any]]:
    async for board in list_pages(http, path=f"{AGILE}/board", page_size=50):
        location = board.get("location") or {}
        if not only or location.get("projectKey") in only:
            yield board


async def snapshot_sprints(
    http: HTTPClient, *, only: Collection[str]
) -> AsyncIterator[dict[str, Any]]:
    seen: set[int] = set()
    async for raw in snapshot_boards(http, only=only):
        board = BoardRef.model_validate(raw)
        async for sprint in list_pages(
            http,
            path=f"{AGILE}/board/{board.id}/sprint",
            page_size=50,
            skips=SKIPPABLE["board"],
            what=f"the sprints of board {board.id}",
        ):
            # A sprint shows on every board that shares its project; capture it once.
            sprint_id = SprintRef.model_validate(sprint).id
            if sprint_id not in seen:
                seen.add(sprint_id)
                yield sprint


def _issue_ref_fields(issue: Mapping[str, Any]) -> tuple[str, str]:
    return str(issue["id"]), str(issue["key"])


async def snapshot_sprint_issues(
    http: HTTPClient, *, only: Collection[str]
) -> AsyncIterator[dict[str, Any]]:
    async for sprint in snapshot_sprints(http, only=only):
        sprint_id = SprintRef.model_validate(sprint).id
        async for issue in list_pages(
            http,
            path=f"{AGILE}/sprint/{sprint_id}/issue",
            items="issues",
            page_size=100,
            params={"fields": "updated"},
            skips=SKIPPABLE["sprint"],
            what=f"the issues of sprint {sprint_id}",
        ):
            issue_id, issue_key = _issue_ref_fields(issue)
            yield {
                "id": f"{sprint_id}-{issue_id}",
                "sprintId": sprint_id,
                "issueId": issue_id,
                "issueKey": issue_key,
                "updated": (issue.get("fields") or {}).get("updated"),
            }


async def snapshot_board_issues(
    http: HTTPClient, *, only: Collection[str]
) -> AsyncIterator[dict[str, Any]]:
    async for raw in snapshot_boards(http, only=only):
        board = BoardRef.model_validate(raw)
        async for issue in list_pages(
            http,
            path=f"{AGILE}/board/{board.id}/issue",
            items="issues",
            page_size=100,
            params={"fields": "updated"},
            skips=SKIPPABLE["board"],
            what=f"the issues of board {board.id}",
        ):
            issue_id, issue_key = _issue_ref_fields(issue)
            yield {
                "boardId": board.id,
                "id": issue_id,
                "key": issue_key,
                "updated": (issue.get("fields") or {}).get("updated"),
            }
