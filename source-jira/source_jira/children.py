"""An issue's comments, worklogs, changelog entries and transitions, side-loaded from search.

JQL search returns each child list inside the issue, cut at 20 entries. A list whose
`total` says it holds more is read whole from the issue's own endpoint; every other
issue costs no request beyond its share of a search page. Every child document carries
the id and key of its issue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connector_kit.errors import SourceError
from connector_kit.http import HTTPClient
from source_jira import api
from source_jira.models import EmbeddedList, IssueHead

FetchAll = Callable[[HTTPClient, str], AsyncIterator[dict[str, Any]]]


@dataclass(frozen=True, kw_only=True)
class ChildList:
    """Where one kind of child sits in a search result, and how to read all of it."""

    fields: str
    """The search `fields` that bring the list (plus `updated`, which the cursor reads)."""
    expand: str
    container: tuple[str, ...]
    """Path from the issue to the object holding the list, or to the list itself."""
    items: str | None
    """Name of the list inside the container; None when the container is the list."""
    fetch_all: FetchAll | None


COMMENTS = ChildList(
    fields="comment,updated",
    expand="",
    container=("fields", "comment"),
    items="comments",
    fetch_all=lambda http, issue_id: api.fetch_issue_comments(http, issue_id=issue_id),
)
WORKLOGS = ChildList(
    fields="worklog,updated",
    expand="",
    container=("fields", "worklog"),
    items="worklogs",
    fetch_all=lambda http, issue_id: api.fetch_issue_worklogs(http, issue_id=issue_id),
)
CHANGELOGS = ChildList(
    fields="updated",
    expand="changelog",
    container=("changelog",),
    items="histories",
    fetch_all=lambda http, issue_id: api.fetch_issue_changelogs(http, issue_id=issue_id),
)
TRANSITIONS = ChildList(
    fields="updated", expand="transitions", container=("transitions",), items=None, fetch_all=None
)


def _embedded(kind: ChildList, issue: Mapping[str, Any], head: IssueHead) -> EmbeddedList:
    node: Any = issue
    for step in kind.container:
        node = node.get(step) if isinstance(node, Mapping) else None
    if node is None:
        return EmbeddedList(items=[], total=0)
    if kind.items is None:
        if not isinstance(node, list):
            raise SourceError(f"issue {head.key}: {'.'.join(kind.container)} is not a list")
        return EmbeddedList(items=node, total=len(node))
    if not isinstance(node, Mapping):
        raise SourceError(f"issue {head.key}: {'.'.join(kind.container)} is not an object")
    items = node.get(kind.items) or []
    total = node.get("total")
    return EmbeddedList.model_validate(
        {"items": items, "total": len(items) if total is None else total}
    )


def children_of(
    http: HTTPClient, *, kind: ChildList, issue: Mapping[str, Any], head: IssueHead
) -> list[dict[str, Any]] | Awaitable[list[dict[str, Any]]]:
    """The issue's children: from the search result, or (when it holds only part of them)
    a coroutine that reads them whole from the issue's endpoint."""
    embedded = _embedded(kind, issue, head)
    if embedded.truncated and kind.fetch_all is not None:
        return _fetched(kind.fetch_all(http, head.id), head=head)
    return [_with_issue(child, head) for child in embedded.items]


async def _fetched(
    source: AsyncIterator[dict[str, Any]], *, head: IssueHead
) -> list[dict[str, Any]]:
    return [_with_issue(child, head) async for child in source]


def _with_issue(child: dict[str, Any], head: IssueHead) -> dict[str, Any]:
    # Each child dict was parsed for this document alone, so it is completed in place.
    child["issueId"] = head.id
    child["issueKey"] = head.key
    return child
